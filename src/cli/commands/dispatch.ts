import type { Command } from 'commander'
import { KAFKA_CONFIG_HELP, REDIS_CA_HELP } from './connection-flags.ts'
import { KafkaLogConsumer, KafkaLogProducer } from '../../adapters/kafka/index.ts'
import { MemoryStateStore } from '../../adapters/memory/state-store.ts'
import { RedisStateStore, redact } from '../../adapters/redis/state-store.ts'
import { decodeAlerts, Dispatcher, FileAlertSink, HttpAlertSink } from '../../apps/dispatcher/index.ts'
import { RejectCounter } from '../../apps/guard/record-guard.ts'
import { loadConfig } from '../../config/load.ts'
import { DaroogheError } from '../../errors.ts'
import { createLogger } from '../../logger.ts'
import type { AlertSink } from '../../ports/alert-sink.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { retryOptions, withRetry } from '../../retry.ts'
import { resilienceFrom } from './retry-flag.ts'
import { Metrics } from '../../observability/metrics.ts'
import { recordsRejectedCounter } from '../../observability/rejects.ts'
import { startMetricsApi } from './metrics-api.ts'

type Flags = Record<string, string | boolean | undefined>

function positive(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0)
    throw new DaroogheError('USAGE', `${flag} must be a positive number (got '${String(value)}')`)
  return n
}

function url(value: string, flag: string): string {
  if (!/^https?:\/\/\S+$/.test(value)) throw new DaroogheError('USAGE', `${flag} must be an http(s) URL`)
  return value
}

