import assert from 'node:assert/strict'
import { createClient } from 'redis'
import { test } from 'node:test'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { redisStateStoreConformance } from '../helpers/state-store-conformance.ts'

redisStateStoreConformance('one server', {
  url: REDIS_URL,
  async flushScripts() {
    const admin = createClient({ url: REDIS_URL })
    await admin.connect()
    await admin.scriptFlush()
    await admin.close()
  }
})

test('Redis state store: an unreachable Redis fails with one clear retriable error', async () => {
  await assert.rejects(
    RedisStateStore.connect({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 500 }),
    (e: Error & { code?: string; retriable?: boolean }) => {
      assert.equal(e.code, 'DAROOGHE_ERR_REDIS')
      assert.equal(e.retriable, true)
      assert.match(e.message, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/)
      return true
    }
  )
})
