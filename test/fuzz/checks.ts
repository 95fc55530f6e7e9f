/**
 * The per-record assertions shared by the processor and file targets: every input record gets
 * exactly one output (a decision or an error) or is a counted duplicate; what the reference
 * validator accepts is decided (late or not), what it rejects is an error; outputs are JSON and
 * bounded. Also the summary of each decision that the differential check compares.
 */
import type { ProcessorOptions } from '../../src/apps/processor/index.ts'
import { DEFAULT_LIMITS, parseJsonWithin, type RecordLimits } from '../../src/domain/limits.ts'
import { checkKeys } from '../../src/domain/json-keys.ts'
import { validateEvent } from '../../src/domain/validate.ts'
import { RecordFault } from '../../src/apps/guard/record-guard.ts'
import { DEFAULT_STORE_TOPICS } from '../../src/apps/store/index.ts'
import { documentMapper } from '../../src/apps/store/documents.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { escapeBytes, type Finding, type Target } from './report.ts'

/** Where an input record came from. */
export interface Origin {
  /** The hostile case, or null for a clean event. */
  readonly case: number | null
  readonly mutations: readonly string[]
  readonly payload: Buffer | null
}

export interface Expected {
  readonly offset: number
  readonly origin: Origin
  /** The reference verdict: limits, JSON.parse, validateEvent (src/domain). */
  readonly valid: boolean
  readonly reason: string
  readonly transactionId: string | null
}

/** An output record, parsed. */
export interface Out {
  readonly topic: string
  // Parsed output JSON: its fields are read by name.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly value: any
  readonly parsed: boolean
  readonly offset: number | null
  readonly bytes: number
  /** What the differential check compares (see summaryOf). */
  readonly summary: string
  /** The value's text, as a reader of the topic gets it (not kept by light reads). */
  readonly raw?: string
}

/** The largest output allowed: a record of the size limit, base64, plus the error's own fields. */
export function outputBound(limits: RecordLimits): number {
  return Math.ceil((limits.maxEventBytes * 4) / 3) + 16 * 1024
}

export function limitsOf(o: ProcessorOptions): RecordLimits {
  return (o as { limits?: RecordLimits }).limits ?? DEFAULT_LIMITS
}

/** What the project's own reference path says of a record: valid (with its id) or why not. */
export function oracle(
  bytes: Buffer | null,
  timestamp: number,
  o: ProcessorOptions
): { valid: boolean; reason: string; transactionId: string | null } {
  if (bytes === null) return { valid: false, reason: 'no value', transactionId: null }
  const parsed = parseJsonWithin(bytes, limitsOf(o))
  if (!parsed.ok) return { valid: false, reason: parsed.error.slice(0, 120), transactionId: null }
  const keys = checkKeys(bytes, { duplicates: 'last-wins' })
  if (keys !== null) return { valid: false, reason: keys.message, transactionId: null }
  const v = validateEvent(parsed.value, timestamp, o.validation)
  if (v.ok) return { valid: true, reason: '', transactionId: v.event.transaction_id }
  const i = v.issues[0]
  return {
    valid: false,
    reason: i ? `${i.code} ${i.field}: ${i.message}`.slice(0, 160) : 'invalid',
    transactionId: null
  }
}

const SOURCE_OFFSET = /"source":\{"topic":"(?:[^"\\]|\\.)*","partition":\d+,"offset":(\d+)\}/g

/** The offset in the last source object of the text (outputs end with theirs, or close to it). */
export function lastSourceOffset(text: string): number | null {
  const at = text.lastIndexOf('"source":{"topic":')
  if (at < 0) return null
  SOURCE_OFFSET.lastIndex = at
  const m = SOURCE_OFFSET.exec(text)
  SOURCE_OFFSET.lastIndex = 0
  return m ? Number(m[1]) : null
}

/**
 * A decision as the differential check compares it: its topic and the decision fields the
 * processor appends (decision, risk_score, rules_fired, trace, and late, lateness_ms when
 * late), not processed_at nor latency.
 */
export function summaryOf(topic: string, text: string): string {
  const from = text.lastIndexOf(',"decision":')
  const to = text.lastIndexOf(',"processing_latency_ms":')
  return from < 0 || to < from ? topic : `${topic}${text.slice(from, to)}`
}

/**
 * An output record: parsed (every output must be JSON), or with `light` (reference runs, whose
 * outputs only need their offset and decision) read from the text alone.
 */
