import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { createClient, createCluster } from 'redis'
import { KafkaLogAdmin } from '../../src/adapters/kafka/index.ts'
import { keySlot } from '../../src/adapters/redis/key-slot.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import type { GeneratedRecord } from '../../src/apps/generator/index.ts'
import { runCli, start } from '../helpers/cli.ts'
import {
  detectorArgs,
  generate,
  type Json,
  makeTopics,
  parse,
  produceAll,
  readTopics,
  waitCommitted
} from '../helpers/pipeline.ts'
import { KAFKA_BROKERS, REDIS_CLUSTER_URL, SERVICES_DIR, uniqueName, waitFor } from '../helpers/services.ts'

const ERRORS = new Set([
  'invalid_amount',
  'invalid_time_future',
  'invalid_time_old',
  'invalid_device',
  'invalid_schema',
  'malformed_json'
])

/** The decision content that depends on state (not on processing time). */
const content = (v: Json): string => JSON.stringify([v.decision, v.risk_score, v.rules_fired, v.trace])

async function committed(group: string, topic: string): Promise<number[]> {
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  try {
    return await admin.committedOffsets(group, topic)
  } finally {
    await admin.close()
  }
}
const committedTotal = async (group: string, topic: string): Promise<number> =>
  (await committed(group, topic)).reduce((a, b) => a + Math.max(0, b), 0)

async function nodeInfo(port: number, section: string): Promise<string> {
  const c = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } })
  c.on('error', () => {})
  await c.connect()
  try {
    return await c.info(section)
  } finally {
    c.destroy()
  }
}

/** The master and first replica that serve the hash slot of `key`. */
async function shardOf(key: string): Promise<{ master: number; replica: number }> {
  const cluster = createCluster({ rootNodes: [{ url: REDIS_CLUSTER_URL }], useReplicas: true })
  await cluster.connect()
  try {
    const shard = cluster.slots[keySlot(key)]!
    assert.ok(shard.replicas && shard.replicas.length > 0, 'the master has a replica')
    return { master: shard.master.port, replica: shard.replicas[0]!.port }
  } finally {
    await cluster.close()
  }
}

