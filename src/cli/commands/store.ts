import type { Command } from 'commander'
import { KAFKA_CONFIG_HELP } from './connection-flags.ts'
import { KafkaLogAdmin, KafkaLogConsumer } from '../../adapters/kafka/index.ts'
import { MongoDocumentStore, redactMongoUrl } from '../../adapters/mongo/index.ts'
import { runStore, storeTopics, type StoreTopics, type StoreTotals } from '../../apps/store/index.ts'
import { loadConfig } from '../../config/load.ts'
import { DaroogheError } from '../../errors.ts'
import { createLogger } from '../../logger.ts'
import { kafkaError } from '../../adapters/kafka/errors.ts'
import { Metrics } from '../../observability/metrics.ts'
import { recordsRejectedCounter } from '../../observability/rejects.ts'
import { retryOptions, withRetry } from '../../retry.ts'
import { startMetricsApi } from './metrics-api.ts'
import { resilienceFrom } from './retry-flag.ts'

interface StoreFlags {
  brokers?: string
  mongo?: string
  group?: string
  approvedTopic?: string
  fraudTopic?: string
  alertsTopic?: string
  errorsTopic?: string
  lateTopic?: string
  analyticsTopic?: string
  fromBeginning?: boolean
  batchSize: string
  partitions: string
  statusInterval: string
  logLevel?: string
  metricsPort?: string
  retryFor?: string
}

function integer(value: string, flag: string, min: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) {
    throw new DaroogheError('USAGE', `${flag} must be an integer >= ${min} (got '${value}')`)
  }
  return n
}

/** Topic names from the flags (and the reference setup's LEGIT_TOPIC / FRAUD_TOPIC), checked. */
function topicsFrom(flags: StoreFlags, env: NodeJS.ProcessEnv): StoreTopics {
  const topics = storeTopics({
    approved: flags.approvedTopic ?? env.LEGIT_TOPIC,
    fraud: flags.fraudTopic ?? env.FRAUD_TOPIC,
    alerts: flags.alertsTopic,
    errors: flags.errorsTopic,
    late: flags.lateTopic,
    analytics: flags.analyticsTopic
  })
  const owner = new Map<string, string>()
  for (const [role, name] of Object.entries(topics)) {
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(name)) {
      throw new DaroogheError(
        'USAGE',
        `--${role}-topic must be 1-249 characters of letters, digits, . _ - (got '${name}')`
      )
    }
    const other = owner.get(name)
    // Approved and fraud decisions share a shape, so one topic may carry both.
    if (
      other &&
      !(new Set([other, role]).size === 2 && [other, role].every(r => r === 'approved' || r === 'fraud'))
    ) {
      throw new DaroogheError(
        'USAGE',
        `--${role}-topic and --${other}-topic are both '${name}': give each its own topic`
      )
    }
    owner.set(name, role)
  }
  return topics
}

