/**
 * The Java Kafka client (the jars `scripts/services.sh` fetched) as a reference producer,
 * transactional producer and read_committed reader in tests.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { KAFKA_BROKERS } from './services.ts'

const run = promisify(execFile)
const SOURCES = fileURLToPath(new URL('./java/', import.meta.url))

/** The classpath of the broker's jars, kafka-clients among them. */
export async function javaClasspath(): Promise<string> {
  const cache =
    process.env.DAROOGHE_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'darooghe')
  const jars = (await readdir(cache)).filter(d => d.startsWith('jars-')).sort()
  if (jars.length === 0) throw new Error(`no Kafka jars under ${cache}: run scripts/services.sh up first`)
  return `${join(cache, jars[jars.length - 1]!)}/*`
}

const b64 = (b: Buffer | null): string => (b === null ? '-' : b.length === 0 ? '' : b.toString('base64'))
const unb64 = (s: string): Buffer | null => (s === '-' ? null : Buffer.from(s, 'base64'))

export interface RawRecord {
  readonly partition: number
  readonly key: Buffer | null
  readonly value: Buffer | null
}

/** Produces `records` to `topic` with the Java client (acks=all, idempotent), in order. */
export async function javaProduce(topic: string, records: readonly RawRecord[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'darooghe-java-'))
  try {
    const file = join(dir, 'records.txt')
    await writeFile(file, records.map(r => `${r.partition} ${b64(r.key)} ${b64(r.value)}`).join('\n') + '\n')
    await run(
      'java',
      ['-cp', await javaClasspath(), join(SOURCES, 'RawProduce.java'), KAFKA_BROKERS.join(','), topic, file],
      {
        maxBuffer: 1 << 20
      }
    )
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Runs test/helpers/java/SecureClient.java: the Java client configured by nothing but the
 * client properties `file`. Returns its standard output.
 */
export async function javaSecureClient(file: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run(
    'java',
    ['-cp', await javaClasspath(), join(SOURCES, 'SecureClient.java'), file, ...args],
    {
      maxBuffer: 1 << 20,
      timeout: 120_000
    }
  )
  return stdout
}

/** One step of a transaction script: `producer` names a transactional producer of the run. */
export type TxStep =
  | { readonly producer: string; readonly op: 'begin' | 'commit' | 'abort' }
  | { readonly producer: string; readonly op: 'send'; readonly record: RawRecord }

/**
 * Runs `steps` in order with the Java client's transactional producers (`TxProduce.java`):
 * producer NAME has the transactional id `${txPrefix}-NAME`, so steps of two producers
 * interleave their open transactions in one partition. Each send waits for its acknowledgement.
 */
export async function javaTransactions(
  topic: string,
  txPrefix: string,
  steps: readonly TxStep[]
): Promise<{ committed: number; aborted: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'darooghe-java-'))
  try {
    const file = join(dir, 'steps.txt')
    const line = (s: TxStep): string =>
      s.op === 'send'
        ? `${s.producer} send ${s.record.partition} ${b64(s.record.key)} ${b64(s.record.value)}`
        : `${s.producer} ${s.op}`
    await writeFile(file, steps.map(line).join('\n') + '\n')
    const { stdout } = await run(
      'java',
      [
        '-cp',
        await javaClasspath(),
        join(SOURCES, 'TxProduce.java'),
        KAFKA_BROKERS.join(','),
        topic,
        txPrefix,
        file
      ],
      { maxBuffer: 1 << 20, timeout: 180_000 }
    )
    const m = /committed (\d+) aborted (\d+)/.exec(stdout)
    if (!m) throw new Error(`TxProduce printed no summary: ${stdout}`)
    return { committed: Number(m[1]), aborted: Number(m[2]) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** A record as the Java consumer read it. */
export interface JavaConsumed extends RawRecord {
  readonly topic: string
  readonly offset: number
}

/**
 * Reads `topics` from the beginning to their end with the Java consumer (`CommittedConsume.java`,
 * no group) at the given isolation level: with read_committed, records of aborted transactions
 * are skipped and the end is the last stable offset.
 */
export async function javaConsume(
  topics: readonly string[],
  isolation: 'read_committed' | 'read_uncommitted' = 'read_committed'
): Promise<JavaConsumed[]> {
  const { stdout } = await run(
    'java',
    [
      '-cp',
      await javaClasspath(),
      join(SOURCES, 'CommittedConsume.java'),
      KAFKA_BROKERS.join(','),
      isolation,
      ...topics
    ],
    { maxBuffer: 1 << 28, timeout: 120_000 }
  )
  return stdout
    .split('\n')
    .filter(l => l.length > 0)
    .map(l => {
      const [topic, partition, offset, key, value] = l.split(' ')
      return {
        topic: topic!,
        partition: Number(partition),
        offset: Number(offset),
        key: unb64(key!),
        value: unb64(value!)
      }
    })
}
