/**
 * The whole Darooghe pipeline as separate CLI processes on private services (see
 * private-services.ts), for the chaos suite: produce (paced) → detect → dispatch, windows,
 * store, and serve's live view. Progress of each command is sampled from the outside (the
 * producer's sent-log, committed offsets of each group, the alerts file, serve's overview).
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { KafkaLogAdmin, KafkaLogConsumer } from '../../src/adapters/kafka/index.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { start, type Running } from './cli.ts'
import type { PrivateServices } from './private-services.ts'
import { uniqueName, waitFor } from './services.ts'

export const COMMANDS = ['produce', 'detect', 'dispatch', 'windows', 'store', 'serve'] as const
export type CommandName = (typeof COMMANDS)[number]

export const TOPICS = Object.freeze({
  input: 'darooghe.transactions',
  approved: 'darooghe.transactions.approved',
  fraud: 'darooghe.transactions.fraud',
  alerts: 'darooghe.fraud_alerts',
  errors: 'darooghe.error_logs',
  late: 'darooghe.late_events',
  analytics: 'darooghe.analytics',
  summary: 'darooghe.dispatch_summary'
})

export const GROUPS = Object.freeze({
  detect: 'chaos-detect',
  dispatch: 'chaos-dispatch',
  windows: 'chaos-windows',
  store: 'chaos-store',
  serve: 'chaos-live'
})

/** The topics each consumer reads (its progress is its committed offsets on them). */
export const INPUTS: Readonly<Record<Exclude<CommandName, 'produce'>, readonly string[]>> = Object.freeze({
  detect: [TOPICS.input],
  dispatch: [TOPICS.alerts],
  windows: [TOPICS.approved, TOPICS.fraud],
  store: [TOPICS.approved, TOPICS.fraud, TOPICS.alerts, TOPICS.errors, TOPICS.late, TOPICS.analytics],
  serve: [TOPICS.approved, TOPICS.fraud, TOPICS.alerts, TOPICS.analytics]
})

