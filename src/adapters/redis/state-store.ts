import { createClient, type RedisClientType } from 'redis'
import { DaroogheError } from '../../errors.ts'
import type { StateStore } from '../../ports/state-store.ts'

export interface RedisStateStoreOptions {
  /** redis://host:port[/db]. */
  readonly url: string
  /** Prefix of every key, so several pipelines can share one Redis. Default 'darooghe:'. */
  readonly keyPrefix?: string
  /** Connect timeout, ms. Default 5 000. */
  readonly connectTimeoutMs?: number
}

/**
 * StateStore on Redis: `getMany` is one MGET, `writeBatch` one MULTI/EXEC (atomic, one round
 * trip). Reconnects with capped exponential backoff; while disconnected, calls fail fast with a
 * retriable error instead of queueing without bound.
 */
export class RedisStateStore implements StateStore {
  readonly #client: RedisClientType
  readonly #prefix: string
  readonly #url: string

  private constructor(client: RedisClientType, url: string, prefix: string) {
    this.#client = client
    this.#url = url
    this.#prefix = prefix
  }

  static async connect(options: RedisStateStoreOptions): Promise<RedisStateStore> {
    let connected = false
    const client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 5_000,
        // Before the first connection succeeds, give up quickly so start-up reports the problem;
        // after it, keep reconnecting forever with capped backoff.
        reconnectStrategy: (retries, cause) =>
          !connected && retries >= 2
            ? (cause ?? new Error('connect failed'))
            : Math.min(50 * 2 ** retries, 2_000)
      }
    }) as RedisClientType
    // node-redis emits 'error' on every failed reconnect; the caller sees failures on calls.
    client.on('error', () => {})
    try {
      await client.connect()
      connected = true
    } catch (cause) {
      if (client.isOpen) client.destroy()
      throw new DaroogheError('REDIS', `cannot reach Redis at ${redact(options.url)}`, { cause })
    }
    return new RedisStateStore(client, options.url, options.keyPrefix ?? 'darooghe:')
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return []
    try {
      return await this.#client.mGet(keys.map(k => this.#prefix + k))
    } catch (cause) {
      throw new DaroogheError('REDIS', `MGET of ${keys.length} keys failed on ${redact(this.#url)}`, {
        cause
      })
    }
  }

  async writeBatch(
    puts: ReadonlyArray<readonly [string, string]>,
    deletes: readonly string[] = []
  ): Promise<void> {
    if (puts.length === 0 && deletes.length === 0) return
    const multi = this.#client.multi()
    if (puts.length > 0) {
      const flat: string[] = new Array(puts.length * 2)
      for (let i = 0; i < puts.length; i++) {
        flat[2 * i] = this.#prefix + puts[i]![0]
        flat[2 * i + 1] = puts[i]![1]
      }
      multi.mSet(flat)
    }
    if (deletes.length > 0) multi.del(deletes.map(k => this.#prefix + k))
    try {
      await multi.exec()
    } catch (cause) {
      throw new DaroogheError('REDIS', `state write of ${puts.length} keys failed on ${redact(this.#url)}`, {
        cause
      })
    }
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.#client.ping()) === 'PONG'
    } catch {
      return false
    }
  }

  /** Deletes every key under this store's prefix (tests and `--reset-state`). */
  async clear(): Promise<void> {
    let cursor = '0'
    do {
      const res = await this.#client.scan(cursor, { MATCH: `${this.#prefix}*`, COUNT: 1000 })
      cursor = String(res.cursor)
      if (res.keys.length > 0) await this.#client.del(res.keys)
    } while (cursor !== '0')
  }

  async close(): Promise<void> {
    try {
      await this.#client.close()
    } catch {
      this.#client.destroy()
    }
  }
}

/** Hides a password in a redis:// URL for messages and logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):([^@/]*)@/, '//$1:***@')
}
