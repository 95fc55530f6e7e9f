import type { Command } from 'commander'
import { KafkaLogConsumer, KafkaLogProducer } from '../../adapters/kafka/index.ts'
import { MemoryStateStore } from '../../adapters/memory/state-store.ts'
import { RedisStateStore, redact } from '../../adapters/redis/state-store.ts'
import { Dispatcher, FileAlertSink, HttpAlertSink } from '../../apps/dispatcher/index.ts'
import { brokersFrom, logLevelFrom, redisFrom } from '../../config/connections.ts'
import { DaroogheError } from '../../errors.ts'
import { createLogger } from '../../logger.ts'
import type { Alert, AlertSink } from '../../ports/alert-sink.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { withRetry } from '../../retry.ts'
import { Metrics } from '../../observability/metrics.ts'
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
  const log = createLogger('dispatch', logLevelFrom(flags.logLevel, env))
  const brokers = brokersFrom(flags.brokers, env)
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

  let dedupe: StateStore
  if (flags.memoryState) dedupe = new MemoryStateStore()
  else {
    const redisUrl = redisFrom(flags.redis, env)
    dedupe = await withRetry(
      `Redis at ${redact(redisUrl)}`,
      () => RedisStateStore.connect({ url: redisUrl, keyPrefix: `darooghe:${group}:` }),
      log
    )
  }
  const metrics = new Metrics()
  const api =
    typeof flags.metricsPort === 'string'
      ? await startMetricsApi(metrics, flags.metricsPort, { redis: () => dedupe.ping() })
      : null
  const dispatcher = new Dispatcher({
    sinks,
    dedupe,
    log,
    maxAttempts,
    onOutcome: (sink, outcome) => metrics.observeDelivery(sink, outcome),
    ...(typeof flags.deadLetter === 'string' ? { deadLetterPath: flags.deadLetter } : {})
  })
  const consumer = new KafkaLogConsumer({ brokers, groupId: group, topics: [topic], maxBatchRecords: 500 })
  // The summary is logged and published (key = the group) for dashboards and audits.
  const summaryTopic = (flags.summaryTopic as string | undefined) ?? 'darooghe.dispatch_summary'
  const summaryProducer = new KafkaLogProducer({ brokers, clientId: 'darooghe-dispatch' })
  const startedAt = new Date().toISOString()
  const publishSummary = (): Promise<unknown> => {
    const summary = { group, started_at: startedAt, at: new Date().toISOString(), ...dispatcher.counts }
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
      onBatch: async records => {
        const alerts: Alert[] = []
        for (const r of records) {
          try {
            alerts.push(JSON.parse(r.value?.toString() ?? '') as Alert)
          } catch {
            log.warn({ partition: r.partition, offset: r.offset }, 'skipping a record that is not an alert')
          }
        }
        await dispatcher.dispatchBatch(alerts.filter(a => typeof a.alert_id === 'string'))
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
    .option('--topic <name>', 'alerts topic (default darooghe.fraud_alerts)')
    .option('--group <id>', 'consumer group (default darooghe-dispatcher)')
    .option('--redis <url>', 'Redis for delivery dedupe across restarts (env DAROOGHE_REDIS)')
    .option('--memory-state', 'dedupe in this process only (not across restarts)')
    .option('--log-level <level>', 'error | warn | info | debug (env LOG_LEVEL)')
    .action(async (_o: Flags, command: Command) => {
      await dispatchAction(command.opts())
    })
}