/** `darooghe store`: the processor's outputs and the window aggregates into MongoDB. */
async function storeAction(flags: StoreFlags): Promise<void> {
  const env = process.env
  const config = loadConfig(flags, env, ['kafka', 'mongo'])
  const log = createLogger('store', config.logLevel)
  const kafka = config.kafka!.connection
  const brokers = kafka.brokers
  const mongoUrl = config.mongo!.url
  const groupId = flags.group ?? 'darooghe-store'
  const topics = topicsFrom(flags, env)
  const batchSize = integer(flags.batchSize, '--batch-size', 1)
  const partitions = integer(flags.partitions, '--partitions', 1)
  const statusEvery = integer(flags.statusInterval, '--status-interval', 0) * 1000
  const names = [...new Set(Object.values(topics))]

  const abort = new AbortController()
  const stop = (): void => {
    if (abort.signal.aborted) return
    log.info('stopping: finishing the current batch, committing, closing')
    abort.abort()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  let store: MongoDocumentStore | null = null
  let consumer: KafkaLogConsumer | null = null
  let totals: StoreTotals | null = null
  const metrics = new Metrics()
  const countRejected = recordsRejectedCounter(metrics.registry)
  // One retry policy (--retry-for) for Kafka and MongoDB, reported to /health and the metrics.
  const resilience = resilienceFrom(config.retry, log, ['kafka', 'mongo'], metrics)
  const retry = (dependency: 'kafka' | 'mongo') =>
    retryOptions(resilience, { signal: abort.signal, dependency })
  let api: Awaited<ReturnType<typeof startMetricsApi>> | null = null
  try {
    if (flags.metricsPort !== undefined)
      api = await startMetricsApi(
        metrics,
        flags.metricsPort,
        { mongo: () => store?.ping() ?? Promise.resolve(false) },
        resilience.health
      )
    store = await withRetry(
      `connect to MongoDB at ${redactMongoUrl(mongoUrl)}`,
      () => MongoDocumentStore.connect({ url: mongoUrl, log }),
      log,
      retry('mongo')
    )
    // Subscribing to a missing topic fails; the windows stage or the detector may not have run yet.
    await withRetry(
      `create the topics on Kafka at ${brokers.join(',')}`,
      async () => {
        const admin = new KafkaLogAdmin({ ...kafka, retries: 0, timeoutMs: 5_000 })
        try {
          await admin.createTopics(names.map(name => ({ name, partitions })))
        } catch (cause) {
          throw kafkaError('cannot create topics', cause)
        } finally {
          await admin.close().catch(() => {})
        }
      },
      log,
      retry('kafka')
    )
    consumer = new KafkaLogConsumer({
      clientId: 'darooghe-store',
      ...kafka,
      groupId,
      topics: names,
      maxBatchRecords: batchSize,
      fromBeginning: flags.fromBeginning === true,
      resilience
    })
    log.info(
      {
        brokers,
        groupId,
        topics,
        fromBeginning: flags.fromBeginning === true,
        database: store.database.databaseName
      },
      'store started'
    )
    let last = { at: Date.now(), records: 0 }
    let current: StoreTotals | null = null
    const progress = (): void => {
      if (!current) return
      const now = Date.now()
      const rate = Math.round(((current.records - last.records) * 1000) / Math.max(1, now - last.at))
      log.info({ ...current, recordsPerSecond: rate }, 'progress')
      last = { at: now, records: current.records }
    }
    const timer = statusEvery > 0 ? setInterval(progress, statusEvery) : null
    try {
      totals = await runStore({
        consumer,
        store,
        topics,
        log,
        signal: abort.signal,
        resilience,
        onReject: r => countRejected('store', r.kind),
        onBatch: t => void (current = t)
      })
    } finally {
      if (timer) clearInterval(timer)
    }
  } catch (error) {
    // Interrupted while waiting for a service: nothing was consumed, nothing to report.
    if (!abort.signal.aborted) throw error
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await consumer?.close().catch(() => {})
    await store?.close().catch(() => {})
    await api?.close()
    if (totals) log.info(totals, 'store stopped')
  }
}

export function registerStore(program: Command): void {
  program
    .command('store')
    .description(
      "store the processor's outputs and the window aggregates in MongoDB: idempotent bulk upserts, offsets committed after the write"
    )
    .option('--brokers <list>', 'Kafka bootstrap brokers (env DAROOGHE_BROKERS, KAFKA_BROKER_URL)')
    .option('--kafka-config <file>', KAFKA_CONFIG_HELP)
    .option(
      '--mongo <url>',
      'MongoDB URL; its path names the database (env DAROOGHE_MONGO; default mongodb://127.0.0.1:27017/darooghe)'
    )
    .option('--group <id>', 'consumer group (default darooghe-store)')
    .option(
      '--from-beginning',
      'a group with no committed offsets starts at the earliest record (default: the latest); a known group goes on where it stopped'
    )
    .option(
      '--approved-topic <name>',
      'approved decisions (env LEGIT_TOPIC; default darooghe.transactions.approved)'
    )
    .option('--fraud-topic <name>', 'fraud decisions (env FRAUD_TOPIC; default darooghe.transactions.fraud)')
    .option('--alerts-topic <name>', 'alerts (default darooghe.fraud_alerts)')
    .option('--errors-topic <name>', 'validation failures (default darooghe.error_logs)')
    .option('--late-topic <name>', 'late events (default darooghe.late_events)')
    .option('--analytics-topic <name>', 'window aggregates (default darooghe.analytics)')
    .option('--batch-size <n>', 'records per poll batch (one bulk write per collection each)', '2000')
    .option('--partitions <n>', 'partitions of the topics it creates when missing', '6')
    .option('--status-interval <s>', 'seconds between progress lines on stderr (0: none)', '10')
    .option('--metrics-port <n>', 'serve /metrics and /health of this sink on 127.0.0.1:<n>')
    .option(
      '--retry-for <duration>',
      'give up once Kafka or MongoDB has been failing this long, e.g. 30s, 10m, 1h (env DAROOGHE_RETRY_FOR; default unlimited)'
    )
    .option('--log-level <level>', 'error | warn | info | debug (env LOG_LEVEL)')
    .action(async (flags: StoreFlags) => {
      await storeAction(flags)
    })
}
