import { DaroogheError } from '../errors.ts'
import type { LogRecord, OutRecord } from '../ports/log.ts'
import { ByteReader, ByteSlab } from '../bytes/index.ts'
import { indexOfSorted } from './sorted.ts'

/**
 * The outputs of a partition's last written batch, by source offset. Stored in the same atomic
 * state write as the state they came from, so that a redelivered record (offset <= the
 * partition's processed offset) re-emits exactly what it emitted the first time, without
 * touching state. `starts[i]..starts[i + 1]` index the outputs of `offsets[i]` in `records`.
 */
export interface ReplayLog {
  readonly offsets: number[]
  readonly starts: number[]
  readonly records: OutRecord[]
}

/**
 * An output whose value begins with the first `inputPrefix` bytes of its input record's value
 * (e.g. the event enriched with a decision). The log stores only the rest: a redelivered
 * record carries the same bytes at the same offset, so the value is rebuilt exactly.
 */
export interface DerivedOutRecord extends OutRecord {
  readonly inputPrefix?: number
  /** Decoded from the store: `value` holds only the bytes after the prefix. */
  readonly partial?: boolean
}

export const EMPTY_LOG: ReplayLog = Object.freeze({ offsets: [], starts: [0], records: [] }) as ReplayLog

export function newLog(): ReplayLog {
  return { offsets: [], starts: [0], records: [] }
}

/**
 * The output to re-emit for `input`: a stored remainder gets the input's bytes back in front.
 * Null when the input is too short to be the record the output came from.
 */
export function expand(stored: DerivedOutRecord, input: Buffer | null): OutRecord | null {
  if (stored.partial !== true) return stored
  const prefix = stored.inputPrefix!
  const rest = stored.value as Buffer
  if (input === null || input.length < prefix) return null
  const value = Buffer.allocUnsafe(prefix + rest.length)
  input.copy(value, 0, 0, prefix)
  rest.copy(value, prefix)
  const full: { -readonly [K in keyof DerivedOutRecord]: DerivedOutRecord[K] } = {
    topic: stored.topic,
    key: stored.key,
    value,
    inputPrefix: prefix
  }
  if (stored.timestamp !== undefined) full.timestamp = stored.timestamp
  if (stored.partition !== undefined) full.partition = stored.partition
  if (stored.headers !== undefined) full.headers = stored.headers
  return full
}

/** Index of `offset` in the log, or -1. */
export function findOffset(log: ReplayLog, offset: number): number {
  return indexOfSorted(log.offsets, offset)
}

/** Pushes the stored outputs of an already processed record; false if they are not stored. */
export function reemit(log: ReplayLog, rec: LogRecord, outputs: OutRecord[]): boolean {
  const at = findOffset(log, rec.offset)
  if (at < 0) return false
  for (let j = log.starts[at]!; j < log.starts[at + 1]!; j++) {
    const out = expand(log.records[j]!, rec.value)
    if (out === null) {
      throw new DaroogheError(
        'CONFIG',
        `record ${rec.topic}:${rec.partition}@${rec.offset} is not the one whose outputs are stored (was the topic recreated?): clear the state store`
      )
    }
    outputs.push(out)
  }
  return true
}

/**
 * Binary form (little-endian), written into the batch's slab:
 *   u8 2 | u16 topic count, each u16 length + UTF-8 | u32 output count, then per output:
 *   f64 source offset | u16 topic index | u8 flags | key | [f64 timestamp] | [u32 partition]
 *   | [u16 length + headers JSON] | value
 * flags: bits 0–1 key (0 null, 1 string, 2 bytes), bits 2–3 value (0 null, 1 string, 2 bytes,
 * 3 derived), bit 4 timestamp, bit 5 partition, bit 6 headers. A string key is u16 length +
 * UTF-8, a bytes key u32 length + bytes. A value is u32 length + bytes (a string's as UTF-8); a
 * derived value is preceded by its u32 input prefix and stored without it (those bytes are the
 * input's).
 */
const LOG_VERSION = 2
const KEY_STRING = 1
const KEY_BYTES = 2
const VALUE_STRING = 1 << 2
const VALUE_BYTES = 2 << 2
const VALUE_DERIVED = 3 << 2
const HAS_TIMESTAMP = 1 << 4
const HAS_PARTITION = 1 << 5
const HAS_HEADERS = 1 << 6

