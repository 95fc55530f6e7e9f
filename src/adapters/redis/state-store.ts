import { RESP_TYPES, WatchError, type RedisClientType } from 'redis'
import { DaroogheError } from '../../errors.ts'
import { stateConflict, type StateStore, type StateValue } from '../../ports/state-store.ts'
import { ClusterState } from './cluster-state.ts'
import { connectRedis, redact, refused, type RedisConnectOptions } from './connect.ts'
import { arg, fencedCall, FENCED_WRITE, FENCED_WRITE_SHA } from './fenced-script.ts'

export { redact } from './connect.ts'

export interface RedisStateStoreOptions extends RedisConnectOptions {
  /**
   * Prefix of every key, so several pipelines can share one Redis. Default 'darooghe:'. No
   * braces: the processor's keys carry a Redis Cluster hash tag right after it.
   */
  readonly keyPrefix?: string
  /**
   * On a cluster, how long a write waits for a replica of each master it wrote to (`WAIT 1`),
   * ms; 0 = do not wait (a failover may then lose the last acknowledged writes). Default 2 000.
   */
  readonly replicaWaitMs?: number
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
 * retriable error instead of queueing without bound. On a Redis Cluster (see `connectRedis`)
 * the same keys are spread by their hash tags and `ClusterState` does the work.
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
  /** Set on a cluster: then it does every operation and the two connections above are unused. */
  readonly #cluster: ClusterState | null

  private constructor(
    client: RedisClientType,
    writer: RedisClientType,
    url: string,
    prefix: string,
    cluster: ClusterState | null
  ) {
    this.#client = client
    this.#writer = writer
    this.#bytes = (cluster
      ? client
      : client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })) as unknown as {
      mGet(keys: string[]): Promise<(Buffer | null)[]>
    }
    this.#url = url
    this.#prefix = prefix
    this.#cluster = cluster
  }

  static async connect(options: RedisStateStoreOptions): Promise<RedisStateStore> {
    const prefix = options.keyPrefix ?? 'darooghe:'
    if (/[{}]/.test(prefix)) {
      throw new DaroogheError(
        'CONFIG',
        `the Redis key prefix '${prefix}' has a brace: leave braces out (the state keys' Redis Cluster hash tags follow it)`
      )
    }
    const link = await connectRedis(options)
    if (link.kind === 'cluster') {
      const cluster = new ClusterState(link.cluster, prefix, options.replicaWaitMs ?? 2_000)
      // The single-server connections are never opened: the cluster client is the store.
      const none = null as unknown as RedisClientType
      return new RedisStateStore(none, none, options.url, prefix, cluster)
    }
    let writer: RedisClientType
    try {
      writer = await link.duplicate()
    } catch (error) {
      link.client.destroy()
      throw error
    }
    return new RedisStateStore(link.client, writer, options.url, prefix, null)
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return []
    try {
      if (this.#cluster) return await this.#afterWrites(() => this.#cluster!.getMany<string>(keys, false))
      return await this.#client.mGet(keys.map(k => this.#prefix + k))
    } catch (cause) {
      throw this.#failed(keys.length, cause, 'MGET of')
    }
  }

  async getManyBytes(keys: readonly string[]): Promise<(Buffer | null)[]> {
    if (keys.length === 0) return []
    try {
      if (this.#cluster) return await this.#afterWrites(() => this.#cluster!.getMany<Buffer>(keys, true))
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
    if (this.#cluster) return this.#clusterWrite(puts, deletes, guards, appends)
    if (guards.length > 0) return this.#fencedWrite(puts, deletes, guards, appends)
    try {
      await this.#transact(this.#client, puts, deletes, appends)
    } catch (cause) {
      throw this.#failed(puts.length, cause)
    }
  }

  /**
   * On a cluster, a read waits for the fenced writes in flight. A write there can fail on one
   * node and land on another; the processor then drops its partitions and reloads them, and the
   * reload must see whatever of the earlier writes landed (on one server they fail or land
   * together, and the processor's own ordering is enough).
   */
  async #afterWrites<T>(read: () => Promise<T>): Promise<T> {
    await this.#writing
    return read()
  }

  /** On a cluster: one script per hash slot (ClusterState), fenced writes one at a time as here. */
  #clusterWrite(
    puts: ReadonlyArray<readonly [string, StateValue]>,
    deletes: readonly string[],
    guards: ReadonlyArray<readonly [string, string | null]>,
    appends: ReadonlyArray<readonly [string, Uint8Array]>
  ): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        await this.#cluster!.write(puts, deletes, guards, appends)
      } catch (cause) {
        throw this.#failed(puts.length, cause)
      }
    }
    if (guards.length === 0) return run()
    const result = this.#writing.then(run, run)
    this.#writing = result.catch(() => {})
    return result
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
    const { keys, args } = fencedCall(this.#prefix, puts, deletes, guards, appends)
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
    // A conflict, or the cluster's own errors, say what happened already.
    if (cause instanceof DaroogheError) return cause
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
      if (this.#cluster) return await this.#cluster.ping()
      return (await this.#client.ping()) === 'PONG'
    } catch {
      return false
    }
  }

  /** Deletes every key under this store's prefix (tests and `--reset-state`). */
  async clear(): Promise<void> {
    if (this.#cluster) return this.#cluster.clear()
    let cursor = '0'
    do {
      const res = await this.#client.scan(cursor, { MATCH: `${this.#prefix}*`, COUNT: 1000 })
      cursor = String(res.cursor)
      if (res.keys.length > 0) await this.#client.del(res.keys)
    } while (cursor !== '0')
  }

  async close(): Promise<void> {
    if (this.#cluster) return this.#cluster.close()
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
