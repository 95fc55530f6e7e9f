import { createClient, type RedisClientType } from 'redis'
import { DaroogheError } from '../../errors.ts'
import type { DecisionEntry, DecisionStore } from '../../ports/decision-store.ts'
import { redact } from './state-store.ts'

export interface RedisDecisionStoreOptions {
  /** redis://host:port[/db]. */
  readonly url: string
  /** Prefix of every key: `<prefix><transaction_id>`. Default 'darooghe:decisions:'. */
  readonly keyPrefix?: string
  /** Connect timeout, ms. Default 5 000. */
  readonly connectTimeoutMs?: number
  /** PEM text of the CA that signed the server's certificate (`--redis-ca FILE`). */
  readonly ca?: string
}

/** Deletes the key only while it holds the given value (the pending marker this caller set). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/**
 * DecisionStore on Redis: one key per transaction id holding one line of JSON, with a TTL.
 * `claim` is one `SET key value NX PX ttl GET` (Redis >= 7.0): set if absent, else the value
 * already there, in one atomic round trip, so two API instances never both send an event.
 * Reconnects with capped backoff; while disconnected, calls fail fast with a retriable error.
 */
export class RedisDecisionStore implements DecisionStore {
  readonly #client: RedisClientType
  readonly #prefix: string
  readonly #url: string

  private constructor(client: RedisClientType, url: string, prefix: string) {
    this.#client = client
    this.#url = url
    this.#prefix = prefix
  }

  static async connect(options: RedisDecisionStoreOptions): Promise<RedisDecisionStore> {
    let connected = false
    const client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      // No per-command timer (node-redis makes an AbortSignal.timeout for each command, a few
      // per cent of the API's CPU at 2,000 requests/s): the decision service bounds its waits.
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 5_000,
        reconnectStrategy: (retries, cause) =>
          !connected && retries >= 2
            ? (cause ?? new Error('connect failed'))
            : Math.min(50 * 2 ** retries, 2_000)
      }
    }) as RedisClientType
    client.on('error', () => {})
    try {
      await client.connect()
      connected = true
    } catch (cause) {
      if (client.isOpen) client.destroy()
      throw new DaroogheError('REDIS', `cannot reach Redis at ${redact(options.url)}`, { cause })
    }
    return new RedisDecisionStore(client, options.url, options.keyPrefix ?? 'darooghe:decisions:')
  }

  async claim(transactionId: string, entry: DecisionEntry, ttlMs: number): Promise<DecisionEntry | null> {
    const old = await this.#call('SET NX of', () =>
      this.#client.set(this.#prefix + transactionId, encodeEntry(entry), {
        condition: 'NX',
        expiration: { type: 'PX', value: ttlMs },
        GET: true
      })
    )
    if (old === null || old === 'OK') return null
    return this.#decoded(transactionId, String(old))
  }

  async put(transactionId: string, entry: DecisionEntry, ttlMs: number): Promise<void> {
    await this.#call('SET of', () =>
      this.#client.set(this.#prefix + transactionId, encodeEntry(entry), {
        expiration: { type: 'PX', value: ttlMs }
      })
    )
  }

  async get(transactionId: string): Promise<DecisionEntry | null> {
    const text = await this.#call('GET of', () => this.#client.get(this.#prefix + transactionId))
    return text === null ? null : this.#decoded(transactionId, text)
  }

  async release(transactionId: string, pending: DecisionEntry): Promise<void> {
    await this.#call('release of', () =>
      this.#client.eval(RELEASE, { keys: [this.#prefix + transactionId], arguments: [encodeEntry(pending)] })
    )
  }

  async close(): Promise<void> {
    try {
      await this.#client.close()
    } catch {
      this.#client.destroy()
    }
  }

  #decoded(transactionId: string, text: string): DecisionEntry {
    const entry = decodeEntry(text)
    if (entry === null)
      throw new DaroogheError(
        'INTERNAL',
        `the decision record of '${transactionId}' in Redis is not one this API wrote`
      )
    return entry
  }

  async #call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (cause) {
      throw new DaroogheError('REDIS', `${what} a decision failed on ${redact(this.#url)}`, { cause })
    }
  }
}

/**
 * `1 <state> <fingerprint> <correlation id> <received at ms>`, then a newline and the reply
 * text as it came: no JSON escaping of a kilobyte of decision for each store. The ids are
 * this API's own (a digest and a UUID): no spaces or newlines in them.
 */
export function encodeEntry(e: DecisionEntry): string {
  const head = `1 ${e.state} ${e.fingerprint} ${e.correlationId} ${e.receivedAtMs}`
  return e.reply === undefined ? head : `${head}\n${e.reply}`
}

/** Inverse of `encodeEntry`; null for text it did not write. */
export function decodeEntry(text: string): DecisionEntry | null {
  const nl = text.indexOf('\n')
  const [v, s, f, c, t, ...rest] = (nl < 0 ? text : text.slice(0, nl)).split(' ')
  const at = Number(t)
  if (v !== '1' || (s !== 'pending' && s !== 'done') || !f || !c || rest.length > 0 || !Number.isFinite(at))
    return null
  if ((s === 'done') !== nl >= 0) return null
  return {
    state: s,
    fingerprint: f,
    correlationId: c,
    receivedAtMs: at,
    ...(nl < 0 ? {} : { reply: text.slice(nl + 1) })
  }
}