export function parseOutput(topic: string, value: Buffer | string | null, light = false): Out {
  const text = value === null ? 'null' : typeof value === 'string' ? value : value.toString('utf8')
  const bytes = Buffer.byteLength(text)
  const summary = summaryOf(topic, text)
  if (light) return { topic, value: undefined, parsed: true, offset: lastSourceOffset(text), bytes, summary }
  try {
    const v = JSON.parse(text)
    const offset = typeof v?.source?.offset === 'number' ? (v.source.offset as number) : null
    return { topic, value: v, parsed: true, offset, bytes, summary, raw: text }
  } catch {
    // Attributed by the last source object in the text, for the report.
    return { topic, value: undefined, parsed: false, offset: lastSourceOffset(text), bytes, summary }
  }
}

export interface CheckContext {
  readonly target: Target
  readonly seed: string
  readonly batch: readonly [number, number]
  readonly options: ProcessorOptions
  /** The processor's count of duplicate transaction ids (records with no output). */
  readonly duplicates: number
  /** Offsets the processor reported as duplicates, when it collected outcomes. */
  readonly duplicateOffsets: ReadonlySet<number> | null
}

export function finding(
  c: Pick<CheckContext, 'target' | 'seed' | 'batch'>,
  origin: Origin | null,
  check: string,
  detail: string
): Finding {
  return {
    target: c.target,
    seed: c.seed,
    case: origin?.case ?? null,
    batch: c.batch,
    check,
    mutations: origin?.mutations ?? (origin ? ['clean event'] : []),
    head: origin ? escapeBytes(origin.payload) : '',
    bytes: origin ? (origin.payload?.length ?? 0) : -1,
    detail
  }
}

const mappers = new WeakMap<ProcessorOptions, (r: LogRecord) => unknown>()

/**
 * What `darooghe store` makes of an output (documentMapper: the output readers' limits, keys and
 * shapes): null when it maps it, else why not. The readers must accept whatever the processor
 * writes (src/domain/json-keys.ts, outputLimits), or a decision is stored as a reject.
 */
function downstream(topic: string, raw: string, o: ProcessorOptions): string | null {
  let map = mappers.get(o)
  if (map === undefined) {
    const topics = { ...DEFAULT_STORE_TOPICS, ...o.topics }
    map = documentMapper(topics, limitsOf(o))
    mappers.set(o, map)
  }
  const record: LogRecord = {
    topic,
    partition: 0,
    offset: 0,
    key: null,
    value: Buffer.from(raw),
    headers: {},
    timestamp: 0
  }
  try {
    map(record)
    return null
  } catch (error) {
    const kind = error instanceof RecordFault ? error.kind : 'threw'
    return `the store refuses the ${topic} record (${kind}): ${(error as Error).message.slice(0, 160)}`
  }
}

/** The late flag at the end of a decision's summary (see summaryOf). */
const LATE_FIELDS = /,"late":true,"lateness_ms":(-?[\d.e+-]+)$/

