import { RedisDecisionStore } from '../../src/adapters/redis/decision-store.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { decisionStoreConformance } from '../helpers/decision-store-conformance.ts'
import { REDIS_URL, uniqueName } from '../helpers/services.ts'

decisionStoreConformance('redis', async () => {
  const keyPrefix = `${uniqueName('decision-store')}:`
  const store = await RedisDecisionStore.connect({ url: REDIS_URL, keyPrefix })
  return {
    store,
    cleanup: async () => {
      const keys = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix })
      await keys.clear()
      await keys.close()
    }
  }
})
