import { randomUUID } from 'node:crypto'
import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../adapters/kafka/index.ts'
import type { KafkaConnection } from '../../adapters/kafka/options.ts'
import { MemoryStateStore } from '../../adapters/memory/state-store.ts'
import { RedisStateStore, redact } from '../../adapters/redis/state-store.ts'
import { addBatch, emptyTotals, runDetector, StageLog, type BatchStages } from '../../apps/detector/index.ts'
import { seedProfiles, systemClock, type BatchStats, type Processor } from '../../apps/processor/index.ts'
import { readLines } from '../../adapters/file/index.ts'
import type { KafkaDetectConfig } from '../../config/detect.ts'
import { processorFrom } from '../../config/scoring.ts'
import { createLogger, type Logger } from '../../logger.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { retryOptions, withRetry, type Resilience } from '../../retry.ts'
import { kafkaError } from '../../adapters/kafka/errors.ts'
import { resilienceFrom } from './retry-flag.ts'
import { Metrics } from '../../observability/metrics.ts'
import { startMetricsApi } from './metrics-api.ts'

type Retry = (dependency: 'kafka' | 'redis') => ReturnType<typeof retryOptions>

/** Kafka mode: consume the transactions topic in a group, state in Redis, outputs to Kafka. */
export async function runKafkaDetect(config: KafkaDetectConfig): Promise<void> {
  const { common, input, groupId } = config
  const kafka = common.kafka!.connection
  const log = createLogger('detect', common.logLevel)
  const abort = new AbortController()
  const metrics = new Metrics()
  // One retry policy (--retry-for) for every call to Kafka and Redis, reported to /health and
  // the metrics while it retries.
  const resilience = resilienceFrom(common.retry, log, common.redis ? ['kafka', 'redis'] : ['kafka'], metrics)
  const retry: Retry = dependency => retryOptions(resilience, { signal: abort.signal, dependency })

  const store = await openState(config, log, retry)
  if (config.profiles !== undefined)
    await seedProfiles(store, readLines(config.profiles), { source: config.profiles })
  // Exactly-once commits offsets with the outputs: the state must be durable before them.
  const processor = processorFrom(
    config.scoring,
    store,
    systemClock,
    config.exactlyOnce ? 'state-first' : 'outputs-first'
  )
  const t = processor.options.topics
  // Reply topics too: a reply to a topic that does not exist would hold up its whole batch.
  const outputs = [t.approved, t.fraud, t.alerts, t.errors, ...processor.options.replyTopics]
  await withRetry(
    `create the topics on Kafka at ${kafka.brokers.join(',')}`,
    () => createTopics(kafka, [input, ...outputs], config.partitions),
    log,
    retry('kafka')
  )
  const { producer, consumer } = openClients(config, resilience)
  const api =
    config.metricsPort === undefined
      ? null
      : await startMetricsApi(
          metrics,
          config.metricsPort,
          common.redis ? { redis: () => store.ping() } : {},
          resilience.health
        )
  const lag = api ? watchLag(kafka, input, groupId, metrics) : null
  const status = statusLine(config, log)

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
  const doneTimer = config.untilEnd
    ? await withRetry(
        'read the end offsets',
        () => stopAtEnd(kafka, input, groupId, stop),
        log,
        retry('kafka')
      )
    : null
  logStart(log, config, processor, outputs)
  const stageLog = config.stageLog === undefined ? null : new StageLog(config.stageLog)
  try {
    await runDetector({
      consumer,
      producer,
      processor,
      log,
      signal: abort.signal,
      resilience,
      onBatch: s => {
        metrics.observeBatch(s)
        status.add(s)
      },
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
    await doneTimer?.close()
    await lag?.close()
    await api?.close()
    await stageLog?.close()
    log.info(status.totals, 'detector stopped')
  }
}

/** The state store: Redis (retried through an outage), or this process's memory. */
async function openState(config: KafkaDetectConfig, log: Logger, retry: Retry): Promise<StateStore> {
  const redis = config.common.redis
  if (!redis) return new MemoryStateStore()
  const { url, ca } = redis.connection
  return withRetry(
    `connect to Redis at ${redact(url)}`,
    () => RedisStateStore.connect({ url, ...(ca ? { ca } : {}) }),
    log,
    retry('redis')
  )
}

async function createTopics(kafka: KafkaConnection, names: string[], partitions: number): Promise<void> {
  const admin = new KafkaLogAdmin({ ...kafka, retries: 0, timeoutMs: 5_000 })
  try {
    await admin.createTopics(names.map(name => ({ name, partitions })))
  } catch (cause) {
    throw kafkaError('cannot create topics', cause)
  } finally {
    await admin.close().catch(() => {})
  }
}

/**
 * The producer and the group consumer. Exactly-once: outputs and offsets in one Kafka
 * transaction. Zombies are fenced by the group generation carried in TxnOffsetCommit (KIP-447),
 * so the transactional id need not be stable; it is unique per process start because
 * @platformatic/kafka 1.35 cannot re-initialise a transactional id whose previous owner crashed
 * mid-transaction (InitProducerId keeps failing). A crashed instance's open transaction is
 * rolled back by the broker after the timeout below.
 */
function openClients(
  config: KafkaDetectConfig,
  resilience: Resilience
): { producer: KafkaLogProducer; consumer: KafkaLogConsumer } {
  const kafka = config.common.kafka!.connection
  const clientId = kafka.clientId ?? 'darooghe-detect'
  const transactionalId = config.exactlyOnce
    ? `darooghe-${config.groupId}-${config.instanceId}-${randomUUID().slice(0, 8)}`
    : undefined
  const producer = new KafkaLogProducer({
    ...kafka,
    clientId,
    retries: 2,
    resilience,
    // The client uses its request timeout as the transaction timeout: a crashed instance's open
    // transaction blocks read_committed readers (and its successor) at most this long.
    ...(transactionalId ? { transactionalId, timeoutMs: 10_000 } : {})
  })
  const consumer = new KafkaLogConsumer({
    ...kafka,
    groupId: config.groupId,
    topics: [config.input],
    maxBatchRecords: config.batchSize,
    clientId,
    resilience,
    ...(transactionalId ? { transactionalProducer: producer } : {})
  })
  return { producer, consumer }
}

/** Consumer lag (end offset − committed offset per partition) for /metrics, every 5 s. */
function watchLag(
  kafka: KafkaConnection,
  input: string,
  groupId: string,
  metrics: Metrics
): { close: () => Promise<void> } {
  const admin = new KafkaLogAdmin({ ...kafka, retries: 0, timeoutMs: 5_000 })
  const timer = setInterval(() => {
    void Promise.all([admin.endOffsets(input), admin.committedOffsets(groupId, input)])
      .then(([ends, committed]) => {
        ends.forEach((end, p) =>
          metrics.setConsumerLag(input, p, Math.max(0, end - Math.max(0, committed[p] ?? 0)))
        )
      })
      .catch(() => {})
  }, 5_000)
  return {
    close: async () => {
      clearInterval(timer)
      await admin.close().catch(() => {})
    }
  }
}

/** Totals of the run, and a status log line every `--status-interval`. */
function statusLine(config: KafkaDetectConfig, log: Logger) {
  const totals = emptyTotals()
  let lastStatus = Date.now()
  let lastRecords = 0
  return {
    totals,
    add(s: BatchStats): void {
      addBatch(totals, s)
      const now = Date.now()
      if (config.statusEveryMs > 0 && now - lastStatus >= config.statusEveryMs) {
        const rate = Math.round(((totals.records - lastRecords) * 1000) / (now - lastStatus))
        log.info({ ...totals, eventsPerSecond: rate }, 'status')
        lastStatus = now
        lastRecords = totals.records
      }
    }
  }
}

function logStart(log: Logger, config: KafkaDetectConfig, processor: Processor, outputs: string[]): void {
  log.info(
    {
      brokers: config.common.kafka!.connection.brokers,
      input: config.input,
      groupId: config.groupId,
      outputs,
      rules: processor.ruleSet.name,
      state: config.common.redis ? 'redis' : 'memory'
    },
    'detector started'
  )
}

/** Calls `stop` once the group's committed offsets reach the input's end offsets as of now. */
async function stopAtEnd(
  kafka: KafkaConnection,
  topic: string,
  groupId: string,
  stop: () => void
): Promise<{ close: () => Promise<void> }> {
  const admin = new KafkaLogAdmin({ ...kafka, retries: 0, timeoutMs: 5_000 })
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
