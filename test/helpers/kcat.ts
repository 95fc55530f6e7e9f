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

const run = promisify(execFile)

export interface KcatRecord {
  /** A short ASCII key (it must not contain the key delimiter). */
  readonly key: string
  /** The value's bytes exactly; an empty buffer is an empty value, null a null value (tombstone). */
  readonly value: Buffer | null
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
  options: { readonly partition?: number; readonly headers?: Readonly<Record<string, string>> } = {}
): Promise<void> {
  const partition = options.partition ?? 0
  const headers = options.headers ?? {}
  const dir = await mkdtemp(join(tmpdir(), 'darooghe-kcat-'))
  try {
    // Runs of records with the same nullness, so that the order across the -Z calls is kept.
    let i = 0
    while (i < records.length) {
      const nulls = records[i]!.value === null
      let j = i
      while (j < records.length && (records[j]!.value === null) === nulls) j++
      await produceRun(dir, topic, records.slice(i, j), partition, nulls, headers)
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
  partition: number,
  nulls: boolean,
  headers: Readonly<Record<string, string>>
): Promise<void> {
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
  const args = ['-P', '-b', KAFKA_BROKERS.join(','), '-t', topic, '-p', String(partition)]
  args.push('-K', keyDelimiter, '-D', delimiter, '-l', file)
  // Large hostile records: the default librdkafka message.max.bytes is 1 MB.
  args.push('-X', 'message.max.bytes=4000000')
  if (nulls) args.push('-Z')
  // Every record of the call gets these headers.
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`)
  await run('kcat', args, { timeout: 60_000 })
}
