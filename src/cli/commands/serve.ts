import type { Command } from 'commander'
import { KAFKA_CONFIG_HELP, REDIS_CA_HELP } from './connection-flags.ts'
import { MongoClient } from 'mongodb'
import { KafkaLogAdmin } from '../../adapters/kafka/index.ts'
import { RedisStateStore } from '../../adapters/redis/state-store.ts'
import { buildApi, listen } from '../../apps/api/index.ts'
import { KafkaTopicBrowser, LiveView, startKafkaFeed } from '../../apps/live/index.ts'
import { loadConfig } from '../../config/load.ts'
import { DaroogheError } from '../../errors.ts'
import { createLogger } from '../../logger.ts'
import { Metrics } from '../../observability/metrics.ts'
import { resilienceFrom } from './retry-flag.ts'
import { retryOptions, withRetry } from '../../retry.ts'
import { recordsRejectedCounter } from '../../observability/rejects.ts'
import { RejectCounter } from '../../apps/guard/record-guard.ts'
import {
  checkDecisionAccess,
  decisionOptions,
  decisionSettingsFrom,
  decisionsFrom
} from './serve-decisions.ts'

type Flags = Record<string, unknown>

export function portFrom(value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new DaroogheError('USAGE', `--port must be an integer 0-65535 (got '${String(value)}')`)
  }
  return n
}

/** `darooghe serve`: the HTTP API (health of each dependency, metrics, alerts in, alerts out). */
async function serveAction(flags: Flags): Promise<void> {
  const env = process.env
  const config = loadConfig(flags, env, ['kafka', 'redis', 'mongo'])
  const log = createLogger('serve', config.logLevel)
  const listenPort = portFrom(flags.port ?? env.DAROOGHE_PORT, 8080)
  const host = (flags.host as string | undefined) ?? '127.0.0.1'
  const kafka = config.kafka!.connection
  const brokers = kafka.brokers
  const redis = config.redis!.connection
  const mongoUrl = config.mongo!.url
  const token = (flags.token as string | undefined) ?? env.DAROOGHE_ALERTS_TOKEN

  // Dependency checks connect lazily and are cheap to repeat; a down service is reported, not fatal.
  const admin = new KafkaLogAdmin({ ...kafka, retries: 0, timeoutMs: 2_000 })
  const conn: { redis: RedisStateStore | null } = { redis: null }
  const mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 1_500 })
  const metrics = new Metrics()
  // With Kafka named explicitly, the dashboard is fed from it: a LiveView in a group of its own
  // (starting at the end of the topics: it shows now, not the history) and the topic browser.
  const kafkaNamed = config.kafka!.named
  const countRejected = recordsRejectedCounter(metrics.registry)
  const liveRejects = new RejectCounter({ log, reader: 'live', onReject: r => countRejected('live', r.kind) })
  const live = kafkaNamed ? new LiveView({ onReject: r => liveRejects.add(r) }) : undefined
  const browser = kafkaNamed ? new KafkaTopicBrowser({ clientId: 'darooghe-serve', ...kafka }) : undefined
  const liveGroup = (flags.liveGroup as string | undefined) ?? 'darooghe-live'
  // The live view's consumer retries through a Kafka outage (--retry-for); /health says so.
  const resilience = resilienceFrom(config.retry, log, kafkaNamed ? ['kafka'] : [], metrics)
  // POST /v1/decisions needs Kafka; its ids go to Redis when Redis is named too.
  const decisionSettings = decisionSettingsFrom(flags, env)
  if (kafkaNamed) checkDecisionAccess(flags, env, host)
  const redisNamed = config.redis!.named
  const decisions = kafkaNamed
    ? await decisionsFrom(decisionSettings, {
        kafka,
        redis: redisNamed ? redis : null,
        log,
        resilience
      })
    : undefined
  const app = buildApi({
    metrics,
    logger: log,
    dependencies: resilience.health,
    dashboard: true,
    reports: { dir: (flags.reportDir as string | undefined) ?? './report' },
    ...(live ? { live } : {}),
    ...(browser ? { topics: browser } : {}),
    ...(token ? { alertToken: token } : {}),
    ...(decisions ? { decisions: decisions.service } : {}),
    health: {
      kafka: async () => (await admin.listTopics(), true),
      redis: async () => {
        conn.redis ??= await RedisStateStore.connect({ ...redis, connectTimeoutMs: 1_500 })
        return conn.redis.ping()
      },
      mongo: async () => {
        await mongo.db('admin').command({ ping: 1 })
        return true
      }
    }
  })
  let bound: number
  try {
    bound = await listen(app, host, listenPort)
  } catch (error) {
    await decisions?.service.close()
    throw error
  }
  // Replies are read from the end of their topic before the first event is sent (until then
  // /v1/decisions answers 503); Kafka down at start is retried like the live feed.
  const startingDecisions = new AbortController()
  const decisionsReady = decisions
    ? withRetry('start the decision API', () => decisions.service.start(), log, {
        ...retryOptions(resilience, { dependency: 'kafka' }),
        signal: startingDecisions.signal
      }).then(
        () => log.info('decision API ready'),
        (error: unknown) => {
          if (!startingDecisions.signal.aborted) log.error({ err: error }, 'the decision API could not start')
        }
      )
    : undefined
  process.stdout.write(
    `darooghe serve: http://${host}:${bound}  (dashboard /, /health /metrics /alerts /alerts/stream /api/* /v1/decisions /openapi.json)\n` +
      (live
        ? `dashboard fed from Kafka at ${brokers.join(',')} (group ${liveGroup})\n`
        : 'dashboard: no live data (give --brokers to feed it from Kafka)\n') +
      (decisions ? `${decisions.describe}\n` : 'decisions: unavailable (give --brokers)\n')
  )
  const feed = live
    ? startKafkaFeed({ clientId: 'darooghe-serve', ...kafka, live, groupId: liveGroup, log, resilience })
    : undefined
  let stop: () => void = () => {}
  const stopped = new Promise<void>(resolve => (stop = resolve))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    // Until Ctrl-C, or until the live feed gives up (Kafka down longer than --retry-for).
    await Promise.race([stopped, feed?.failed ?? stopped])
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await closeAll()
  }
  async function closeAll(): Promise<void> {
    await feed?.stop()
    await app.close()
    startingDecisions.abort()
    await decisionsReady
    await decisions?.service.close()
    await browser?.close?.()
    await admin.close().catch(() => {})
    await conn.redis?.close()
    await mongo.close().catch(() => {})
  }
}