/** A port nobody listens on now (the command binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise<void>(r => server.close(() => r()))
  return port
}

/** Lines of a file that only grows, counted from where the last call stopped. */
class LineCounter {
  #offset = 0
  lines = 0
  constructor(readonly path: string) {}
  count(): number {
    let size: number
    try {
      size = statSync(this.path).size
    } catch {
      return this.lines
    }
    if (size <= this.#offset) return this.lines
    const fd = openSync(this.path, 'r')
    try {
      const buf = Buffer.alloc(size - this.#offset)
      const n = readSync(fd, buf, 0, buf.length, this.#offset)
      // Count whole lines only: a line being written is counted once it ends.
      const last = buf.lastIndexOf(10, n - 1)
      if (last < 0) return this.lines
      for (let i = 0; i <= last; i++) if (buf[i] === 10) this.lines++
      this.#offset += last + 1
    } finally {
      closeSync(fd)
    }
    return this.lines
  }
}

export interface PipelineOptions {
  /** Events per second of the paced producer. */
  readonly rate: number
  /** Put in the Redis URL of every command: it must never show in a log or /health. */
  readonly secret: string
}

export class ChaosPipeline {
  readonly procs = new Map<CommandName, Running>()
  readonly metricsPorts = new Map<CommandName, number>()
  servePort = 0
  readonly sentLog: string
  readonly alertsFile: string
  readonly #sent: LineCounter
  readonly #alerts: LineCounter
  readonly #admin: KafkaLogAdmin
  readonly #s: PrivateServices
  readonly #o: PipelineOptions

  constructor(services: PrivateServices, options: PipelineOptions) {
    this.#s = services
    this.#o = options
    this.sentLog = join(services.dir, 'sent.ndjson')
    this.alertsFile = join(services.dir, 'alerts.log')
    this.#sent = new LineCounter(this.sentLog)
    this.#alerts = new LineCounter(this.alertsFile)
    this.#admin = new KafkaLogAdmin({
      brokers: [services.brokers],
      clientId: 'chaos-probe',
      timeoutMs: 3_000
    })
  }

  get brokers(): string {
    return this.#s.brokers
  }

  /** Topics first (3 partitions each), serve and its group, then the consumers, then the load. */
  async start(): Promise<void> {
    await this.#admin.createTopics(Object.values(TOPICS).map(name => ({ name, partitions: 3 })))
    const redis = this.#s.redisUrl(this.#o.secret)
    const mongo = this.#s.mongoUrl('chaos')
    const common = ['--brokers', this.brokers, '--log-level', 'info']
    const serve = start([
      'serve',
      ...common,
      '--port',
      '0',
      '--live-group',
      GROUPS.serve,
      '--redis',
      redis,
      '--mongo',
      mongo
    ])
    this.procs.set('serve', serve)
    // serve reads from the end of the topics: it joins its group before anything is decided
    // (the producer starts once every consumer has joined).
    for (const name of ['detect', 'dispatch', 'windows', 'store'] as const)
      this.metricsPorts.set(name, await freePort())
    const port = (name: CommandName) => ['--metrics-port', String(this.metricsPorts.get(name))]
    this.procs.set(
      'detect',
      start([
        'detect',
        ...common,
        '--redis',
        redis,
        '--group',
        GROUPS.detect,
        '--batch-size',
        '500',
        '--status-interval',
        '0',
        ...port('detect')
      ])
    )
    this.procs.set(
      'dispatch',
      start([
        'dispatch',
        ...common,
        '--redis',
        redis,
        '--group',
        GROUPS.dispatch,
        '--file',
        this.alertsFile,
        '--summary-interval',
        '3600',
        ...port('dispatch')
      ])
    )
    this.procs.set(
      'windows',
      start(['windows', ...common, '--redis', redis, '--group', GROUPS.windows, ...port('windows')])
    )
    this.procs.set(
      'store',
      start([
        'store',
        ...common,
        '--mongo',
        mongo,
        '--group',
        GROUPS.store,
        '--from-beginning',
        '--batch-size',
        '500',
        '--status-interval',
        '0',
        ...port('store')
      ])
    )
    this.servePort = await waitFor(() => Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(serve.stdout)?.[1] ?? 0), {
      what: 'serve to listen',
      timeoutMs: 90_000,
      intervalMs: 100
    })
    for (const name of ['serve', 'detect', 'dispatch', 'windows', 'store'] as const)
      await this.#waitJoined(name)
    this.procs.set(
      'produce',
      start([
        'produce',
        ...common,
        '--rate',
        String(this.#o.rate),
        '--customers',
        '40000',
        '--seed',
        uniqueName('chaos'),
        '--sent-log',
        this.sentLog,
        '--batch-size',
        '500'
      ])
    )
  }

  async #waitJoined(name: Exclude<CommandName, 'produce'>): Promise<void> {
    await waitFor(
      async () => {
        this.assertAlive(name)
        return (await this.#admin.groupMembers(GROUPS[name])) > 0
      },
      { what: `${name} to join its group`, timeoutMs: 90_000, intervalMs: 250 }
    )
  }

  /** Throws (with the command's stderr) when a command has exited. */
  assertAlive(name: CommandName): void {
    const p = this.procs.get(name)!
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      throw new Error(`${name} exited (${p.child.exitCode ?? p.child.signalCode}):\n${p.stderr.slice(-3000)}`)
    }
  }

  alive(): CommandName[] {
    return [...this.procs]
      .filter(([, p]) => p.child.exitCode === null && p.child.signalCode === null)
      .map(([n]) => n)
  }

