import { randomBytes } from 'node:crypto'
import { statSync } from 'node:fs'
import type { Command } from 'commander'
import { KAFKA_CONFIG_HELP } from './connection-flags.ts'
import { openInput } from '../../adapters/file/index.ts'
import { readTopicRange } from '../../adapters/kafka/read-range.ts'
import { MongoDocumentStore, redactMongoUrl } from '../../adapters/mongo/index.ts'
import {
  analyse,
  logRows,
  ndjsonRows,
  SkipCounter,
  storeResults,
  storeRows,
  writeReport,
  type AnalyticsReport,
  type Row,
  type RunInfo,
  type Written
} from '../../apps/analytics/index.ts'
import type { KafkaConnection } from '../../adapters/kafka/options.ts'
import { kafkaConfigFrom, mongoFrom } from '../../config/connections.ts'
import { stderrWarn } from '../../config/load.ts'
import { DaroogheError } from '../../errors.ts'
import type { DocumentStore } from '../../ports/document-store.ts'
import { formatSummary } from './analyze-summary.ts'

export interface AnalyzeFlags {
  input?: string
  topic?: string
  brokers?: string
  kafkaConfig?: string
  fromBeginning?: boolean
  fromTimestamp?: string
  mongo?: string | boolean
  database?: string
  from?: string
  to?: string
  out?: string
  png?: boolean
  runId?: string
  quiet?: boolean
}

type Source =
  | { kind: 'file'; path: string }
  | { kind: 'kafka'; connection: KafkaConnection; topic: string; fromTimestampMs?: number }
  | { kind: 'mongo'; from?: Date; to?: Date }

/** The validated, frozen parameters of a run. */
export interface AnalyzePlan {
  readonly source: Source
  /** Where the transactions are read (source mongo) and the results stored; null: not stored. */
  readonly mongo: { readonly url: string; readonly database?: string } | null
  readonly out: string | null
  readonly chromiumPath: string | null
  readonly runId: string
  readonly quiet: boolean
}

type Env = Readonly<Record<string, string | undefined>>

function isoFlag(text: string | undefined, flag: string): Date | undefined {
  if (text === undefined) return undefined
  const ms = Date.parse(text)
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) {
    throw new DaroogheError(
      'USAGE',
      `${flag} must be an ISO-8601 time like 2026-01-01T00:00:00Z (got '${text}')`
    )
  }
  return new Date(ms)
}

/** Checks every flag before anything connects or reads; each problem is one line. */
export function planAnalyze(flags: AnalyzeFlags, env: Env): AnalyzePlan {
  const mongoGiven = flags.mongo !== undefined && flags.mongo !== false
  const chosen = [flags.input !== undefined, flags.topic !== undefined].filter(Boolean).length
  if (chosen > 1) throw new DaroogheError('USAGE', 'give one source: --input FILE or --topic NAME, not both')
  if (chosen === 0 && !mongoGiven) {
    throw new DaroogheError('USAGE', 'no source: give --input FILE, --topic NAME (Kafka) or --mongo [URL]')
  }
  const mongo = mongoGiven
    ? {
        url: mongoFrom(typeof flags.mongo === 'string' ? flags.mongo : undefined, env),
        ...(flags.database ? { database: flags.database } : {})
      }
    : null
  let source: Source
  if (flags.input !== undefined) {
    if (flags.input !== '-') {
      let file = false
      try {
        file = statSync(flags.input).isFile()
      } catch {
        // reported below
      }
      if (!file) throw new DaroogheError('USAGE', `--input: no such file '${flags.input}'`)
    }
    source = { kind: 'file', path: flags.input }
  } else if (flags.topic !== undefined) {
    if (flags.fromBeginning && flags.fromTimestamp !== undefined) {
      throw new DaroogheError('USAGE', 'give --from-beginning or --from-timestamp, not both')
    }
    const from = isoFlag(flags.fromTimestamp, '--from-timestamp')
    source = {
      kind: 'kafka',
      connection: kafkaConfigFrom(flags, env, stderrWarn(env)).connection,
      topic: flags.topic,
      ...(from ? { fromTimestampMs: from.getTime() } : {})
    }
  } else {
    const from = isoFlag(flags.from, '--from')
    const to = isoFlag(flags.to, '--to')
    if (from && to && from >= to) throw new DaroogheError('USAGE', `--from must be before --to`)
    source = { kind: 'mongo', ...(from ? { from } : {}), ...(to ? { to } : {}) }
  }
  if (source.kind !== 'mongo' && (flags.from !== undefined || flags.to !== undefined)) {
    throw new DaroogheError('USAGE', '--from/--to bound the MongoDB source; with Kafka use --from-timestamp')
  }
  if (source.kind !== 'kafka' && (flags.fromBeginning || flags.fromTimestamp !== undefined)) {
    throw new DaroogheError('USAGE', '--from-beginning/--from-timestamp apply to a Kafka --topic only')
  }
  const out = flags.out ?? null
  let chromiumPath: string | null = null
  if (out !== null && flags.png !== false) {
    chromiumPath = env.CHROMIUM_PATH ?? '/usr/bin/chromium'
    let ok = false
    try {
      ok = statSync(chromiumPath).isFile()
    } catch {
      // reported below
    }
    if (!ok)
      throw new DaroogheError('USAGE', `no Chromium at ${chromiumPath}: set CHROMIUM_PATH, or pass --no-png`)
  }
  const runId =
    flags.runId ??
    `analyze-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`
  if (!/^[\w.-]{1,100}$/.test(runId)) {
    throw new DaroogheError(
      'USAGE',
      `--run-id may use letters, digits, '.', '_' and '-' only (got '${runId}')`
    )
  }
  return Object.freeze({ source, mongo, out, chromiumPath, runId, quiet: flags.quiet === true })
}

