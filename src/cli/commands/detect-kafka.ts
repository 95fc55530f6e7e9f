import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../adapters/kafka/index.ts'
import { MemoryStateStore } from '../../adapters/memory/state-store.ts'
import { RedisStateStore, redact } from '../../adapters/redis/state-store.ts'
import { addBatch, emptyTotals, runDetector, StageLog, type BatchStages } from '../../apps/detector/index.ts'
import { seedProfiles, systemClock, type BatchStats } from '../../apps/processor/index.ts'
import { readLines } from '../../adapters/file/index.ts'
import { brokersFrom, logLevelFrom, redisFrom } from '../../config/connections.ts'
import { DaroogheError } from '../../errors.ts'
import { createLogger } from '../../logger.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { retryOptions, withRetry } from '../../retry.ts'
import { kafkaError } from '../../adapters/kafka/errors.ts'
import { resilienceFrom } from './retry-flag.ts'
import { Metrics } from '../../observability/metrics.ts'
import { processorFromFlags, type DetectFlags } from './detect.ts'
import { startMetricsApi } from './metrics-api.ts'

export interface KafkaDetectFlags extends DetectFlags {
  brokers?: string
  redis?: string
  memoryState?: boolean
  group?: string
  topic?: string
  approvedTopic?: string
  fraudTopic?: string
  alertsTopic?: string
  errorsTopic?: string
  partitions?: string
  statusInterval?: string
  logLevel?: string
  exactlyOnce?: boolean
  instanceId?: string
  metricsPort?: string
  /** Write the stage timeline (one JSON line per batch and per GC) to this file. */
  stageLog?: string
  /** Stop once the group has committed the end offsets the input had at start (replay). */
  untilEnd?: boolean
  /** Give up once a dependency has been failing this long (a duration); default unlimited. */
  retryFor?: string
}