  /** Sum of a group's committed offsets over its input topics (unreachable Kafka: null). */
  async committed(name: Exclude<CommandName, 'produce'>): Promise<number | null> {
    try {
      let sum = 0
      for (const topic of INPUTS[name]) {
        for (const c of await this.#admin.committedOffsets(GROUPS[name], topic)) sum += Math.max(0, c)
      }
      return sum
    } catch {
      return null
    }
  }

  /** How far each command got: a number that grows while it works. */
  async progress(): Promise<Record<CommandName, number | null>> {
    const [detect, windows, store, serve] = await Promise.all([
      this.committed('detect'),
      this.committed('windows'),
      this.committed('store'),
      this.overview().then(
        o => o.totals.events,
        () => null
      )
    ])
    // The dispatcher's work is the alerts it delivered (its commits follow them).
    return { produce: this.#sent.count(), detect, dispatch: this.#alerts.count(), windows, store, serve }
  }

  async overview(): Promise<{ totals: { events: number; alerts: number; windows: number } }> {
    const res = await fetch(`http://127.0.0.1:${this.servePort}/api/overview`, {
      signal: AbortSignal.timeout(2_000)
    })
    return (await res.json()) as { totals: { events: number; alerts: number; windows: number } }
  }

  /** GET /health of a command: serve's or the --metrics-port of the others. */
  async health(
    name: Exclude<CommandName, 'produce'>
  ): Promise<{ status: string; down: string[]; text: string }> {
    const port = name === 'serve' ? this.servePort : this.metricsPorts.get(name)!
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4_000) })
    const text = await res.text()
    const body = JSON.parse(text) as { status: string; down: string[] }
    return { status: body.status, down: body.down, text }
  }

  async metrics(name: Exclude<CommandName, 'produce' | 'serve'>): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.metricsPorts.get(name)}/metrics`, {
      signal: AbortSignal.timeout(4_000)
    })
    return res.text()
  }

  sentCount(): number {
    return this.#sent.count()
  }

  sentLines(): string[] {
    return readFileSync(this.sentLog, 'utf8').split('\n').filter(Boolean)
  }

  alertLines(): string[] {
    try {
      return readFileSync(this.alertsFile, 'utf8').split('\n').filter(Boolean)
    } catch {
      return []
    }
  }

  /** Whether a group has committed the end of each of its input topics. */
  async drained(name: Exclude<CommandName, 'produce'>): Promise<boolean> {
    for (const topic of INPUTS[name]) {
      const [ends, done] = await Promise.all([
        this.#admin.endOffsets(topic),
        this.#admin.committedOffsets(GROUPS[name], topic)
      ])
      if (ends.some((e, p) => e > 0 && (done[p] ?? -1) < e)) return false
    }
    return true
  }

  /** Every record of the topics, from the beginning (a group of its own). */
  readAll(topics: readonly string[]): Promise<LogRecord[]> {
    return readAllFrom([this.brokers], topics)
  }

  /** SIGTERM to one command (a pid we started); resolves with its exit code. */
  async stop(name: CommandName): Promise<number | string> {
    const p = this.procs.get(name)!
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM')
    return p.exited
  }

  async close(): Promise<void> {
    for (const [, p] of this.procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL')
    }
    await Promise.all([...this.procs.values()].map(p => p.exited))
    await this.#admin.close().catch(() => {})
  }
}

/** Every record of the topics on `brokers`, from the beginning (a group of its own). */
export async function readAllFrom(brokers: string[], topics: readonly string[]): Promise<LogRecord[]> {
  const admin = new KafkaLogAdmin({ brokers, clientId: 'chaos-read', timeoutMs: 5_000 })
  let want = 0
  try {
    for (const t of topics) for (const e of await admin.endOffsets(t)) want += e
  } finally {
    await admin.close().catch(() => {})
  }
  const seen: LogRecord[] = []
  const consumer = new KafkaLogConsumer({
    brokers,
    groupId: uniqueName('chaos-read'),
    topics,
    readCommitted: false
  })
  const running = consumer.run({ onBatch: async recs => void seen.push(...recs) })
  try {
    await waitFor(() => seen.length >= want, {
      what: `${want} records of ${topics.join(', ')}`,
      timeoutMs: 120_000
    })
  } finally {
    await consumer.close()
    await running
  }
  return seen
}
