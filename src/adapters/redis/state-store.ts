import { createHash } from 'node:crypto'
import { createClient, RESP_TYPES, WatchError, type RedisClientType } from 'redis'
import { DaroogheError } from '../../errors.ts'
import { stateConflict, type StateStore, type StateValue } from '../../ports/state-store.ts'

export interface RedisStateStoreOptions {
  /** redis://host:port[/db]. */
  readonly url: string
  /** Prefix of every key, so several pipelines can share one Redis. Default 'darooghe:'. */
  readonly keyPrefix?: string
  /** Connect timeout, ms. Default 5 000. */
  readonly connectTimeoutMs?: number
  /** PEM text of the CA that signed the server's certificate (`--redis-ca FILE`). */
  readonly ca?: string
}

/**
 * StateStore on Redis: `getMany` is one MGET, `writeBatch` one MULTI/EXEC (atomic): one MSET,
 * one DEL and an APPEND per journal. A fenced write of a few keys (the processor's usual batch:
 * progress keys, emitted times, journal appends) is one Lua script, atomic like MULTI: it
 * compares the guards and writes, one round trip. A larger one (a compaction's snapshots) is an
 * optimistic transaction on a second connection of its own (WATCH is per connection): WATCH +
 * MGET of the guarded keys, compare, then MULTI/MSET/DEL/EXEC, which Redis aborts if a guarded
 * key changed in between: two round trips, but Redis copies the values once, where the script
 * copies every value into Lua and back, twice the server CPU of a big state write.
 * Reconnects with capped exponential backoff; while disconnected, calls fail fast with a
 * retriable error instead of queueing without bound.
 */
export class RedisStateStore implements StateStore {
  readonly #client: RedisClientType
  /** Fenced writes only, one at a time (`#writing`): its WATCH state is its own. */
  readonly #writer: RedisClientType
  #writing: Promise<unknown> = Promise.resolve()
  /** The same connection, answering bulk strings as Buffers. */
  readonly #bytes: { mGet(keys: string[]): Promise<(Buffer | null)[]> }
  readonly #prefix: string
  readonly #url: string