/** Kafka mode: consume the transactions topic in a group, state in Redis, outputs to Kafka. */
export async function runKafkaDetect(flags: KafkaDetectFlags): Promise<void> {
  const env = process.env
  const log = createLogger('detect', logLevelFrom(flags.logLevel, env))
  const brokers = brokersFrom(flags.brokers, env)
  const input = flags.topic ?? env.TRANSACTIONS_TOPIC ?? 'darooghe.transactions'
  const groupId = flags.group ?? env.DAROOGHE_GROUP ?? 'darooghe-detector'
  const batchSize = Number(flags.batchSize)
  const partitions = Number(flags.partitions ?? 6)
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new DaroogheError('USAGE', `--partitions must be a positive integer (got '${flags.partitions}')`)
  }
  const abort = new AbortController()
  const metrics = new Metrics()
  // One retry policy (--retry-for) for every call to Kafka and Redis, reported to /health and
  // the metrics while it retries.
  const resilience = resilienceFrom(
    flags,
    env,
    log,
    flags.memoryState ? ['kafka'] : ['kafka', 'redis'],
    metrics
  )
  const retry = (dependency: 'kafka' | 'redis') =>
    retryOptions(resilience, { signal: abort.signal, dependency })

  let store: StateStore
  if (flags.memoryState) {
    store = new MemoryStateStore()
  } else {
    const url = redisFrom(flags.redis, env)
    store = await withRetry(
      `connect to Redis at ${redact(url)}`,
      () => RedisStateStore.connect({ url }),
      log,
      retry('redis')
    )
  }
  if (flags.profiles !== undefined)
    await seedProfiles(store, readLines(flags.profiles), { source: flags.profiles })

  const processor = processorFromFlags(
    {
      ...flags,
      // State belongs to the application (the group), as Kafka Streams' application.id.
      keyPrefix: `${groupId}:`,
      topics: {
        approved: flags.approvedTopic ?? env.LEGIT_TOPIC,
        fraud: flags.fraudTopic ?? env.FRAUD_TOPIC,
        alerts: flags.alertsTopic,
        errors: flags.errorsTopic
      }
    },
    store,
    systemClock,
    // Exactly-once commits offsets with the outputs: the state must be durable before them.
    flags.exactlyOnce ? 'state-first' : 'outputs-first'
  )
  const t = processor.options.topics
  // Reply topics too: a reply to a topic that does not exist would hold up its whole batch.
  const outputs = [t.approved, t.fraud, t.alerts, t.errors, ...processor.options.replyTopics]
  await withRetry(
    `create the topics on Kafka at ${brokers.join(',')}`,
    async () => {
      const admin = new KafkaLogAdmin({ brokers, retries: 0, timeoutMs: 5_000 })
      try {
        await admin.createTopics([input, ...outputs].map(name => ({ name, partitions })))
      } catch (cause) {
        throw kafkaError('cannot create topics', cause)
      } finally {
        await admin.close().catch(() => {})
      }
    },
    log,
    retry('kafka')
  )

  // Exactly-once: outputs and offsets in one Kafka transaction. Zombies are fenced by the
  // group generation carried in TxnOffsetCommit (KIP-447), so the transactional id need not be
  // stable; it is unique per process start because @platformatic/kafka 1.35 cannot re-initialise
  // a transactional id whose previous owner crashed mid-transaction (InitProducerId keeps failing).
  // A crashed instance's open transaction is rolled back by the broker after the timeout below.
  const transactionalId = flags.exactlyOnce
    ? `darooghe-${groupId}-${flags.instanceId ?? hostname()}-${randomUUID().slice(0, 8)}`
    : undefined
  const producer = new KafkaLogProducer({
    brokers,
    clientId: 'darooghe-detect',
    retries: 2,
    resilience,
    // The client uses its request timeout as the transaction timeout: a crashed instance's open
    // transaction blocks read_committed readers (and its successor) at most this long.
    ...(transactionalId ? { transactionalId, timeoutMs: 10_000 } : {})
  })
  const consumer = new KafkaLogConsumer({
    brokers,
    groupId,
    topics: [input],
    maxBatchRecords: batchSize,
    clientId: 'darooghe-detect',
    resilience,
    ...(transactionalId ? { transactionalProducer: producer } : {})
  })
  const totals = emptyTotals()
  const statusEvery = Number(flags.statusInterval ?? 10) * 1000
  let lastStatus = Date.now()
  let lastRecords = 0
  // Optional /metrics and /health of this detector, on the same API as `darooghe serve`.
  let api: Awaited<ReturnType<typeof startMetricsApi>> | null = null
  if (flags.metricsPort !== undefined)
    api = await startMetricsApi(
      metrics,
      flags.metricsPort,
      flags.memoryState ? {} : { redis: () => store.ping() },
      resilience.health
    )
  // Consumer lag (end offset − committed offset per partition) for /metrics, every 5 s.
  const lagAdmin = api ? new KafkaLogAdmin({ brokers, retries: 0, timeoutMs: 5_000 }) : null
  const lagTimer = lagAdmin
    ? setInterval(() => {
        void Promise.all([lagAdmin.endOffsets(input), lagAdmin.committedOffsets(groupId, input)])
          .then(([ends, committed]) => {
            ends.forEach((end, p) =>
              metrics.setConsumerLag(input, p, Math.max(0, end - Math.max(0, committed[p] ?? 0)))
            )
          })
          .catch(() => {})
      }, 5_000)
    : null
  const onBatch = (s: BatchStats): void => {
    metrics.observeBatch(s)
    addBatch(totals, s)
    const now = Date.now()
    if (statusEvery > 0 && now - lastStatus >= statusEvery) {
      const rate = Math.round(((totals.records - lastRecords) * 1000) / (now - lastStatus))
      log.info({ ...totals, eventsPerSecond: rate }, 'status')
      lastStatus = now
      lastRecords = totals.records
    }
  }

  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    log.info('stopping: finishing the current batch, committing, closing')
    abort.abort()
    void consumer.close()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const doneTimer = flags.untilEnd
    ? await withRetry(
        'read the end offsets',
        () => stopAtEnd(brokers, input, groupId, stop),
        log,
        retry('kafka')
      )
    : null
  log.info(
    {
      brokers,
      input,
      groupId,
      outputs,
      rules: processor.ruleSet.name,
      state: flags.memoryState ? 'memory' : 'redis'
    },
    'detector started'
  )
  const stageLog = flags.stageLog === undefined ? null : new StageLog(flags.stageLog)
  try {
    await runDetector({
      consumer,
      producer,
      processor,
      log,
      signal: abort.signal,
      resilience,
      onBatch,
      // A worker of `detect --workers` tells its parent it is in the group (see detect-workers.ts).
      onAssignment: () => process.send?.({ darooghe: 'joined' }),
      ...(stageLog ? { onStages: (s: BatchStages) => stageLog.batch(s) } : {})
    })
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await consumer.close().catch(() => {})
    await producer.close().catch(() => {})
    await store.close().catch(() => {})
    if (lagTimer) clearInterval(lagTimer)
    await doneTimer?.close()
    await lagAdmin?.close().catch(() => {})
    await api?.close()
    await stageLog?.close()
    log.info(totals, 'detector stopped')
  }
}

/** Calls `stop` once the group's committed offsets reach the input's end offsets as of now. */
async function stopAtEnd(
  brokers: string[],
  topic: string,
  groupId: string,
  stop: () => void
): Promise<{ close: () => Promise<void> }> {
  const admin = new KafkaLogAdmin({ brokers, retries: 0, timeoutMs: 5_000 })
  let ends: number[]
  try {
    ends = await admin.endOffsets(topic)
  } catch (cause) {
    await admin.close().catch(() => {})
    throw kafkaError(`reading the end offsets of '${topic}'`, cause)
  }
  let checking = false
  const timer = setInterval(() => {
    if (checking) return
    checking = true
    void admin
      .committedOffsets(groupId, topic)
      .then(committed => {
        if (ends.every((end, p) => end === 0 || (committed[p] ?? -1) >= end)) {
          clearInterval(timer)
          stop()
        }
      })
      .catch(() => {})
      .finally(() => {
        checking = false
      })
  }, 250)
  return {
    close: async () => {
      clearInterval(timer)
      await admin.close().catch(() => {})
    }
  }
}
