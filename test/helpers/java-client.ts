/** The Java Kafka client (the jars `scripts/services.sh` fetched) as a reference producer in tests. */
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
    const b64 = (b: Buffer | null): string => (b === null ? '-' : b.length === 0 ? '' : b.toString('base64'))
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