export function registerServe(program: Command): void {
  const serve = program
    .command('serve')
    .description(
      'serve the HTTP API and the dashboard: /, /health, /metrics, POST and GET /alerts, /alerts/stream, /api/*, POST /v1/decisions'
    )
    .option('--port <n>', 'port (env DAROOGHE_PORT; default 8080; 0 = any free port)')
    .option(
      '--report-dir <dir>',
      'serve the latest `darooghe analyze --out DIR` report at /reports/latest (default ./report)'
    )
    .option('--host <addr>', 'address to bind (default 127.0.0.1)')
    .option(
      '--token <secret>',
      'require "Authorization: Bearer <secret>" on POST /alerts and /v1/decisions (env DAROOGHE_ALERTS_TOKEN)'
    )
    .option(
      '--brokers <list>',
      'Kafka for /health, the dashboard and /v1/decisions (env DAROOGHE_BROKERS, KAFKA_BROKER_URL)'
    )
    .option('--kafka-config <file>', KAFKA_CONFIG_HELP)
    .option('--live-group <id>', "the dashboard's consumer group (default darooghe-live)")
    .option(
      '--retry-for <duration>',
      "give up once the dashboard's Kafka has been failing this long, e.g. 30s, 10m, 1h (env DAROOGHE_RETRY_FOR; default unlimited)"
    )
    .option('--redis <url>', 'Redis for /health and the ids of /v1/decisions (env DAROOGHE_REDIS)')
    .option('--redis-ca <file>', REDIS_CA_HELP)
    .option('--mongo <url>', 'MongoDB for /health (env DAROOGHE_MONGO)')
    .option('--log-level <level>', 'error | warn | info | debug (env LOG_LEVEL)')
  decisionOptions(serve).action(async (_o: Flags, command: Command) => {
    await serveAction(command.opts())
  })
}
