import type { Command } from 'commander'
import { KAFKA_CONFIG_HELP, REDIS_CA_HELP } from './connection-flags.ts'
import { MemoryStateStore } from '../../adapters/memory/index.ts'
import { MemoryDocumentStore } from '../../adapters/memory/index.ts'
import { MongoDocumentStore, redactMongoUrl } from '../../adapters/mongo/index.ts'
import { reportFromStore } from '../../apps/analytics/index.ts'
import type { DocumentStore } from '../../ports/document-store.ts'
import { RedisStateStore, redact } from '../../adapters/redis/state-store.ts'
import {
  buildApi,
  DecisionService,
  listen,
  MemoryAlertStore,
  type StoredAlert
} from '../../apps/api/index.ts'
import { MemoryDecisionStore } from '../../adapters/memory/decision-store.ts'
import { DEFAULT_REPLY_TOPIC } from '../../domain/reply.ts'
import { kafkaBackend, memoryBackend } from '../../apps/demo/backend.ts'
import { DEMO_GROUPS, startDemo, type DemoHandle } from '../../apps/demo/demo.ts'
import { addBatch, emptyTotals } from '../../apps/detector/index.ts'
import { loadConfig, type Service } from '../../config/load.ts'
import { LiveView } from '../../apps/live/index.ts'
import { createLogger } from '../../logger.ts'
import { Metrics } from '../../observability/metrics.ts'
import type { Alert, AlertSink } from '../../ports/alert-sink.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { withRetry } from '../../retry.ts'
import { generatorOptionsFrom } from './generate.ts'
import { portFrom } from './serve.ts'
import { decisionTimeoutFrom } from './serve-decisions.ts'

type Flags = Record<string, unknown>

