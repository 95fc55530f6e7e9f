import type { Command } from 'commander'
import { KAFKA_CONFIG_HELP, REDIS_CA_HELP } from './connection-flags.ts'
import { KafkaLogConsumer, KafkaLogProducer } from '../../adapters/kafka/index.ts'
import { MemoryStateStore } from '../../adapters/memory/state-store.ts'
import { RedisStateStore, redact } from '../../adapters/redis/state-store.ts'
import { DEFAULT_TOPICS } from '../../apps/processor/index.ts'
import { ANALYTICS_TOPIC, runWindows } from '../../apps/windows/index.ts'
import { loadConfig } from '../../config/load.ts'
import { DaroogheError } from '../../errors.ts'
import { createLogger } from '../../logger.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { Metrics } from '../../observability/metrics.ts'
import { recordsRejectedCounter } from '../../observability/rejects.ts'
import { retryOptions, withRetry } from '../../retry.ts'
import { startMetricsApi } from './metrics-api.ts'
import { resilienceFrom } from './retry-flag.ts'

type Flags = Record<string, string | boolean | undefined>

function lateness(value: unknown): number {
  if (value === undefined) return 10_000
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0)
    throw new DaroogheError('USAGE', `--allowed-lateness must be seconds >= 0 (got '${String(value)}')`)
  return n * 1000
}

/** `darooghe windows`: decided transactions → 1-minute sliding and 5-minute tumbling aggregates. */
async function windowsAction(flags: Flags): Promise<void> {
  const env = process.env
  const config = loadConfig(flags, env, flags.memoryState ? ['kafka'] : ['kafka', 'redis'])
  const log = createLogger('windows', config.logLevel)
  const kafka = config.kafka!.connection
  const group = (flags.group as string | undefined) ?? 'darooghe-windows'
  const inputs = [
    (flags.approvedTopic as string | undefined) ?? DEFAULT_TOPICS.approved,
    (flags.fraudTopic as string | undefined) ?? DEFAULT_TOPICS.fraud
  ]
  const topic = (flags.topic as string | undefined) ?? ANALYTICS_TOPIC
  const allowedLatenessMs = lateness(flags.allowedLateness)
  const metrics = new Metrics()
  const countRejected = recordsRejectedCounter(metrics.registry)
  // One retry policy (--retry-for) for Kafka and Redis, reported to /health and the metrics.
  const resilience = resilienceFrom(config.retry, log, config.redis ? ['kafka', 'redis'] : ['kafka'], metrics)
  let store: StateStore
  const redis = config.redis?.connection
  if (!redis) store = new MemoryStateStore()
  else {
    store = await withRetry(
      `connect to Redis at ${redact(redis.url)}`,
      () => RedisStateStore.connect({ ...redis, keyPrefix: `darooghe:${group}:` }),
      log,
      retryOptions(resilience, { dependency: 'redis' })
    )
  }
  const api =
    typeof flags.metricsPort === 'string'
      ? await startMetricsApi(
          metrics,
          flags.metricsPort,
          flags.memoryState ? {} : { redis: () => store.ping() },
          resilience.health
        )
      : null
  const consumer = new KafkaLogConsumer({
    ...kafka,
    groupId: group,
    topics: inputs,
    maxBatchRecords: 5_000,
    resilience
  })
  const producer = new KafkaLogProducer({ ...kafka, resilience })
  const abort = new AbortController()
  const stop = (): void => {
    abort.abort()
    void consumer.close()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  log.info({ inputs, topic, group, allowedLatenessMs }, 'windows stage started')
  try {
    const totals = await runWindows({
      consumer,
      producer,
      store,
      log,
      signal: abort.signal,
      resilience,
      topic,
      allowedLatenessMs,
      onReject: r => countRejected('windows', r.kind),
      onBatch: (t, closed) => {
        if (closed > 0) log.info({ ...t }, 'windows published')
      }
    })
    log.info({ ...totals }, 'windows stage stopped')
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await producer.close()
    await store.close()
    await api?.close()
  }
}

export function registerWindows(program: Command): void {
  program
    .command('windows')
    .description(
      'live analytics: 1-minute windows sliding by 20 s and 5-minute tumbling windows of the decided transactions, to darooghe.analytics'
    )
    .option('--brokers <list>', 'Kafka bootstrap brokers (env DAROOGHE_BROKERS, KAFKA_BROKER_URL)')
    .option('--kafka-config <file>', KAFKA_CONFIG_HELP)
    .option('--approved-topic <name>', `approved decisions (default ${DEFAULT_TOPICS.approved})`)
    .option('--fraud-topic <name>', `fraud decisions (default ${DEFAULT_TOPICS.fraud})`)
    .option('--topic <name>', `where windows are published (default ${ANALYTICS_TOPIC})`)
    .option('--group <id>', 'consumer group (default darooghe-windows)')
    .option('--allowed-lateness <s>', 'seconds an event may trail the largest event time seen (default 10)')
    .option('--redis <url>', 'Redis for the open windows across restarts (env DAROOGHE_REDIS)')
    .option('--redis-ca <file>', REDIS_CA_HELP)
    .option('--memory-state', 'keep open windows in this process only (lost on restart)')
    .option('--metrics-port <n>', 'serve /metrics and /health of this stage on 127.0.0.1:<n>')
    .option(
      '--retry-for <duration>',
      'give up once Kafka or Redis has been failing this long, e.g. 30s, 10m, 1h (env DAROOGHE_RETRY_FOR; default unlimited)'
    )
    .option('--log-level <level>', 'error | warn | info | debug (env LOG_LEVEL)')
    .action(async (_o: Flags, command: Command) => {
      await windowsAction(command.opts())
    })
}
