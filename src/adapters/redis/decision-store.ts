import { DaroogheError } from '../../errors.ts'
import type { DecisionEntry, DecisionStore } from '../../ports/decision-store.ts'
import { connectRedis, redact, type RedisConnectOptions, type RedisLink } from './connect.ts'

export interface RedisDecisionStoreOptions extends RedisConnectOptions {
  /** Prefix of every key: `<prefix><transaction_id>`. Default 'darooghe:decisions:'. */
  readonly keyPrefix?: string
}

/** Deletes the key only while it holds the given value (the pending marker this caller set). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/**
 * DecisionStore on Redis: one key per transaction id holding one line of JSON, with a TTL.
 * `claim` is one `SET key value NX PX ttl GET` (Redis >= 7.0): set if absent, else the value
 * already there, in one atomic round trip, so two API instances never both send an event.
 * Reconnects with capped backoff; while disconnected, calls fail fast with a retriable error.
 * Every command touches one key, so a Redis Cluster needs nothing more than routing by key:
 * the keys carry no hash tag and spread over the cluster.
 */
export class RedisDecisionStore implements DecisionStore {
  readonly #link: RedisLink
  readonly #prefix: string
  readonly #url: string

  private constructor(link: RedisLink, url: string, prefix: string) {
    this.#link = link
    this.#url = url
    this.#prefix = prefix
  }

  static async connect(options: RedisDecisionStoreOptions): Promise<RedisDecisionStore> {
    // No per-command timer (node-redis makes an AbortSignal.timeout for each command, a few
    // per cent of the API's CPU at 2,000 requests/s): the decision service bounds its waits.
    const link = await connectRedis({ commandTimeoutMs: 0, ...options })
    return new RedisDecisionStore(link, options.url, options.keyPrefix ?? 'darooghe:decisions:')
  }

  async claim(transactionId: string, entry: DecisionEntry, ttlMs: number): Promise<DecisionEntry | null> {
    const key = this.#prefix + transactionId
    // Set if absent, else the value already there (`SET ... NX GET`, Redis >= 7.0).
    const old = await this.#call('SET NX of', key, [
      'SET',
      key,
      encodeEntry(entry),
      'PX',
      String(ttlMs),
      'NX',
      'GET'
    ])
    if (old === null || old === 'OK') return null
    return this.#decoded(transactionId, String(old))
  }

  async put(transactionId: string, entry: DecisionEntry, ttlMs: number): Promise<void> {
    const key = this.#prefix + transactionId
    await this.#call('SET of', key, ['SET', key, encodeEntry(entry), 'PX', String(ttlMs)])
  }

  async get(transactionId: string): Promise<DecisionEntry | null> {
    const key = this.#prefix + transactionId
    const text = await this.#call('GET of', key, ['GET', key])
    return text === null ? null : this.#decoded(transactionId, String(text))
  }

  async release(transactionId: string, pending: DecisionEntry): Promise<void> {
    const key = this.#prefix + transactionId
    await this.#call('release of', key, ['EVAL', RELEASE, '1', key, encodeEntry(pending)])
  }

  async close(): Promise<void> {
    const c = this.#link.kind === 'single' ? this.#link.client : this.#link.cluster
    try {
      await c.close()
    } catch {
      c.destroy()
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

  /** One command on the key's server (its master, on a cluster: never a lagging replica). */
  async #call(what: string, key: string, args: string[]): Promise<unknown> {
    try {
      const l = this.#link
      return await (l.kind === 'single'
        ? l.client.sendCommand(args)
        : l.cluster.sendCommand(key, false, args))
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