/** `darooghe demo`: the pipeline, the API and the dashboard in one process, with a live status line. */
async function demoAction(flags: Flags): Promise<void> {
  const env = process.env
  // The demo runs on its own log, state and history unless a flag names Kafka, Redis or MongoDB.
  const uses: Service[] = []
  if (flags.brokers !== undefined || flags.kafkaConfig !== undefined) uses.push('kafka')
  if (flags.redis !== undefined) uses.push('redis')
  if (flags.mongo !== undefined) uses.push('mongo')
  const config = loadConfig({ ...flags, logLevel: flags.logLevel ?? 'warn' }, env, uses)
  const log = createLogger('demo', config.logLevel)
  const gen = generatorOptionsFrom({ ...flags, rate: flags.rate ?? '50' }, env, Date.now())
  gen.customers ??= 5_000
  const port = portFrom(flags.port, 8080)
  const host = (flags.host as string | undefined) ?? '127.0.0.1'
  const alertsFile = (flags.alertsFile as string | undefined) ?? './alerts.log'
  const reportDir = (flags.reportDir as string | undefined) ?? './darooghe-report'
  const abort = new AbortController()
  const stop = (): void => abort.abort()

  const kafka = config.kafka?.connection
  const redis = config.redis?.connection
  const mongoUrl = config.mongo?.url
  const connect = (prefix: string): Promise<StateStore> =>
    redis === undefined
      ? Promise.resolve(new MemoryStateStore())
      : withRetry(
          `Redis at ${redact(redis.url)}`,
          () => RedisStateStore.connect({ ...redis, keyPrefix: prefix }),
          log,
          {
            signal: abort.signal,
            maxMs: 2_000
          }
        )

  const decisionTimeoutMs = decisionTimeoutFrom(flags.decisionTimeout)
  const metrics = new Metrics()
  const alertStore = new MemoryAlertStore()
  const apiSink: AlertSink = {
    name: 'api',
    deliver: async (a: Alert) => void (await alertStore.add(a as unknown as StoredAlert))
  }
  const totals = emptyTotals()
  const tty = process.stdout.isTTY
  const backend = kafka ? kafkaBackend(kafka) : memoryBackend(undefined, () => Object.values(DEMO_GROUPS))
  const live = new LiveView()
  // POST /v1/decisions through the demo's own stream (its detector replies on the default topic).
  const decisions = new DecisionService({
    bus: backend.decisionBus({ input: 'darooghe.transactions', replies: DEFAULT_REPLY_TOPIC, log }),
    store: new MemoryDecisionStore(),
    topic: 'darooghe.transactions',
    replyTopic: DEFAULT_REPLY_TOPIC,
    timeoutMs: decisionTimeoutMs,
    ttlMs: 3_600_000,
    log
  })
  // History is always stored: in MongoDB with --mongo, else in this process (analysed on demand).
  const documents: DocumentStore = mongoUrl
    ? await withRetry(
        `MongoDB at ${redactMongoUrl(mongoUrl)}`,
        () => MongoDocumentStore.connect({ url: mongoUrl, log }),
        log,
        { signal: abort.signal, maxMs: 2_000 }
      )
    : new MemoryDocumentStore()
  const app = buildApi({
    reports: {
      dir: reportDir,
      run: () =>
        reportFromStore(documents, {
          dir: reportDir,
          source: mongoUrl
            ? { kind: 'mongo', name: redactMongoUrl(mongoUrl) }
            : { kind: 'memory', name: 'demo' }
        })
    },
    metrics,
    logger: log,
    alertStore,
    live,
    decisions,
    topics: backend.browser,
    dashboard: true,
    stats: () => ({ pipeline: { ...totals, log: backend.name } })
  })
  // Listen first: a port in use fails before anything starts.
  const bound = await listen(app, host, port)
  let handle: DemoHandle
  try {
    handle = await startDemo({
      generator: gen,
      rules: (flags.rules as string | undefined) ?? 'default',
      log,
      signal: abort.signal,
      backend,
      live,
      ...(kafka ? { fromLatest: true } : {}),
      store: await connect(''),
      documents,
      dedupe: await connect('darooghe:darooghe-demo-dispatcher:'),
      alertsFile,
      sinks: [apiSink],
      onBatch: s => {
        addBatch(totals, s)
        metrics.observeBatch(s)
      },
      onAlert: a => process.stdout.write(`${tty ? '\r\x1b[K' : ''}${alertLine(a)}\n`)
    })
    await decisions.start()
  } catch (error) {
    await app.close()
    await decisions.close()
    await backend.close()
    throw error
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const started = Date.now()
  const status = (): string => {
    const secs = Math.max(1, (Date.now() - started) / 1000)
    return (
      `events ${totals.records} (${Math.round(totals.records / secs)}/s)  approved ${totals.approved}  ` +
      `fraud ${totals.fraud}  alerts ${totals.alerts}  errors ${totals.errors}  decided late ${totals.late}  ` +
      `max latency ${totals.latencyMax} ms`
    )
  }
  process.stdout.write(
    `darooghe demo: generator → ${backend.name} → detector → alerts, dispatcher, dashboard (Ctrl-C to stop)\n` +
      `dashboard: http://${host}:${bound}/\n` +
      `decisions: POST http://${host}:${bound}/v1/decisions (OpenAPI: /openapi.json)\n` +
      `alerts: ${alertsFile}\n`
  )
  const timer = setInterval(() => {
    if (tty) process.stdout.write(`\r\x1b[K${status()}`)
  }, 500)
  const limit = typeof flags.seconds === 'string' ? Number(flags.seconds) * 1000 : 0
  const timeout = limit > 0 ? setTimeout(stop, limit) : undefined
  try {
    await handle.done
  } finally {
    clearInterval(timer)
    if (timeout) clearTimeout(timeout)
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await app.close()
    await decisions.close()
    process.stdout.write(`${tty ? '\r\x1b[K' : ''}${status()}\nstopped cleanly\n`)
  }
}

/** An alert and the numbers behind each rule, on one line. */
function alertLine(a: Alert): string {
  const trace = a.trace as Record<string, Record<string, unknown>>
  const why = a.rules_fired
    .map(rule => {
      const { fired: _fired, ...numbers } = trace[rule] ?? {}
      return `${rule} ${JSON.stringify(numbers)}`
    })
    .join('; ')
  return `ALERT ${a.severity} ${a.customer_id} ${a.transaction_id} risk ${a.risk_score}: ${why}`
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run the whole pipeline with its dashboard in one process (embedded log and state by default)'
    )
    .option('--rate <n>', 'events per second (default 50)')
    .option('--customers <n>', 'customers (default 5000)')
    .option('--fraud-rate <f>', 'share of injected fraud (default 0.02)')
    .option('--seed <s>', 'seed for reproducible traffic')
    .option('--rules <name|file>', 'rule set (default: default)')
    .option('--port <n>', 'dashboard and API port (default 8080; 0 = any free port)')
    .option('--host <addr>', 'address to bind (default 127.0.0.1)')
    .option('--alerts-file <path>', 'NDJSON file the dispatcher appends alerts to (default ./alerts.log)')
    .option(
      '--report-dir <dir>',
      'where the dashboard\'s "Report" writes the batch report (default ./darooghe-report)'
    )
    .option('--brokers <list>', 'use Kafka instead of the embedded log (env DAROOGHE_BROKERS)')
    .option('--kafka-config <file>', KAFKA_CONFIG_HELP)
    .option('--redis <url>', 'keep state in Redis instead of in memory (env DAROOGHE_REDIS)')
    .option('--redis-ca <file>', REDIS_CA_HELP)
    .option(
      '--mongo <url>',
      'store decisions, alerts and windows in MongoDB (env DAROOGHE_MONGO; default: in this process)'
    )
    .option(
      '--decision-timeout <duration>',
      'POST /v1/decisions answers 504 after this long without a decision, e.g. 500ms, 2s (default 2s)'
    )
    .option('--seconds <n>', 'stop after this many seconds (default: until Ctrl-C)')
    .option('--log-level <level>', 'error | warn | info | debug (default warn)')
    .action(async (_opts: Flags, command: Command) => {
      await demoAction(command.opts())
    })
}
