import type { OutRecord } from '../ports/log.ts'

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

/** Index of `offset` in the log, or -1. */
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

export function findOffset(log: ReplayLog, offset: number): number {
  const o = log.offsets
  let lo = 0
  let hi = o.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = o[mid]!
    if (v === offset) return mid
    if (v < offset) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

/**
 * Text form: a header block, an empty line, then every value back to back.
 *   header  = offset \t topic \t key \t timestamp \t partition \t headers \t value-tag value-length
 * topic, key and headers are JSON; key and value are tagged: s string, l Buffer as latin1 text
 * (one char per byte: lossless for any bytes), d<prefix>: a derived Buffer (latin1, stored
 * without its first <prefix> bytes, which are the input's), n null. Values are not escaped, only
 * length-prefixed (lengths count UTF-16 units, i.e. bytes for l). Buffers that sit back to
 * back in memory (a batch's slab) are converted in one run.
 */
export function encodeReplayLog(log: ReplayLog): string {
  if (log.records.length === 0) return ''
  const headers: string[] = []
  const values: string[] = []
  let lastTopic = ''
  let lastTopicJson = ''
  let lastHeaders: object | undefined
  let lastHeadersJson = 'null'
  let lastKey: Buffer | string | null | undefined
  let lastKeyJson = ''
  let run: ArrayBufferLike | null = null
  let runStart = 0
  let runEnd = 0
  const flush = (): void => {
    if (run !== null) values.push(Buffer.from(run, runStart, runEnd - runStart).toString('latin1'))
    run = null
  }
  for (let i = 0; i < log.offsets.length; i++) {
    const offset = log.offsets[i]!
    for (let j = log.starts[i]!; j < log.starts[i + 1]!; j++) {
      const r = log.records[j]!
      if (r.topic !== lastTopic) {
        lastTopic = r.topic
        lastTopicJson = JSON.stringify(r.topic)
      }
      if (r.headers !== lastHeaders) {
        lastHeaders = r.headers
        lastHeadersJson = r.headers === undefined ? 'null' : JSON.stringify(r.headers)
      }
      const d = r as DerivedOutRecord
      const v = r.value
      // Derived values are stored from `skip` on (their prefix is the input's bytes).
      const skip = d.inputPrefix === undefined || d.partial === true ? 0 : d.inputPrefix
      let tagLen: string
      if (typeof v === 'string') {
        flush()
        values.push(v)
        tagLen = `s${v.length}`
      } else if (v == null) {
        tagLen = 'n0'
      } else {
        const from = v.byteOffset + skip
        if (run !== v.buffer || runEnd !== from) {
          flush()
          run = v.buffer
          runStart = from
        }
        runEnd = v.byteOffset + v.length
        tagLen = d.inputPrefix === undefined ? `l${v.length}` : `d${d.inputPrefix}:${v.length - skip}`
      }
      // A decision and its alert share key, time and headers: encode them once.
      if (r.key !== lastKey || lastKeyJson === '') {
        lastKey = r.key
        lastKeyJson = keyJson(r.key)
      }
      headers.push(
        `${offset}\t${lastTopicJson}\t${lastKeyJson}\t${r.timestamp ?? ''}\t${r.partition ?? ''}\t${lastHeadersJson}\t${tagLen}`
      )
    }
  }
  flush()
  return headers.join('\n') + '\n\n' + values.join('')
}

function keyJson(k: Buffer | string | null | undefined): string {
  if (k === null || k === undefined) return '"n"'
  return JSON.stringify(typeof k === 'string' ? 's' + k : 'l' + k.toString('latin1'))
}

function untag(t: string): Buffer | string | null {
  const tag = t.charCodeAt(0)
  if (tag === 115 /* s */) return t.slice(1)
  if (tag === 108 /* l */) return Buffer.from(t.slice(1), 'latin1')
  return null
}

/** Inverse of `encodeReplayLog`; throws on text it did not write. */
export function decodeReplayLog(raw: string | null): ReplayLog {
  const log = newLog()
  if (raw === null || raw.length === 0) return log
  const split = raw.indexOf('\n\n')
  if (split < 0) throw new Error('replay log without a value block')
  let pos = split + 2
  for (const line of raw.slice(0, split).split('\n')) {
    const f = line.split('\t')
    if (f.length !== 7) throw new Error('malformed replay log header')
    const offset = Number(f[0])
    const tag = f[6]!.charAt(0)
    const colon = f[6]!.indexOf(':')
    const len = Number(f[6]!.slice(colon < 0 ? 1 : colon + 1))
    if (!Number.isInteger(len) || pos + len > raw.length) throw new Error('truncated replay log')
    const text = raw.slice(pos, pos + len)
    pos += len
    const rec: { -readonly [K in keyof DerivedOutRecord]: DerivedOutRecord[K] } = {
      topic: JSON.parse(f[1]!) as string,
      key: untag(JSON.parse(f[2]!) as string),
      value: tag === 's' ? text : tag === 'l' || tag === 'd' ? Buffer.from(text, 'latin1') : null
    }
    if (tag === 'd') {
      rec.inputPrefix = Number(f[6]!.slice(1, colon))
      rec.partial = true
    }
    if (f[3] !== '') rec.timestamp = Number(f[3])
    if (f[4] !== '') rec.partition = Number(f[4])
    if (f[5] !== 'null') rec.headers = JSON.parse(f[5]!) as Record<string, string>
    const n = log.offsets.length
    if (n === 0 || log.offsets[n - 1] !== offset) {
      log.offsets.push(offset)
      log.starts.push(log.records.length)
    }
    log.records.push(rec)
    log.starts[log.starts.length - 1] = log.records.length
  }
  if (pos !== raw.length) throw new Error('replay log has trailing bytes')
  return log
}
