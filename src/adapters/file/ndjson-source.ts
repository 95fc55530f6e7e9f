import { isUtf8 } from 'node:buffer'
import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { DaroogheError } from '../../errors.ts'
import type { LogRecord } from '../../ports/log.ts'

export interface NdjsonSourceOptions {
  /** Topic of the records. Default 'file'. */
  readonly topic?: string
  /** Partition of the records. Default 0. */
  readonly partition?: number
  /** Records per batch. Default 5 000. */
  readonly batchSize?: number
  /**
   * Ingestion time (record timestamp) of every record, epoch ms: `--now`. Default: the wall
   * clock when the batch was read.
   */
  readonly timestamp?: number
  /**
   * Bytes kept of one line: a longer line becomes a record of its first `maxLineBytes + 1`
   * bytes (the processor's size limit rejects it), the rest is skipped up to the next line
   * break, so a file without line breaks cannot fill memory. Default 16 MiB.
   */
  readonly maxLineBytes?: number
}

const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

/**
 * Reads NDJSON as log records, in batches: offset = line number (1-based, so an error record's
 * source.offset points at the line), value = the line's bytes exactly as read (undecodable
 * bytes reach the processor intact and end up base64 in error_logs). Empty lines are skipped
 * but still counted. Lines are cut from the raw Buffers, so no text decoding happens here.
 */
export async function* readNdjsonBatches(
  input: Readable,
  options: NdjsonSourceOptions = {}
): AsyncGenerator<LogRecord[]> {
  const topic = options.topic ?? 'file'
  const partition = options.partition ?? 0
  const size = options.batchSize ?? 5_000
  let batch: LogRecord[] = []
  let rest: Buffer | null = null
  let lineNo = 0
  const push = (line: Buffer): void => {
    lineNo++
    let end = line.length
    if (end > 0 && line[end - 1] === 0x0d) end--
    if (end === 0) return
    batch.push({
      topic,
      partition,
      offset: lineNo,
      key: null,
      value: end === line.length ? line : line.subarray(0, end),
      headers: EMPTY_HEADERS,
      timestamp: options.timestamp ?? Date.now()
    })
  }
  const maxLine = options.maxLineBytes ?? 16 << 20
  // A line past maxLine: its first maxLine + 1 bytes, kept while the rest is skipped.
  let cut: Buffer | null = null
  for await (const chunk of input) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    let start = 0
    if (cut !== null) {
      const nl = buf.indexOf(0x0a)
      if (nl < 0) continue
      push(cut)
      cut = null
      start = nl + 1
    } else if (rest !== null) {
      buf = Buffer.concat([rest, buf])
      rest = null
    }
    let nl = buf.indexOf(0x0a, start)
    while (nl >= 0) {
      push(
        nl - start > maxLine ? Buffer.from(buf.subarray(start, start + maxLine + 1)) : buf.subarray(start, nl)
      )
      start = nl + 1
      if (batch.length >= size) {
        yield batch
        batch = []
      }
      nl = buf.indexOf(0x0a, start)
    }
    if (start < buf.length) {
      if (buf.length - start > maxLine) cut = Buffer.from(buf.subarray(start, start + maxLine + 1))
      else rest = buf.subarray(start)
    }
  }
  if (cut !== null) push(cut)
  if (rest !== null) push(rest)
  if (batch.length > 0) yield batch
}

/** A readable for `--input FILE|-`. */
export function openInput(path: string): Readable {
  if (path === '-') return process.stdin
  const stream = createReadStream(path, { highWaterMark: 1 << 20 })
  return stream
}

/** Longest line `readLines` accepts by default: a record's size limit (DEFAULT_LIMITS). */
export const MAX_LINE_BYTES = 64 * 1024

/**
 * Reads an NDJSON file line by line as text (labels, profiles), every line yielded (empty ones
 * too, so the caller's count is the file's line number). A line longer than `maxLineBytes`
 * (default 64 KiB) or not valid UTF-8 stops the read with one line naming the file and the line
 * number (DAROOGHE_ERR_CONFIG): memory stays bounded whatever the file holds, and no bad bytes
 * are silently replaced. A file that cannot be read is DAROOGHE_ERR_IO.
 */
export async function* readLines(
  path: string,
  options: { readonly maxLineBytes?: number } = {}
): AsyncGenerator<string> {
  const max = options.maxLineBytes ?? MAX_LINE_BYTES
  const stream = path === '-' ? process.stdin : createReadStream(path)
  const chunks = stream[Symbol.asyncIterator]()
  let rest: Buffer | null = null
  let lineNo = 0
  const line = (bytes: Buffer): string => {
    lineNo++
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length
    if (end > max) throw badLine(path, lineNo, `a line longer than ${max} bytes`)
    const text = bytes.subarray(0, end)
    if (!isUtf8(text)) throw badLine(path, lineNo, 'not UTF-8 (invalid byte sequences)')
    return text.toString('utf8')
  }
  try {
    for (;;) {
      let next: IteratorResult<unknown>
      try {
        next = await chunks.next()
      } catch (cause) {
        throw new DaroogheError('IO', `cannot read ${path}: ${(cause as Error).message}`, { cause })
      }
      if (next.done) break
      const chunk = next.value
      let buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
      if (rest !== null) buf = Buffer.concat([rest, buf])
      rest = null
      let start = 0
      for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
        yield line(buf.subarray(start, nl))
        start = nl + 1
      }
      if (start < buf.length) {
        // Still no line break after max bytes: the line is too long, without reading the rest.
        if (buf.length - start > max + 1) throw badLine(path, lineNo + 1, `a line longer than ${max} bytes`)
        rest = buf.subarray(start)
      }
    }
    if (rest !== null) yield line(rest)
  } finally {
    // Stopped early (a bad line here, or the caller's): the file is closed now, not at GC.
    if (path !== '-') await chunks.return?.()
  }
}

function badLine(path: string, lineNo: number, what: string): DaroogheError {
  return new DaroogheError('CONFIG', `${path}:${lineNo}: ${what}`)
}
