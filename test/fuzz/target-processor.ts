/**
 * Target `processor`: the Kafka-shaped record path. Each batch's clean events and hostile
 * records are encoded as one Kafka record batch and decoded by the fetcher's decoder
 * (decodeRecordBatches), so values are views of a response buffer exactly as in production,
 * then fed to the processor in three polls the way the detector drives it.
 */
import { decodeRecordBatches } from '../../src/adapters/kafka/protocol/record-batch-decode.ts'
import { encodeRecordBatch } from '../../src/adapters/kafka/produce-request.ts'
import type { LogRecord, OutRecord } from '../../src/ports/log.ts'
import { eventCase, type HostileCase } from './cases.ts'
import {
  checkOutputs,
  compareRuns,
  tallyHostile,
  finding,
  oracle,
  type Expected,
  type Origin
} from './checks.ts'
import type { CleanEvent } from './corpus.ts'
import { describeError, drivePolls, KAFKA_OPTIONS, kafkaProcessor, redelivery } from './drive.ts'
import type { Finding } from './report.ts'
import { alone } from './target.ts'
import type { BatchEnv, BatchResult, BatchSpec } from './target.ts'

const TOPIC = 'darooghe.transactions'
const BASE_OFFSET = 1_000
/** Clean events after which a new poll starts. */
const POLL_STARTS = [20, 40]

interface Item {
  readonly origin: Origin
  readonly payload: Buffer | null
  readonly timestamp: number
  readonly key: Buffer | null
  readonly headers: [string, string][]
  /** Poll it belongs to: by the clean events before it, so the same in every run. */
  readonly poll: number
}

function pollOf(cleanIndex: number): number {
  let p = 0
  while (p < POLL_STARTS.length && cleanIndex >= POLL_STARTS[p]!) p++
  return p
}

function items(clean: readonly CleanEvent[], cases: readonly HostileCase[]): Item[] {
  const out: Item[] = []
  const byPos = new Map<number, HostileCase[]>()
  for (const c of cases) byPos.set(c.pos, [...(byPos.get(c.pos) ?? []), c])
  for (let p = 0; p <= clean.length; p++) {
    const anchor = clean[Math.min(p, clean.length - 1)]!
    for (const c of byPos.get(p) ?? []) {
      for (const payload of c.payloads) {
        out.push({
          origin: { case: c.k, mutations: c.mutations, payload },
          payload,
          timestamp: c.recordTimestamp ?? anchor.eventTimeMs,
          key: Buffer.from(`fz-${c.k}`),
          headers: c.headers ?? [],
          poll: pollOf(p)
        })
      }
    }
    if (p === clean.length) break
    const e = clean[p]!
    const payload = Buffer.from(e.raw)
    out.push({
      origin: { case: null, mutations: ['clean'], payload },
      payload,
      timestamp: e.eventTimeMs,
      key: Buffer.from(e.key),
      headers: [],
      poll: pollOf(p)
    })
  }
  return out
}

/**
 * The items as the fetcher hands them over: one record batch as the project's producer writes it
 * (encodeRecordBatch), decoded in place by the fetcher's decoder, so values are views of one
 * response buffer. (Not the client library's createRecordsBatch: it writes timestamp deltas of
 * 2^31 ms and more wrong.)
 */
function fetched(list: readonly Item[]): LogRecord[] {
  const records: OutRecord[] = list.map(it => ({
    topic: TOPIC,
    key: it.key,
    value: it.payload,
    headers: headersOf(it.headers),
    timestamp: it.timestamp
  }))
  const bytes = encodeRecordBatch(
    records,
    { topic: TOPIC, partition: 0, indexes: records.map((_, i) => i), baseSequence: -1 },
    { producerId: -1n, producerEpoch: -1 },
    0
  )
  bytes.writeBigInt64BE(BigInt(BASE_OFFSET), 0)
  const out: LogRecord[] = []
  decodeRecordBatches(bytes, TOPIC, 0, 0, null, out)
  return out
}

/** Headers as own properties, `__proto__` included. */
function headersOf(pairs: readonly [string, string][]): Record<string, string> {
  const h: Record<string, string> = {}
  for (const [k, v] of pairs)
    Object.defineProperty(h, k, { value: v, enumerable: true, writable: true, configurable: true })
  return h
}

function polls(
  records: readonly LogRecord[],
  list: readonly Item[],
  keep: (i: number) => boolean
): LogRecord[][] {
  const out: LogRecord[][] = POLL_STARTS.map(() => []).concat([[]])
  records.forEach((r, i) => {
    if (keep(i)) out[list[i]!.poll]!.push(r)
  })
  return out.filter(p => p.length > 0)
}

