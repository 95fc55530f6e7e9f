/**
 * What the chaos suite checks once the load stopped and every command drained: each input event
 * has its output in each command, nothing is decided twice differently. Each check returns its
 * counts and the problems it found (empty: passed), so the report shows every command at once.
 */
import { MongoClient } from 'mongodb'
import type { LogRecord } from '../../src/ports/log.ts'
import { readAllFrom, TOPICS, type ChaosPipeline } from './chaos-pipeline.ts'

type Json = Record<string, unknown>

export interface CheckResult {
  readonly command: string
  /** Inputs of the command, outputs it made, duplicate outputs (identical), e.g. { in: 9000, out: 9000, duplicates: 12 }. */
  readonly counts: Record<string, number>
  readonly problems: string[]
}

const parse = (r: LogRecord): Json => JSON.parse(r.value!.toString()) as Json
const sourceKey = (v: Json): string => {
  const s = v.source as { topic: string; partition: number; offset: number }
  return `${s.topic}:${s.partition}:${s.offset}`
}

/** Groups records by key; a key whose records differ in bytes is a problem. */
function identical(
  records: readonly LogRecord[],
  keyOf: (r: LogRecord) => string,
  what: string,
  problems: string[]
) {
  const first = new Map<string, string>()
  let duplicates = 0
  for (const r of records) {
    const key = keyOf(r)
    const bytes = r.value!.toString()
    const prev = first.get(key)
    if (prev === undefined) first.set(key, bytes)
    else {
      duplicates++
      if (prev !== bytes && problems.length < 20)
        problems.push(`${what} ${key} re-emitted with different bytes`)
    }
  }
  return { first, duplicates }
}

export interface Outputs {
  readonly input: LogRecord[]
  readonly decisions: LogRecord[]
  readonly errors: LogRecord[]
  /** The store still reads the late topic; the detector must write nothing there. */
  readonly late: LogRecord[]
  readonly alerts: LogRecord[]
  readonly analytics: LogRecord[]
}

export async function readOutputs(p: ChaosPipeline): Promise<Outputs> {
  return readOutputsFrom([p.brokers])
}

/** The pipeline's topics on `brokers` (default names), read whole. */
export async function readOutputsFrom(brokers: string[]): Promise<Outputs> {
  const all = await readAllFrom(brokers, [
    TOPICS.input,
    TOPICS.approved,
    TOPICS.fraud,
    TOPICS.errors,
    TOPICS.late,
    TOPICS.alerts,
    TOPICS.analytics
  ])
  const of = (...topics: string[]) => all.filter(r => topics.includes(r.topic))
  return {
    input: of(TOPICS.input),
    decisions: of(TOPICS.approved, TOPICS.fraud),
    errors: of(TOPICS.errors),
    late: of(TOPICS.late),
    alerts: of(TOPICS.alerts),
    analytics: of(TOPICS.analytics)
  }
}

/** produce: the topic holds every acknowledged event once (the idempotent producer's retries). */
export function checkProduce(p: Pick<ChaosPipeline, 'sentLines'>, o: Outputs): CheckResult {
  const problems: string[] = []
  const sent = p
    .sentLines()
    .map(l => JSON.parse(l) as { transaction_id: string; partition: number; offset: number })
  const inTopic = new Set(o.input.map(r => `${r.partition}:${r.offset}`))
  let missing = 0
  for (const s of sent) if (!inTopic.has(`${s.partition}:${s.offset}`)) missing++
  // The same event twice in the topic (a retry written again) shows as a repeated id.
  const ids = new Map<string, number>()
  for (const r of o.input) {
    let id: string
    try {
      id = String(parse(r).transaction_id)
    } catch {
      continue // a malformed event the generator injected: no id to read
    }
    ids.set(id, (ids.get(id) ?? 0) + 1)
  }
  const duplicates = [...ids.values()].reduce((a, n) => a + n - 1, 0)
  if (o.input.length !== sent.length)
    problems.push(`${sent.length} events acknowledged, ${o.input.length} in the topic`)
  if (duplicates > 0) problems.push(`${duplicates} events written twice`)
  if (missing > 0) problems.push(`${missing} acknowledged events missing from the topic`)
  return { command: 'produce', counts: { in: sent.length, out: o.input.length, duplicates }, problems }
}

/** detect: every input record has one output (a decision, late or not, or an error); re-emits identical. */
export function checkDetect(o: Outputs): CheckResult {
  const problems: string[] = []
  if (o.late.length > 0)
    problems.push(`${o.late.length} records on ${TOPICS.late}: every payment is to be decided`)
  const primary = [...o.decisions, ...o.errors]
  const { first, duplicates } = identical(primary, r => sourceKey(parse(r)), 'output of', problems)
  let missing = 0
  for (const r of o.input) if (!first.has(`${r.topic}:${r.partition}:${r.offset}`)) missing++
  if (missing > 0) problems.push(`${missing} of ${o.input.length} input records have no output`)
  // Decisions by transaction id too (the id the dedupe downstream uses).
  identical(o.decisions, r => String(parse(r).transaction_id), 'decision for', problems)
  const alerts = identical(o.alerts, r => String(parse(r).alert_id), 'alert', problems)
  const fraud = new Set(
    o.decisions
      .map(parse)
      .filter(v => v.decision === 'fraud')
      .map(v => `alert-${String(v.transaction_id)}`)
  )
  for (const id of fraud) if (!alerts.first.has(id)) problems.push(`fraud decision without ${id}`)
  return {
    command: 'detect',
    counts: {
      in: o.input.length,
      out: first.size,
      duplicates: duplicates + alerts.duplicates,
      alerts: alerts.first.size
    },
    problems
  }
}

