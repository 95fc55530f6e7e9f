/**
 * kcat (librdkafka's command-line client, not ours) as the producer of hostile records in tests:
 * the bytes reach the topic without passing through any code of this project.
 * `scripts/ensure-kcat.sh` installs it.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { KAFKA_BROKERS } from './services.ts'

const exec = promisify(execFile)

export interface KcatRecord {
  /** A short ASCII key (it must not contain the key delimiter). */
  readonly key: string
  /** The value's bytes exactly; an empty buffer is an empty value, null a null value (tombstone). */
  readonly value: Buffer | null
}

/** A codec of librdkafka's `compression.codec` (kcat `-z`). */
export type KcatCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

export interface KcatProduceOptions {
  /** The partition of every record (default 0); null lets librdkafka's partitioner pick by key. */
  readonly partition?: number | null
  readonly headers?: Readonly<Record<string, string>>
  /** Compression of the record batches kcat sends (default none). */
  readonly compression?: KcatCodec
}

/**
 * Produces `records` to one partition of `topic` (default 0), in order, with `kcat -P`, each
 * with `headers`. Messages are cut
 * by a random delimiter (so values may hold line breaks and any byte), and every one has a key
 * so that kcat sends empty values too; null values go in a second call with `-Z`.
 */
export async function kcatProduce(
  topic: string,
  records: readonly KcatRecord[],
  options: KcatProduceOptions = {}
): Promise<void> {
  const partition = options.partition === undefined ? 0 : options.partition
  const headers = options.headers ?? {}
  const compression = options.compression ?? 'none'
  const dir = await mkdtemp(join(tmpdir(), 'darooghe-kcat-'))
  try {
    // Runs of records with the same nullness, so that the order across the -Z calls is kept.
    let i = 0
    while (i < records.length) {
      const nulls = records[i]!.value === null
      let j = i
      while (j < records.length && (records[j]!.value === null) === nulls) j++
      await produceRun(dir, topic, records.slice(i, j), { partition, nulls, headers, compression })
      i = j
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function produceRun(
  dir: string,
  topic: string,
  records: readonly KcatRecord[],
  run: {
    partition: number | null
    nulls: boolean
    headers: Readonly<Record<string, string>>
    compression: KcatCodec
  }
): Promise<void> {
  const { partition, nulls, headers, compression } = run
  const delimiter = `~~${randomBytes(12).toString('hex')}~~`
  const keyDelimiter = `^^${randomBytes(6).toString('hex')}^^`
  const parts: Buffer[] = []
  for (const r of records) {
    const value = r.value ?? Buffer.alloc(0)
    if (value.includes(delimiter) || value.includes(keyDelimiter)) throw new Error('delimiter in a value')
    parts.push(Buffer.from(r.key + keyDelimiter), value, Buffer.from(delimiter))
  }
  const file = join(dir, `records-${randomBytes(4).toString('hex')}`)
  await writeFile(file, Buffer.concat(parts))
  const args = ['-P', '-b', KAFKA_BROKERS.join(','), '-t', topic]
  if (partition !== null) args.push('-p', String(partition))
  args.push('-K', keyDelimiter, '-D', delimiter, '-l', file, '-z', compression)
  // Large hostile records: the default librdkafka message.max.bytes is 1 MB.
  args.push('-X', 'message.max.bytes=4000000')
  if (nulls) args.push('-Z')
  // Every record of the call gets these headers.
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`)
  await exec('kcat', args, { timeout: 60_000 })
}

/** A record as `kcatConsume` read it. */
export interface KcatConsumed {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly key: Buffer | null
  readonly value: Buffer | null
}

/**
 * Reads every record of `topic` from the beginning to its end (`kcat -C -e`) with the given
 * isolation level (librdkafka's default is read_committed). Each record is printed as a header
 * line with the key's and the value's lengths followed by their raw bytes, so any byte survives.
 */
export async function kcatConsume(
  topic: string,
  options: { readonly isolation?: 'read_committed' | 'read_uncommitted' } = {}
): Promise<KcatConsumed[]> {
  const args = ['-C', '-b', KAFKA_BROKERS.join(','), '-t', topic, '-o', 'beginning', '-e', '-q']
  args.push('-X', `isolation.level=${options.isolation ?? 'read_committed'}`)
  args.push('-f', '%p %o %K %S\\n%k%s\\n')
  const { stdout } = await exec('kcat', args, { timeout: 60_000, encoding: 'buffer', maxBuffer: 1 << 28 })
  const out: KcatConsumed[] = []
  let at = 0
  while (at < stdout.length) {
    const eol = stdout.indexOf(0x0a, at)
    const [partition, offset, keyLength, valueLength] = stdout
      .toString('latin1', at, eol)
      .split(' ')
      .map(Number)
    at = eol + 1
    const take = (n: number): Buffer | null => {
      if (n < 0) return null
      const b = stdout.subarray(at, at + n)
      at += n
      return b
    }
    const key = take(keyLength!)
    const value = take(valueLength!)
    if (stdout[at] !== 0x0a) throw new Error(`kcat output of ${topic} is not framed as asked at byte ${at}`)
    at++
    out.push({ topic, partition: partition!, offset: offset!, key, value })
  }
  return out
}

/** `kcatConsume` of each of `topics`, one after the other. */
export async function kcatConsumeTopics(
  topics: readonly string[],
  options: { readonly isolation?: 'read_committed' | 'read_uncommitted' } = {}
): Promise<KcatConsumed[]> {
  const out: KcatConsumed[] = []
  for (const topic of topics) out.push(...(await kcatConsume(topic, options)))
  return out
}