function rowsOf(plan: AnalyzePlan, skips: SkipCounter, store: DocumentStore | null): AsyncIterable<Row[]> {
  const s = plan.source
  if (s.kind === 'file') return ndjsonRows(openInput(s.path), skips)
  if (s.kind === 'kafka') {
    const range = readTopicRange({ ...s.connection, topic: s.topic, fromTimestampMs: s.fromTimestampMs })
    return logRows(range, skips)
  }
  return storeRows(store!, skips, { from: s.from, to: s.to })
}

function describeSource(plan: AnalyzePlan): Pick<RunInfo, 'source' | 'range'> {
  const s = plan.source
  if (s.kind === 'file')
    return { source: { kind: 'file', name: s.path === '-' ? 'stdin' : s.path }, range: {} }
  if (s.kind === 'kafka') {
    const from = s.fromTimestampMs === undefined ? {} : { from: new Date(s.fromTimestampMs).toISOString() }
    return { source: { kind: 'kafka', name: s.topic }, range: from }
  }
  return {
    source: { kind: 'mongo', name: `${redactMongoUrl(plan.mongo!.url)} transactions` },
    range: { ...(s.from ? { from: s.from.toISOString() } : {}), ...(s.to ? { to: s.to.toISOString() } : {}) }
  }
}

export interface AnalyzeOutcome {
  readonly report: AnalyticsReport
  readonly written: Written | null
  readonly stored: boolean
}

/** Reads the source once, computes every aggregate, then writes the report and stores the results. */
export async function runAnalyze(plan: AnalyzePlan): Promise<AnalyzeOutcome> {
  const started = performance.now()
  const store = plan.mongo ? await MongoDocumentStore.connect(plan.mongo) : null
  try {
    const skips = new SkipCounter()
    const tty = !plan.quiet && process.stderr.isTTY
    let last = started
    const progress = (rows: number): void => {
      const now = performance.now()
      if (plan.quiet || now - last < (tty ? 1_000 : 10_000)) return
      last = now
      process.stderr.write(`${tty ? '\r' : ''}analyze: ${rows} rows…${tty ? '' : '\n'}`)
    }
    const { results, rows } = await analyse(rowsOf(plan, skips, store), progress)
    if (tty && performance.now() - started > 1_000) process.stderr.write('\r')
    const report: AnalyticsReport = {
      run: {
        id: plan.runId,
        created_at: new Date().toISOString(),
        ...describeSource(plan),
        rows,
        skipped: skips.toJSON(),
        seconds: (performance.now() - started) / 1000
      },
      results
    }
    const written =
      plan.out === null ? null : await writeReport(plan.out, report, { chromiumPath: plan.chromiumPath })
    if (store) await storeResults(store, report)
    return { report, written, stored: store !== null }
  } finally {
    await store?.close()
  }
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('batch analytics over the history and the visual report (HTML, PNG, JSON)')
    .option('-i, --input <file|->', 'source: NDJSON of events or decisions (generate/detect output)')
    .option('--topic <name>', 'source: a Kafka topic, read up to its end offsets at start')
    .option('--brokers <list>', 'Kafka: bootstrap brokers (env DAROOGHE_BROKERS, KAFKA_BROKER_URL)')
    .option('--kafka-config <file>', KAFKA_CONFIG_HELP)
    .option('--from-beginning', 'Kafka: from the earliest offset (the default)')
    .option('--from-timestamp <iso>', 'Kafka: from the first record stamped at or after this time')
    .option(
      '--mongo [url]',
      "MongoDB (env DAROOGHE_MONGO): alone, the source is its 'transactions'; results are stored there in every case"
    )
    .option('--database <name>', "MongoDB database (default: the URL's path, else darooghe)")
    .option('--from <iso>', 'MongoDB source: event_time at or after this')
    .option('--to <iso>', 'MongoDB source: event_time before this')
    .option('-o, --out <dir>', 'write report.html, report.json and charts/*.png here')
    .option('--no-png', 'skip the PNG charts (no Chromium needed)')
    .option('--run-id <id>', 'id of this run (default: analyze-<time>-<random>)')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      `
Exactly one source: --input, --topic, or --mongo alone. With --mongo beside --input or --topic,
the file or topic is analysed and the results are stored in MongoDB.

Examples:
  darooghe analyze --input events.ndjson --out report
  darooghe analyze --topic darooghe.transactions --from-timestamp 2026-01-01T00:00:00Z --mongo
  darooghe analyze --mongo mongodb://127.0.0.1:27017/darooghe --from 2026-01-01T00:00:00Z --out report`
    )
    .action(async (flags: AnalyzeFlags) => {
      const plan = planAnalyze(flags, process.env)
      const outcome = await runAnalyze(plan)
      process.stdout.write(formatSummary(outcome, plan.mongo ? redactMongoUrl(plan.mongo.url) : null))
    })
}