/** dispatch: every alert of the topic delivered to the file exactly once. */
export function checkDispatch(p: ChaosPipeline, o: Outputs): CheckResult {
  const problems: string[] = []
  const want = new Set(o.alerts.map(r => String(parse(r).alert_id)))
  const lines = p.alertLines()
  const got = new Map<string, number>()
  for (const l of lines) {
    const id = String((JSON.parse(l) as Json).alert_id)
    got.set(id, (got.get(id) ?? 0) + 1)
  }
  const duplicates = [...got.values()].reduce((a, n) => a + n - 1, 0)
  let missing = 0
  for (const id of want) if (!got.has(id)) missing++
  if (missing > 0) problems.push(`${missing} of ${want.size} alerts never delivered`)
  if (duplicates > 0) problems.push(`${duplicates} alerts delivered twice`)
  return { command: 'dispatch', counts: { in: want.size, out: got.size, duplicates }, problems }
}

const SLIDING = 'sliding_1m'

/**
 * windows: every window published once or identically, and each closed 1-minute window counts
 * exactly the decisions whose event time falls in it (nothing lost, nothing counted twice).
 */
export function checkWindows(o: Outputs): CheckResult {
  const problems: string[] = []
  const { first, duplicates } = identical(o.analytics, r => String(parse(r).window_id), 'window', problems)
  const times = new Map<string, number>()
  for (const r of o.decisions) {
    const v = parse(r)
    times.set(String(v.transaction_id), Date.parse(String(v.event_time)))
  }
  const sorted = [...times.values()].sort((a, b) => a - b)
  const countIn = (from: number, to: number): number => lowerBound(sorted, to) - lowerBound(sorted, from)
  let checked = 0
  let counted = 0
  for (const bytes of first.values()) {
    const w = JSON.parse(bytes) as Json
    if (w.kind !== SLIDING) continue
    const start = Date.parse(String(w.window_start))
    const end = Date.parse(String(w.window_end))
    const want = countIn(start, end)
    checked++
    counted += Number(w.transactions)
    if (w.transactions !== want && problems.length < 20)
      problems.push(
        `${String(w.window_id)}: ${String(w.transactions)} transactions, the decisions say ${want}`
      )
  }
  if (checked === 0) problems.push('no 1-minute window closed')
  return {
    command: 'windows',
    counts: { in: times.size, out: first.size, duplicates, windows_checked: checked, rows_counted: counted },
    problems
  }
}

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** store: one document per decision, alert, error, late event and window. */
export async function checkStore(mongoUrl: string, o: Outputs): Promise<CheckResult> {
  const problems: string[] = []
  const distinct = (records: LogRecord[], key: (v: Json) => string) =>
    new Set(records.map(r => key(parse(r)))).size
  const want: Record<string, number> = {
    decisions: distinct(o.decisions, v => String(v.transaction_id)),
    alerts: distinct(o.alerts, v => String(v.alert_id)),
    validation_errors: distinct(o.errors, sourceKey),
    late_events: distinct(o.late, sourceKey),
    analytics_windows: distinct(o.analytics, v => String(v.window_id))
  }
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000 })
  const counts: Record<string, number> = {}
  try {
    const db = client.db()
    for (const c of Object.keys(want)) counts[c] = await db.collection(c).countDocuments({})
    counts.store_rejects = await db.collection('store_rejects').countDocuments({})
  } finally {
    await client.close()
  }
  for (const [c, n] of Object.entries(want)) {
    if (counts[c] !== n) problems.push(`${c}: ${counts[c]} documents, ${n} distinct records`)
  }
  if (counts.store_rejects! > 0) problems.push(`${counts.store_rejects} records rejected by the store`)
  const inCount = Object.values(want).reduce((a, b) => a + b, 0)
  const outCount = Object.keys(want).reduce((a, c) => a + (counts[c] ?? 0), 0)
  return { command: 'store', counts: { in: inCount, out: outCount, duplicates: 0 }, problems }
}

/** serve: the live view saw every decision (at least once) and every alert once. */
export async function checkServe(p: ChaosPipeline, o: Outputs): Promise<CheckResult> {
  const problems: string[] = []
  const decisions = new Set(o.decisions.map(r => String(parse(r).transaction_id))).size
  const alerts = new Set(o.alerts.map(r => String(parse(r).alert_id))).size
  const t = (await p.overview()).totals
  if (t.events < decisions) problems.push(`the live view counted ${t.events} decisions of ${decisions}`)
  if (t.alerts !== alerts) problems.push(`the live view counted ${t.alerts} alerts of ${alerts}`)
  return {
    command: 'serve',
    counts: { in: decisions, out: t.events, duplicates: t.events - decisions, alerts: t.alerts },
    problems
  }
}