/** Decisions of a file-mode run (`darooghe detect -i`) per Kafka partition: the reference. */
async function fileModeDecisions(records: readonly GeneratedRecord[], partitionOf: Map<string, number>) {
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-failover-'))
  const out = new Map<string, string>()
  try {
    for (const p of new Set(partitionOf.values())) {
      const input = join(dir, `p${p}.ndjson`)
      const output = join(dir, `p${p}.out.ndjson`)
      writeFileSync(
        input,
        records
          .filter(r => partitionOf.get(r.transactionId) === p)
          .map(r => `${r.raw}\n`)
          .join('')
      )
      const run = await runCli(['detect', '-i', input, '-o', output, '--quiet'])
      assert.equal(run.code, 0, run.stderr)
      for (const line of readFileSync(output, 'utf8').split('\n')) {
        if (line === '') continue
        const v = (JSON.parse(line) as { value: Json }).value
        if (v.decision !== undefined && v.alert_id === undefined)
          out.set(v.transaction_id as string, content(v))
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return out
}

test(
  'detect on a Redis Cluster: a master killed under load fails over and rejoins; decisions as a file-mode run',
  { timeout: 300_000 },
  async t => {
    const topics = await makeTopics(t)
    const records = generate(20_000, 'cluster-failover')
    const group = uniqueName('g-failover')
    t.after(async () => {
      const store = await RedisStateStore.connect({ url: REDIS_CLUSTER_URL, keyPrefix: `darooghe:${group}:` })
      await store.clear()
      await store.close()
    })
    const d = start([
      'detect',
      ...detectorArgs(topics, group),
      '--redis',
      REDIS_CLUSTER_URL,
      '--batch-size',
      '500',
      '--log-level',
      'warn'
    ])
    t.after(() => d.child.kill('SIGKILL'))

    // Events flow at about 1 250/s; the second half only once the master is killed, so that
    // they flow through the failover.
    let produced = 0
    let killed!: () => void
    const afterKill = new Promise<void>(resolve => (killed = resolve))
    const producing = (async () => {
      for (let i = 0; i < records.length; i += 250) {
        if (i === records.length / 2) await afterKill
        await produceAll(topics.input, records.slice(i, i + 250))
        produced = i + 250
        await delay(200)
      }
    })()
    await waitFor(async () => (await committedTotal(group, topics.input)) >= 2_000, {
      what: 'the detector to commit 2 000 events',
      timeoutMs: 90_000,
      intervalMs: 100
    })

    // The master of partition 0's state dies.
    const victim = await shardOf(`darooghe:${group}:{${topics.input}:0}:p`)
    const pid = Number(/process_id:(\d+)/.exec(await nodeInfo(victim.master, 'server'))![1])
    const partition0AtKill = (await committed(group, topics.input))[0]!
    const killedAt = performance.now()
    const producedAtKill = produced
    process.kill(pid, 'SIGKILL')
    killed()
    await waitFor(async () => /role:master/.test(await nodeInfo(victim.replica, 'replication')), {
      what: `the replica on ${victim.replica} to take over`,
      timeoutMs: 60_000,
      intervalMs: 100
    })
    const failedOverMs = performance.now() - killedAt
    // Partition 0's state lives on the failed master: its progress shows the detector back on it.
    await waitFor(async () => (await committed(group, topics.input))[0]! > partition0AtKill, {
      what: 'the detector to commit partition 0 again after the failover',
      timeoutMs: 60_000,
      intervalMs: 100
    })
    const resumedMs = performance.now() - killedAt

    // The old master comes back and rejoins as a replica of the new one.
    const conf = join(SERVICES_DIR, 'redis-cluster', String(victim.master), 'redis.conf')
    const restart = spawnSync('redis-server', [conf], { encoding: 'utf8' })
    assert.equal(restart.status, 0, `redis-server ${conf}: ${restart.stderr}`)
    await waitFor(
      async () => {
        const info = await nodeInfo(victim.master, 'replication')
        return (
          /role:slave/.test(info) &&
          /master_link_status:up/.test(info) &&
          info.includes(`master_port:${victim.replica}`)
        )
      },
      {
        what: `${victim.master} to rejoin as a replica of ${victim.replica}`,
        timeoutMs: 60_000,
        intervalMs: 100
      }
    )
    const rejoinedMs = performance.now() - killedAt

    await producing
    await waitCommitted(group, topics.input)
    d.child.kill('SIGTERM')
    await d.exited

    const valid = records.filter(r => !ERRORS.has(r.label))
    const outputs = await readTopics([topics.approved, topics.fraud], recs => {
      const ids = new Set(recs.map(r => parse(r).transaction_id))
      return ids.size >= valid.length
    })
    const first = new Map<string, string>()
    const partitionOf = new Map<string, number>()
    let reemitted = 0
    for (const r of outputs) {
      const v = parse(r)
      const id = v.transaction_id as string
      const bytes = r.value!.toString()
      const prev = first.get(id)
      if (prev === undefined) first.set(id, bytes)
      else {
        reemitted++
        assert.equal(bytes, prev, `a re-emitted decision for ${id} is byte-identical`)
      }
      partitionOf.set(id, (v.source as { partition: number }).partition)
    }
    assert.equal(first.size, valid.length, 'one decision per valid event')
    for (const r of valid) assert.ok(first.has(r.transactionId), `${r.transactionId} was decided`)
    const reference = await fileModeDecisions(valid, partitionOf)
    assert.equal(reference.size, valid.length)
    for (const [id, bytes] of first) {
      assert.equal(
        content(JSON.parse(bytes) as Json),
        reference.get(id),
        `decision for ${id} as in file mode`
      )
    }
    t.diagnostic(
      `killed ${victim.master} after ${producedAtKill} events produced; replica ${victim.replica} master after ${Math.round(failedOverMs)} ms, ` +
        `partition 0 committed again after ${Math.round(resumedMs)} ms, old master a replica after ${Math.round(rejoinedMs)} ms; ` +
        `${reemitted} byte-identical re-emits; ${d.stderr.split('\n').filter(l => /redis/i.test(l)).length} Redis warnings`
    )
  }
)