export async function processorBatch(spec: BatchSpec, env: BatchEnv): Promise<BatchResult> {
  const clean = env.clean(spec.window)
  const cases = spec.cases.map(k => eventCase(spec.seed, 'processor', k, env.bases, clean))
  const c = { target: 'processor' as const, seed: spec.seed, batch: spec.range }
  const list = items(clean, cases)
  const records = fetched(list)
  const findings: Finding[] = []
  if (records.length !== list.length) {
    findings.push(
      finding(c, null, 'kafka-decode', `${list.length} records encoded, ${records.length} decoded`)
    )
    return { findings, records: list.length, hostile: 0, threw: true }
  }
  // One finding per batch for records read back otherwise than written: the first, and how many.
  const misread = records.flatMap((r, i) => {
    const it = list[i]!
    const same =
      r.timestamp === it.timestamp && Buffer.from(r.value ?? '').equals(it.payload ?? Buffer.alloc(0))
    return same ? [] : [[i, r.timestamp] as const]
  })
  if (misread.length > 0) {
    const [i, ts] = misread[0]!
    const it = list[i]!
    const first = list[0]!
    const what = `${misread.length} records read back otherwise, e.g. timestamp ${it.timestamp} read as ${ts} (the batch's first record: ${first.timestamp})`
    // Timestamps are written as deltas from the first record's: a hostile first record is the likelier cause.
    findings.push(finding(c, first.origin.case === null ? it.origin : first.origin, 'kafka-roundtrip', what))
  }
  records.forEach((r, i) => {
    for (const [name] of list[i]!.headers) {
      if (!Object.prototype.hasOwnProperty.call(r.headers, name))
        findings.push(
          finding(
            c,
            list[i]!.origin,
            'header-lost',
            `header ${JSON.stringify(name.slice(0, 40))} missing after decoding`
          )
        )
    }
  })
  const expected: Expected[] = records.map((r, i) => ({
    offset: r.offset,
    origin: list[i]!.origin,
    ...oracle(r.value, r.timestamp, KAFKA_OPTIONS)
  }))
  const nowMs = clean[clean.length - 1]!.eventTimeMs + 5_000
  const noisy = await drivePolls(
    kafkaProcessor(nowMs),
    polls(records, list, () => true)
  )
  if (noisy.error !== null) {
    findings.push(finding(c, null, 'threw', describeError(noisy.error)))
    if (cases.length > 1) findings.push(...(await isolate(spec, env, 'threw')))
    return { findings, records: list.length, hostile: list.length - clean.length, threw: true }
  }
  const check = checkOutputs(expected, noisy.outs, {
    ...c,
    options: KAFKA_OPTIONS,
    duplicates: noisy.duplicates,
    duplicateOffsets: noisy.duplicateOffsets
  })
  findings.push(...check.findings)
  const again = await redelivery(polls(records, list, () => true)[0]!, nowMs)
  if (again !== null) findings.push(finding(c, null, 'redelivery', again))
  // The reference: the clean events and the hostile records the validator accepts, alone.
  const keep = (i: number): boolean => list[i]!.origin.case === null || expected[i]!.valid
  const ref = await drivePolls(kafkaProcessor(nowMs), polls(records, list, keep), true)
  if (ref.error !== null) {
    findings.push(finding(c, null, 'threw', `reference run: ${describeError(ref.error)}`))
  } else {
    const refCheck = checkOutputs(
      expected.filter((_, i) => keep(i)),
      ref.outs,
      { ...c, options: KAFKA_OPTIONS, duplicates: ref.duplicates, duplicateOffsets: ref.duplicateOffsets }
    )
    const originAt = new Map(expected.map(e => [e.offset, e.origin]))
    const diff = compareRuns(
      refCheck.summaries,
      check.summaries,
      o => o,
      o => originAt.get(o)!,
      c
    )
    findings.push(...diff)
    if (diff.length > 0 && cases.length > 1) findings.push(...(await isolate(spec, env, 'differential')))
  }
  return {
    findings,
    records: list.length,
    hostile: list.length - clean.length,
    threw: false,
    tally: tallyHostile(expected, check.summaries)
  }
}

/** Runs each case of a batch alone (with the same clean events), to name the ones behind a batch-level finding. */
async function isolate(spec: BatchSpec, env: BatchEnv, check: string): Promise<Finding[]> {
  const out: Finding[] = []
  for (const k of spec.cases) {
    const r = await processorBatch({ ...spec, cases: [k] }, env)
    const hostile = eventCase(spec.seed, 'processor', k, env.bases, env.clean(spec.window))
    out.push(...r.findings.filter(f => f.check === check).map(f => alone(f, hostile)))
  }
  return out
}