/** `darooghe dispatch`: alerts topic → file, HTTP, Slack, Discord; summary every interval. */
async function dispatchAction(flags: Flags): Promise<void> {
  const env = process.env
  const config = loadConfig(flags, env, flags.memoryState ? ['kafka'] : ['kafka', 'redis'])
  const log = createLogger('dispatch', config.logLevel)
  const kafka = config.kafka!.connection
  const topic = (flags.topic as string | undefined) ?? 'darooghe.fraud_alerts'
  const group = (flags.group as string | undefined) ?? 'darooghe-dispatcher'
  const maxAttempts = positive(flags.maxAttempts, '--max-attempts', 5)
  const summaryMs = positive(flags.summaryInterval, '--summary-interval', 60) * 1000
  const sinks: AlertSink[] = []
  if (typeof flags.file === 'string') sinks.push(new FileAlertSink(flags.file))
  const http = (flags.http as string | undefined) ?? env.DAROOGHE_ALERTS_URL
  if (http)
    sinks.push(
      new HttpAlertSink({ name: 'http', url: url(http, '--http'), token: env.DAROOGHE_ALERTS_TOKEN })
    )
  const slack = (flags.slack as string | undefined) ?? env.SLACK_WEBHOOK_URL
  if (slack) sinks.push(new HttpAlertSink({ name: 'slack', url: url(slack, '--slack'), format: 'slack' }))
  const discord = (flags.discord as string | undefined) ?? env.DISCORD_WEBHOOK_URL
  if (discord)
    sinks.push(new HttpAlertSink({ name: 'discord', url: url(discord, '--discord'), format: 'discord' }))
  if (sinks.length === 0) sinks.push(new FileAlertSink('alerts.log'))

  const metrics = new Metrics()
  // One retry policy (--retry-for) for Kafka and Redis, reported to /health and the metrics.
  const resilience = resilienceFrom(config.retry, log, config.redis ? ['kafka', 'redis'] : ['kafka'], metrics)
  let dedupe: StateStore
  const redis = config.redis?.connection
  if (!redis) dedupe = new MemoryStateStore()
  else {
    dedupe = await withRetry(
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
          flags.memoryState ? {} : { redis: () => dedupe.ping() },
          resilience.health
        )
      : null
  const dispatcher = new Dispatcher({
    sinks,
    dedupe,
    log,
    maxAttempts,
    resilience,
    onOutcome: (sink, outcome) => metrics.observeDelivery(sink, outcome),
    ...(typeof flags.deadLetter === 'string' ? { deadLetterPath: flags.deadLetter } : {})
  })
  const countRejected = recordsRejectedCounter(metrics.registry)
  const rejects = new RejectCounter({
    log,
    reader: 'dispatch',
    onReject: r => countRejected('dispatch', r.kind)
  })
  const consumer = new KafkaLogConsumer({
    ...kafka,
    groupId: group,
    topics: [topic],
    maxBatchRecords: 500,
    resilience
  })
  // The summary is logged and published (key = the group) for dashboards and audits.
  const summaryTopic = (flags.summaryTopic as string | undefined) ?? 'darooghe.dispatch_summary'
  // A summary waits at most 10 s for Kafka: the next one (or the one at exit) follows.
  const summaryProducer = new KafkaLogProducer({
    clientId: 'darooghe-dispatch',
    ...kafka,
    resilience: {
      ...resilience,
      policy: { ...resilience.policy, retryForMs: Math.min(resilience.policy.retryForMs ?? Infinity, 10_000) }
    }
  })
  const startedAt = new Date().toISOString()
  const publishSummary = (): Promise<unknown> => {
    const summary = {
      group,
      started_at: startedAt,
      at: new Date().toISOString(),
      ...dispatcher.counts,
      rejected: rejects.toJSON()
    }
    log.info(summary, 'summary')
    return summaryProducer
      .send([{ topic: summaryTopic, key: group, value: JSON.stringify(summary) }])
      .catch(e => log.warn({ topic: summaryTopic, error: String(e) }, 'could not publish the summary'))
  }
  const timer = setInterval(() => void publishSummary(), summaryMs)
  const stop = (): void => void consumer.close()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  log.info({ topic, group, sinks: sinks.map(s => s.name), maxAttempts }, 'dispatcher started')
  try {
    await consumer.run({
      // A record that is not an alert is counted and logged, never retried: the batch goes on.
      onBatch: async records => {
        await dispatcher.dispatchBatch(decodeAlerts(records, r => rejects.add(r)))
      }
    })
  } finally {
    clearInterval(timer)
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    for (const s of sinks) await s.close?.()
    await dedupe.close()
    await publishSummary()
    await summaryProducer.close().catch(() => {})
    await api?.close()
  }
}

export function registerDispatch(program: Command): void {
  program
    .command('dispatch')
    .description(
      'deliver fraud alerts to a file, HTTP endpoints and Slack/Discord webhooks, once per alert and sink'
    )
    .option(
      '--file <path>',
      'append alerts as NDJSON, fsync per batch (default alerts.log when no other sink)'
    )
    .option('--http <url>', 'POST each alert as JSON (env DAROOGHE_ALERTS_URL; bearer DAROOGHE_ALERTS_TOKEN)')
    .option('--slack <url>', 'Slack incoming webhook (env SLACK_WEBHOOK_URL)')
    .option('--discord <url>', 'Discord webhook (env DISCORD_WEBHOOK_URL)')
    .option('--dead-letter <path>', 'NDJSON file for alerts that exhausted their attempts')
    .option('--max-attempts <n>', 'attempts per alert and sink (default 5)')
    .option('--summary-interval <s>', 'seconds between summaries, logged and published (default 60)')
    .option(
      '--summary-topic <name>',
      'topic the summaries are published to (default darooghe.dispatch_summary)'
    )
    .option('--metrics-port <n>', 'serve /metrics and /health of this dispatcher on 127.0.0.1:<n>')
    .option('--brokers <list>', 'Kafka bootstrap brokers (env DAROOGHE_BROKERS, KAFKA_BROKER_URL)')
    .option('--kafka-config <file>', KAFKA_CONFIG_HELP)
    .option('--topic <name>', 'alerts topic (default darooghe.fraud_alerts)')
    .option('--group <id>', 'consumer group (default darooghe-dispatcher)')
    .option('--redis <url>', 'Redis for delivery dedupe across restarts (env DAROOGHE_REDIS)')
    .option('--redis-ca <file>', REDIS_CA_HELP)
    .option('--memory-state', 'dedupe in this process only (not across restarts)')
    .option(
      '--retry-for <duration>',
      'give up once Kafka or Redis has been failing this long, e.g. 30s, 10m, 1h (env DAROOGHE_RETRY_FOR; default unlimited)'
    )
    .option('--log-level <level>', 'error | warn | info | debug (env LOG_LEVEL)')
    .action(async (_o: Flags, command: Command) => {
      await dispatchAction(command.opts())
    })
}
