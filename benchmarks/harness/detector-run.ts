/**
 * One timed detector run, in-process: Kafka consumer and producer, a state store, the
 * default rules; from the first fetched batch to the moment the group's committed offsets
 * equal the input topic's end offsets (at-least-once: committed after outputs are acked).
 */
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { runDetector } from '../../src/apps/detector/index.ts'
import {
  createProcessor,
  loadRuleSet,
  processorOptions,
  type ProcessorTopics
} from '../../src/apps/processor/index.ts'
import { silentLogger } from '../../src/logger.ts'
import type { StateStore } from '../../src/ports/state-store.ts'
import { cpuSecondsPerThousand, ratePerSecond } from '../lib/stats.ts'
import type { LogBackend } from './backend.ts'
import { type BenchEnv, waitFor } from './env.ts'

export const BATCH_RECORDS = 5_000

export interface DetectorRun {
  readonly eventsPerSecond: number
  readonly cpuSecondsPer1000: number
  readonly peakRssMiB: number
  readonly outputs: Record<string, number>
}

/** Output topics under the run's prefix, created with `partitions` partitions. */
export async function outputTopics(
  env: BenchEnv,
  partitions: number,
  create: (names: readonly string[], partitions: number) => Promise<void> = env.createTopics
): Promise<ProcessorTopics> {
  const topics: ProcessorTopics = {
    approved: env.name('approved'),
    fraud: env.name('fraud'),
    alerts: env.name('alerts'),
    errors: env.name('errors')
  }
  await create(Object.values(topics), partitions)
  return topics
}

export async function openStore(
  env: BenchEnv,
  kind: 'redis' | 'memory',
  keyPrefix: string
): Promise<StateStore> {
  return kind === 'redis'
    ? await RedisStateStore.connect({ url: env.redisUrl, keyPrefix })
    : new MemoryStateStore()
}

export async function closeStore(store: StateStore): Promise<void> {
  if (store instanceof RedisStateStore) await store.clear()
  await store.close()
}

export async function measureDetector(
  env: BenchEnv,
  backend: LogBackend,
  input: string,
  partitions: number,
  expected: number,
  storeKind: 'redis' | 'memory'
): Promise<DetectorRun> {
  const topics = await outputTopics(env, partitions, backend.createTopics)
  const group = env.name('detector-group')
  const store = await openStore(env, storeKind, `${env.runId}:${group}:`)
  const processor = createProcessor({
    store,
    ruleSet: loadRuleSet('default'),
    options: processorOptions({ topics }),
    // As `darooghe detect` in its default at-least-once mode.
    delivery: 'outputs-first'
  })
  const consumer = backend.consumer({
    groupId: group,
    topics: [input],
    maxBatchRecords: BATCH_RECORDS,
    clientId: 'darooghe-bench-detect'
  })
  const producer = backend.producer('darooghe-bench-detect')
  const outputs: Record<string, number> = { approved: 0, fraud: 0, alerts: 0, errors: 0 }
  let records = 0
  let t0 = 0
  let peakRss = 0
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
  }, 50)
  const abort = new AbortController()
  const running = runDetector({
    consumer,
    producer,
    processor,
    log: silentLogger,
    signal: abort.signal,
    onBatch: (stats, n) => {
      // receivedAtMs is when the first fetched batch reached the detector: the clock starts there.
      if (t0 === 0) t0 = stats.receivedAtMs
      records += n
      outputs.approved! += stats.approved
      outputs.fraud! += stats.fraud
      outputs.alerts! += stats.alerts
      outputs.errors! += stats.errors
    }
  })
  let failure: unknown = null
  running.catch(e => (failure = e))
  // CPU is counted from before the group join: the join is cheap next to 100k+ events.
  const cpu0 = process.cpuUsage()
  await waitFor(() => failure !== null || records >= expected, 600_000, 10)
  const end = await backend.admin.endOffsets(input)
  await waitFor(
    async () => failure !== null || sameOffsets(await backend.admin.committedOffsets(group, input), end),
    60_000,
    10
  )
  const t1 = Date.now()
  const cpu = process.cpuUsage(cpu0)
  clearInterval(rssTimer)
  abort.abort()
  await consumer.close()
  await running.catch(() => {})
  await producer.close()
  await closeStore(store)
  if (failure !== null) throw failure
  // Neither a decision nor an error: a skipped duplicate (late payments are decided).
  outputs.duplicate = records - outputs.approved! - outputs.fraud! - outputs.errors!
  return {
    eventsPerSecond: ratePerSecond(records, t1 - t0),
    cpuSecondsPer1000: cpuSecondsPerThousand(cpu.user + cpu.system, records),
    peakRssMiB: peakRss / 2 ** 20,
    outputs
  }
}

function sameOffsets(committed: readonly number[], end: readonly number[]): boolean {
  return committed.length === end.length && committed.every((o, i) => o === end[i])
}