  private constructor(client: RedisClientType, writer: RedisClientType, url: string, prefix: string) {
    this.#client = client
    this.#writer = writer
    this.#bytes = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as unknown as {
      mGet(keys: string[]): Promise<(Buffer | null)[]>
    }
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
    const writer = client.duplicate() as RedisClientType
    writer.on('error', () => {})
    try {
      await client.connect()
      await writer.connect()
      connected = true
    } catch (cause) {
      if (client.isOpen) client.destroy()
      if (writer.isOpen) writer.destroy()
      if (refused(cause)) {
        // Wrong credentials or permissions: no retry gets past them.
        throw new DaroogheError(
          'REDIS',
          `Redis at ${redact(options.url)} refused this client (${refused(cause)}): fix the user and password in --redis (DAROOGHE_REDIS) or its ACL`,
          { cause, retriable: false }
        )
      }
      throw new DaroogheError('REDIS', `cannot reach Redis at ${redact(options.url)}`, { cause })
    }
    return new RedisStateStore(client, writer, options.url, options.keyPrefix ?? 'darooghe:')
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return []
    try {
      return await this.#client.mGet(keys.map(k => this.#prefix + k))
    } catch (cause) {
      throw this.#failed(keys.length, cause, 'MGET of')
    }
  }

  async getManyBytes(keys: readonly string[]): Promise<(Buffer | null)[]> {
    if (keys.length === 0) return []
    try {
      return await this.#bytes.mGet(keys.map(k => this.#prefix + k))
    } catch (cause) {
      throw this.#failed(keys.length, cause, 'MGET of')
    }
  }

  async writeBatch(
    puts: ReadonlyArray<readonly [string, StateValue]>,
    deletes: readonly string[] = [],
    guards: ReadonlyArray<readonly [string, string | null]> = [],
    appends: ReadonlyArray<readonly [string, Uint8Array]> = []
  ): Promise<void> {
    if (puts.length === 0 && deletes.length === 0 && appends.length === 0) return
    if (guards.length > 0) return this.#fencedWrite(puts, deletes, guards, appends)
    try {
      await this.#transact(this.#client, puts, deletes, appends)
    } catch (cause) {
      throw this.#failed(puts.length, cause)
    }
  }

  /** Guards checked and writes applied in one optimistic transaction (see the class comment). */
  #fencedWrite(
    puts: ReadonlyArray<readonly [string, StateValue]>,
    deletes: readonly string[],
    guards: ReadonlyArray<readonly [string, string | null]>,
    appends: ReadonlyArray<readonly [string, Uint8Array]>
  ): Promise<void> {
    const small = guards.length + puts.length + deletes.length + appends.length <= SCRIPT_MAX_KEYS
    const run = (): Promise<void> =>
      small
        ? this.#scriptedWrite(puts, deletes, guards, appends)
        : this.#watchAndWrite(puts, deletes, guards, appends)
    const result = this.#writing.then(run, run)
    this.#writing = result.catch(() => {})
    return result
  }

  async #watchAndWrite(
    puts: ReadonlyArray<readonly [string, StateValue]>,
    deletes: readonly string[],
    guards: ReadonlyArray<readonly [string, string | null]>,
    appends: ReadonlyArray<readonly [string, Uint8Array]>
  ): Promise<void> {
    const w = this.#writer
    const guarded = guards.map(([k]) => this.#prefix + k)
    let have: (string | null)[]
    try {
      // Sent together: the guard values are read after the WATCH is in place.
      ;[, have] = await Promise.all([w.watch(guarded), w.mGet(guarded)])
    } catch (cause) {
      throw this.#failed(puts.length, cause)
    }
    for (let i = 0; i < guards.length; i++) {
      if (have[i] !== guards[i]![1]) {
        await w.unwatch().catch(() => {})
        throw stateConflict(guards[i]![0])
      }
    }
    try {
      await this.#transact(w, puts, deletes, appends)
    } catch (cause) {
      // A guarded key changed between the read and EXEC: Redis ran nothing.
      if (cause instanceof WatchError) throw stateConflict(guards.map(([k]) => k).join(', '))
      throw this.#failed(puts.length, cause)
    }
  }

  /** The fenced write as one FENCED_WRITE script (see the class comment). */
  async #scriptedWrite(
    puts: ReadonlyArray<readonly [string, StateValue]>,
    deletes: readonly string[],
    guards: ReadonlyArray<readonly [string, string | null]>,
    appends: ReadonlyArray<readonly [string, Uint8Array]>
  ): Promise<void> {
    const keys: string[] = []
    const args: (string | Buffer)[] = [
      String(guards.length),
      String(puts.length),
      String(deletes.length),
      String(appends.length)
    ]
    // A guard's expected value: '=' and the value, or '!' for "absent".
    for (const [k, expected] of guards) {
      keys.push(this.#prefix + k)
      args.push(expected === null ? '!' : `=${expected}`)
    }
    for (const [k, v] of puts) {
      keys.push(this.#prefix + k)
      args.push(arg(v))
    }
    for (const k of deletes) keys.push(this.#prefix + k)
    for (const [k, v] of appends) {
      keys.push(this.#prefix + k)
      args.push(arg(v))
    }
    let failed: unknown
    try {
      failed = await this.#evalFenced(keys, args)
    } catch (cause) {
      throw this.#failed(puts.length, cause)
    }
    if (failed !== 0) throw stateConflict(guards[Number(failed) - 1]?.[0] ?? '?')
  }

  /** EVALSHA, loading the script first when the server does not know it (a restart, SCRIPT FLUSH). */
  async #evalFenced(keys: string[], args: (string | Buffer)[]): Promise<unknown> {
    const call = (op: string, script: string): Promise<unknown> =>
      this.#writer.sendCommand([op, script, String(keys.length), ...keys, ...args])
    try {
      return await call('EVALSHA', FENCED_WRITE_SHA)
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error
      return await call('EVAL', FENCED_WRITE)
    }
  }

  /** MULTI, one MSET of the puts, one DEL of the deletes, one APPEND per append on `client`, EXEC. */
  async #transact(
    client: RedisClientType,
    puts: ReadonlyArray<readonly [string, StateValue]>,
    deletes: readonly string[],
    appends: ReadonlyArray<readonly [string, Uint8Array]>
  ): Promise<void> {
    const multi = client.multi()
    if (puts.length > 0) {
      const flat: (string | Buffer)[] = new Array(puts.length * 2)
      for (let i = 0; i < puts.length; i++) {
        flat[2 * i] = this.#prefix + puts[i]![0]
        flat[2 * i + 1] = arg(puts[i]![1])
      }
      multi.mSet(flat)
    }
    if (deletes.length > 0) multi.del(deletes.map(k => this.#prefix + k))
    for (const [k, v] of appends) multi.append(this.#prefix + k, arg(v) as Buffer)
    await multi.exec()
  }

  #failed(keys: number, cause: unknown, what = 'state write of'): DaroogheError {
    const why = refused(cause)
    return new DaroogheError(
      'REDIS',
      `${what} ${keys} keys failed on ${redact(this.#url)}` +
        (why ? ` (${why}: fix the user's ACL in --redis)` : ''),
      { cause, ...(why ? { retriable: false } : {}) }
    )
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
    for (const c of [this.#writer, this.#client]) {
      try {
        await c.close()
      } catch {
        c.destroy()
      }
    }
  }
}

/** Fenced writes up to this many keys go through FENCED_WRITE (one round trip). */
const SCRIPT_MAX_KEYS = 256

/**
 * KEYS: the guarded keys, then the keys to put, to delete and to append to. ARGV: the four
 * counts, each guard's expectation ('=' and the value, or '!' for absent), the values to put,
 * the bytes to append. Returns 0 once everything is written, or the index (from 1) of the
 * first guard that does not hold, having written nothing. Runs atomically, as every script.
 */
const FENCED_WRITE = `
local ng, np, nd, na = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 1, ng do
  local have = redis.call('GET', KEYS[i])
  local want = ARGV[4 + i]
  if want == '!' then
    if have then return i end
  elseif (not have) or have ~= string.sub(want, 2) then
    return i
  end
end
for i = 1, np do redis.call('SET', KEYS[ng + i], ARGV[4 + ng + i]) end
if nd > 0 then redis.call('DEL', unpack(KEYS, ng + np + 1, ng + np + nd)) end
for i = 1, na do redis.call('APPEND', KEYS[ng + np + nd + i], ARGV[4 + ng + np + i]) end
return 0
`
const FENCED_WRITE_SHA = createHash('sha1').update(FENCED_WRITE).digest('hex')

function arg(v: StateValue): string | Buffer {
  return typeof v === 'string' || Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
}

/**
 * The Redis error code of a refusal no retry gets past (credentials, permissions, a command
 * the server does not know), or null for a failure that may pass (a connection down, a
 * server loading its data, a replica read-only during a failover).
 */
function refused(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const m = /^(WRONGPASS|NOAUTH|NOPERM|ERR unknown command)/.exec(e.message)
    if (m) return m[1]!
  }
  return null
}

/** Hides a password in a redis:// URL for messages and logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):([^@/]*)@/, '//$1:***@')
}
