import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { KafkaLogAdmin } from '../../src/adapters/kafka/index.ts'

/**
 * Where the integration tests find the real services: the ones `scripts/services.sh up`
 * starts, or any others named by the same variables the CLI reads.
 */
export const KAFKA_BROKERS = (
  process.env.DAROOGHE_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`
).split(',')
export const REDIS_URL = process.env.DAROOGHE_REDIS ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`
/** The Redis Cluster of `scripts/services.sh up redis-cluster`: one node is enough (auto-detected). */
export const REDIS_CLUSTER_URL =
  process.env.DAROOGHE_REDIS_CLUSTER ?? `redis://127.0.0.1:${process.env.REDIS_CLUSTER_PORT ?? 7001}`
/** Where `scripts/services.sh` keeps its state (pids, logs, TLS material). */
export const SERVICES_DIR =
  process.env.DAROOGHE_SERVICES_DIR ?? fileURLToPath(new URL('../../.services', import.meta.url))

/**
 * The TLS port of the services' Redis, as `services.sh` wrote it to redis/tls/tls.env:
 * `rediss://darooghe:<password>@host:port` (an ACL user) and the CA's PEM text.
 */
export function redisTls(): { url: string; ca: string; caFile: string } {
  const file = `${SERVICES_DIR}/redis/tls/tls.env`
  if (!existsSync(file))
    throw new Error(`${file} not found: run scripts/services.sh up redis (it makes the TLS port)`)
  const env = Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(l => l.includes('='))
      .map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
  )
  const caFile = env.DAROOGHE_REDIS_CA as string
  return { url: env.DAROOGHE_REDIS as string, ca: readFileSync(caFile, 'utf8'), caFile }
}
export const MONGO_URL =
  process.env.DAROOGHE_MONGO ?? `mongodb://127.0.0.1:${process.env.MONGO_PORT ?? 27017}`

/** The broker's SASL_SSL listener (SCRAM-SHA-512 and PLAIN, TLS with services.sh's own CA). */
export const KAFKA_SASL_SSL =
  process.env.KAFKA_SASL_SSL ?? `127.0.0.1:${process.env.KAFKA_SASL_SSL_PORT ?? 9094}`
/** The client file services.sh writes for that listener (darooghe, kcat -F, the Java client). */
export const KAFKA_SASL_SSL_CLIENT_FILE =
  process.env.KAFKA_SASL_SSL_CLIENT_FILE ?? join(SERVICES_DIR, 'kafka', 'client-sasl-ssl.properties')

/** A name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
}

/** Creates a topic for this test and deletes it when the test ends. */
export async function createTopic(t: TestContext, prefix: string, partitions: number): Promise<string> {
  const name = uniqueName(`t-${prefix}`)
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS, clientId: 'test-admin' })
  await admin.createTopics([{ name, partitions }])
  t.after(async () => {
    try {
      await admin.deleteTopics([name])
    } finally {
      await admin.close()
    }
  })
  return name
}

export interface WaitOptions {
  /** Give up after this long, ms. Default 30 000. */
  timeoutMs?: number
  /** Poll interval, ms. Default 50. */
  intervalMs?: number
  /** What we were waiting for, in the failure message. */
  what?: string
}

/** Polls `condition` until it returns a truthy value; fails with `what` after the timeout. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitOptions = {}
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  let lastError: unknown = null
  for (;;) {
    try {
      const v = await condition()
      if (v) return v as NonNullable<T>
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      const why = lastError ? ` (last error: ${(lastError as Error).message})` : ''
      throw new Error(
        `timed out after ${options.timeoutMs ?? 30_000} ms waiting for ${options.what ?? 'condition'}${why}`
      )
    }
    await new Promise(r => setTimeout(r, options.intervalMs ?? 50))
  }
}