export function encodeReplayLog(log: ReplayLog, slab: ByteSlab = new ByteSlab(0)): Buffer {
  if (log.records.length === 0) return EMPTY_BYTES
  const topics = new Map<string, number>()
  const headersJson = new Map<object, string>()
  let bound = 1 + 2 + 4
  for (const r of log.records) {
    if (!topics.has(r.topic)) {
      topics.set(r.topic, topics.size)
      bound += 2 + r.topic.length * 3
    }
    bound += 8 + 2 + 1 + 8 + 4 + 4 + 4
    const k = r.key
    if (k != null) bound += 4 + (typeof k === 'string' ? k.length * 3 : k.length)
    const v = r.value
    if (v != null) bound += typeof v === 'string' ? v.length * 3 : v.length
    if (r.headers !== undefined) {
      let json = headersJson.get(r.headers)
      if (json === undefined) headersJson.set(r.headers, (json = JSON.stringify(r.headers)))
      bound += 2 + json.length * 3
    }
  }
  if (topics.size > 0xffff) throw new RangeError('replay log with more than 65,535 topics')
  const w = slab.begin(bound)
  w.u8(LOG_VERSION)
  w.u16(topics.size)
  for (const t of topics.keys()) w.str16(t)
  w.u32(log.records.length)
  for (let i = 0; i < log.offsets.length; i++) {
    const offset = log.offsets[i]!
    for (let j = log.starts[i]!; j < log.starts[i + 1]!; j++) {
      const r = log.records[j] as DerivedOutRecord
      const k = r.key
      const v = r.value
      let flags = k == null ? 0 : typeof k === 'string' ? KEY_STRING : KEY_BYTES
      flags |=
        v == null
          ? 0
          : typeof v === 'string'
            ? VALUE_STRING
            : r.inputPrefix !== undefined
              ? VALUE_DERIVED
              : VALUE_BYTES
      if (r.timestamp !== undefined) flags |= HAS_TIMESTAMP
      if (r.partition !== undefined) flags |= HAS_PARTITION
      if (r.headers !== undefined) flags |= HAS_HEADERS
      w.f64(offset)
      w.u16(topics.get(r.topic)!)
      w.u8(flags)
      if (typeof k === 'string') w.str16(k)
      else if (k != null) w.bytes32(k)
      if (r.timestamp !== undefined) w.f64(r.timestamp)
      if (r.partition !== undefined) w.u32(r.partition)
      if (r.headers !== undefined) w.str16(headersJson.get(r.headers)!)
      if (typeof v === 'string') w.bytes32(Buffer.from(v, 'utf8'))
      else if (v != null) {
        if (r.inputPrefix === undefined) w.bytes32(v)
        else {
          // A decoded (partial) record holds only the remainder already.
          w.u32(r.inputPrefix)
          w.bytes32(r.partial === true ? v : v.subarray(r.inputPrefix))
        }
      }
    }
  }
  return slab.end()
}

const EMPTY_BYTES = Buffer.alloc(0)

/** Inverse of `encodeReplayLog` (values are views of `raw`); throws on bytes it did not write. */
export function decodeReplayLog(raw: Buffer | null): ReplayLog {
  const log = newLog()
  if (raw === null || raw.length === 0) return log
  const r = new ByteReader(raw)
  try {
    if (r.u8() !== LOG_VERSION) throw new Error('not a version-2 replay log')
    const topics: string[] = new Array(r.u16())
    for (let i = 0; i < topics.length; i++) topics[i] = r.str16()
    const count = r.u32()
    for (let i = 0; i < count; i++) {
      const offset = r.f64()
      const topic = topics[r.u16()]
      if (topic === undefined) throw new Error('unknown topic index')
      const flags = r.u8()
      const keyKind = flags & 3
      const rec: { -readonly [K in keyof DerivedOutRecord]: DerivedOutRecord[K] } = {
        topic,
        key: keyKind === KEY_STRING ? r.str16() : keyKind === KEY_BYTES ? r.bytes32() : null,
        value: null
      }
      if ((flags & HAS_TIMESTAMP) !== 0) rec.timestamp = r.f64()
      if ((flags & HAS_PARTITION) !== 0) rec.partition = r.u32()
      if ((flags & HAS_HEADERS) !== 0) rec.headers = JSON.parse(r.str16()) as Record<string, string>
      const valueKind = flags & (3 << 2)
      if (valueKind === VALUE_STRING) rec.value = r.bytes32().toString('utf8')
      else if (valueKind === VALUE_BYTES) rec.value = r.bytes32()
      else if (valueKind === VALUE_DERIVED) {
        rec.inputPrefix = r.u32()
        rec.value = r.bytes32()
        rec.partial = true
      }
      const n = log.offsets.length
      if (n === 0 || log.offsets[n - 1] !== offset) {
        log.offsets.push(offset)
        log.starts.push(log.records.length)
      }
      log.records.push(rec)
      log.starts[log.starts.length - 1] = log.records.length
    }
  } catch (error) {
    throw new Error(`malformed replay log (${(error as Error).message})`, { cause: error })
  }
  if (!r.done) throw new Error('replay log has trailing bytes')
  return log
}