/** Checks one run's outputs against its inputs; returns the findings and each record's decision summary. */
export function checkOutputs(
  expected: readonly Expected[],
  outs: readonly Out[],
  c: CheckContext
): { findings: Finding[]; summaries: Map<number, string> } {
  const t = c.options.topics
  const primary = new Set([t.approved, t.fraud, t.errors])
  const findings: Finding[] = []
  const byOffset = new Map<number, Out[]>()
  const bound = outputBound(limitsOf(c.options))
  const at = new Map(expected.map(e => [e.offset, e]))
  for (const o of outs) {
    const e = o.offset === null ? undefined : at.get(o.offset)
    if (!o.parsed)
      findings.push(finding(c, e?.origin ?? null, 'output-not-json', `${o.topic} value is not JSON`))
    else if (o.value === null || (o.value !== undefined && typeof o.value !== 'object'))
      findings.push(finding(c, e?.origin ?? null, 'output-not-json', `${o.topic} value is not an object`))
    if (o.bytes > bound)
      findings.push(
        finding(
          c,
          e?.origin ?? null,
          'output-too-large',
          `${o.topic} value of ${o.bytes} bytes (bound ${bound})`
        )
      )
    const refused = o.raw === undefined ? null : downstream(o.topic, o.raw, c.options)
    if (refused !== null) findings.push(finding(c, e?.origin ?? null, 'downstream', refused))
    if (e === undefined) {
      findings.push(
        finding(c, null, 'output-unattributed', `${o.topic} output with source offset ${o.offset}`)
      )
      continue
    }
    const list = byOffset.get(e.offset)
    if (list) list.push(o)
    else byOffset.set(e.offset, [o])
  }
  const summaries = new Map<number, string>()
  const missing: Expected[] = []
  for (const e of expected) {
    const mine = byOffset.get(e.offset) ?? []
    const prim = mine.filter(o => primary.has(o.topic))
    const alerts = mine.filter(o => o.topic === t.alerts)
    if (prim.length === 0) {
      missing.push(e)
      summaries.set(e.offset, 'duplicate')
      continue
    }
    if (prim.length > 1) {
      findings.push(finding(c, e.origin, 'several-outputs', prim.map(o => o.topic).join(', ')))
    }
    const p = prim[0]!
    summaries.set(e.offset, p.summary)
    const decided = p.topic === t.approved || p.topic === t.fraud
    if (alerts.length > 1 || (alerts.length === 1 && !decided)) {
      findings.push(finding(c, e.origin, 'stray-alert', `${alerts.length} alerts beside ${p.topic}`))
    }
    // Outputs read lightly (reference runs), or not JSON objects (reported above).
    if (typeof p.value !== 'object' || p.value === null) continue
    if (p.topic === t.errors) {
      const codes: unknown = p.value.error_codes
      const message = String(p.value.issues?.[0]?.message ?? '').slice(0, 200)
      if (Array.isArray(codes) && codes.includes('ERR_INTERNAL')) {
        findings.push(finding(c, e.origin, 'internal-error', message))
      }
      if (e.valid) findings.push(finding(c, e.origin, 'rejected-valid', `${codes}: ${message}`))
      continue
    }
    if (!e.valid) {
      findings.push(finding(c, e.origin, 'accepted-invalid', `went to ${p.topic}; reference: ${e.reason}`))
      continue
    }
    const id: unknown = p.value.transaction_id
    if (id !== e.transactionId) {
      findings.push(
        finding(
          c,
          e.origin,
          'wrong-event',
          `${p.topic} for ${JSON.stringify(id)}, not ${JSON.stringify(e.transactionId)}`
        )
      )
    }
    if (decided && p.value.decision !== (p.topic === t.fraud ? 'fraud' : 'approved')) {
      findings.push(
        finding(c, e.origin, 'decision-topic', `decision ${JSON.stringify(p.value.decision)} on ${p.topic}`)
      )
    }
    // Read from the fields the processor appended (the event may carry a `late` of its own).
    const late = LATE_FIELDS.exec(p.summary)
    if (decided && late !== null && !(Number(late[1]) > c.options.allowedLatenessMs)) {
      findings.push(
        finding(
          c,
          e.origin,
          'late-flag',
          `late with lateness_ms ${late[1]} (allowed ${c.options.allowedLatenessMs})`
        )
      )
    }
  }
  for (const e of missing) {
    if (!e.valid)
      findings.push(finding(c, e.origin, 'no-output', `no output for a rejected record (${e.reason})`))
    else if (c.duplicateOffsets !== null && !c.duplicateOffsets.has(e.offset))
      findings.push(finding(c, e.origin, 'no-output', 'no output, and not reported as a duplicate'))
  }
  if (missing.length !== c.duplicates) {
    findings.push(
      finding(
        c,
        null,
        'unaccounted',
        `${missing.length} records without output, ${c.duplicates} duplicates counted`
      )
    )
  }
  return { findings, summaries }
}

/** What the hostile records of a run came to: error, approved, fraud or duplicate, and how many were decided late. */
export function tallyHostile(
  expected: readonly Expected[],
  summaries: ReadonlyMap<number, string>
): Record<string, number> {
  const out: Record<string, number> = {}
  for (const e of expected) {
    if (e.origin.case === null) continue
    const s = summaries.get(e.offset) ?? 'none'
    const k = s === 'duplicate' ? s : (/^darooghe\.(?:transactions\.)?([a-z_]+)/.exec(s)?.[1] ?? s)
    out[k] = (out[k] ?? 0) + 1
    if (LATE_FIELDS.test(s)) out.late = (out.late ?? 0) + 1
  }
  return out
}

/**
 * The differential check: each record of the reference run (clean events plus the hostile
 * records that the reference validator accepts) must come out of the noisy run as it came out
 * of the reference. `toNoisy` maps a reference offset to the same record's offset in the noisy run.
 */
export function compareRuns(
  reference: ReadonlyMap<number, string>,
  noisy: ReadonlyMap<number, string>,
  toNoisy: (offset: number) => number,
  origins: (noisyOffset: number) => Origin,
  c: Pick<CheckContext, 'target' | 'seed' | 'batch'>
): Finding[] {
  const out: Finding[] = []
  for (const [offset, want] of reference) {
    const n = toNoisy(offset)
    const got = noisy.get(n)
    if (got === want) continue
    out.push(
      finding(
        c,
        origins(n),
        'differential',
        `alone: ${want.slice(0, 160)}; among hostile records: ${String(got).slice(0, 160)}`
      )
    )
  }
  return out
}
