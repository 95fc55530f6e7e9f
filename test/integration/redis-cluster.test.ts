import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createCluster } from 'redis'
import { connectRedis } from '../../src/adapters/redis/connect.ts'
import { RedisDecisionStore } from '../../src/adapters/redis/decision-store.ts'
import { keySlot } from '../../src/adapters/redis/key-slot.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { decisionStoreConformance } from '../helpers/decision-store-conformance.ts'
import { REDIS_CLUSTER_URL, uniqueName } from '../helpers/services.ts'
import { redisStateStoreConformance } from '../helpers/state-store-conformance.ts'

/** Runs `fn` on every master of the cluster. */
async function onMasters(fn: (port: number, run: (args: string[]) => Promise<unknown>) => Promise<void>) {
  const cluster = createCluster({ rootNodes: [{ url: REDIS_CLUSTER_URL }] })
  await cluster.connect()
  try {
    for (const m of cluster.masters) {
      const node = await cluster.nodeClient(m)
      await fn(m.port, args => node.sendCommand(args))
    }
  } finally {
    await cluster.close()
  }
}

redisStateStoreConformance('cluster', {
  url: REDIS_CLUSTER_URL,
  flushScripts: () => onMasters(async (_, run) => void (await run(['SCRIPT', 'FLUSH'])))
})

decisionStoreConformance('redis cluster', async () => {
  const keyPrefix = `${uniqueName('decision-store')}:`
  const store = await RedisDecisionStore.connect({ url: REDIS_CLUSTER_URL, keyPrefix })
  return {
    store,
    cleanup: async () => {
      const keys = await RedisStateStore.connect({ url: REDIS_CLUSTER_URL, keyPrefix })
      await keys.clear()
      await keys.close()
    }
  }
})

test('Redis Cluster: one node URL is detected as a cluster, and the only node of a list too', async () => {
  for (const url of [REDIS_CLUSTER_URL, `${REDIS_CLUSTER_URL},redis://127.0.0.1:1`]) {
    const link = await connectRedis({ url })
    assert.equal(link.kind, 'cluster', url)
    if (link.kind === 'cluster') {
      assert.equal(link.cluster.masters.length, 3)
      await link.cluster.close()
    }
  }
})

test('Redis Cluster: a fenced write of ten partitions lands on several masters, atomic per partition', async t => {
  const prefix = `${uniqueName('cluster')}:`
  const store = await RedisStateStore.connect({ url: REDIS_CLUSTER_URL, keyPrefix: prefix })
  t.after(async () => {
    await store.clear()
    await store.close()
  })
  const parts = Array.from({ length: 10 }, (_, p) => `{g:t:${p}}`)
  await store.writeBatch(
    parts.flatMap(tag => [[`${tag}:p`, '1'] as const, [`${tag}:c:x`, `${tag}-v1`] as const]),
    [],
    parts.map(tag => [`${tag}:p`, null] as const),
    parts.map(tag => [`${tag}:j`, Buffer.from('ab')] as const)
  )
  // The partitions are spread: their keys are on more than one master.
  const owners = new Set<number>()
  await onMasters(async (port, run) => {
    const [, keys] = (await run(['SCAN', '0', 'MATCH', `${prefix}*`, 'COUNT', '100000'])) as [
      string,
      string[]
    ]
    if (keys.length > 0) owners.add(port)
  })
  assert.ok(owners.size >= 2, `the partitions' keys are on ${owners.size} master(s)`)
  assert.deepEqual(
    await store.getMany(parts.map(tag => `${tag}:c:x`)),
    parts.map(tag => `${tag}-v1`)
  )
  // Partition 3's guard is stale: its part writes nothing, and the write fails as a conflict.
  await assert.rejects(
    store.writeBatch(
      parts.flatMap(tag => [[`${tag}:p`, '2'] as const, [`${tag}:c:x`, `${tag}-v2`] as const]),
      [],
      parts.map((tag, i) => [`${tag}:p`, i === 3 ? '0' : '1'] as const)
    ),
    { code: 'DAROOGHE_ERR_STATE_CONFLICT' }
  )
  assert.deepEqual(await store.getMany([`${parts[3]}:p`, `${parts[3]}:c:x`]), ['1', `${parts[3]}-v1`])
  assert.deepEqual(await store.getMany([`${parts[4]}:p`, `${parts[4]}:c:x`]), ['2', `${parts[4]}-v2`])
  assert.deepEqual(await store.getManyBytes([`${parts[0]}:j`]), [Buffer.from('ab')])
})

test("Redis Cluster: a fenced write with a key outside its guards' hash slots is refused, nothing written", async t => {
  const prefix = `${uniqueName('cluster')}:`
  const store = await RedisStateStore.connect({ url: REDIS_CLUSTER_URL, keyPrefix: prefix })
  t.after(async () => {
    await store.clear()
    await store.close()
  })
  assert.notEqual(keySlot(`${prefix}{g:t:0}:p`), keySlot(`${prefix}c:untagged`))
  await assert.rejects(
    store.writeBatch(
      [
        ['{g:t:0}:p', '1'],
        ['c:untagged', 'v']
      ],
      [],
      [['{g:t:0}:p', null]]
    ),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'DAROOGHE_ERR_INTERNAL')
      assert.match(e.message, /'c:untagged' is in a Redis Cluster hash slot none of its guards is in/)
      return true
    }
  )
  assert.deepEqual(await store.getMany(['{g:t:0}:p', 'c:untagged']), [null, null])
})
