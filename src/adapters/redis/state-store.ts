import { createHash } from 'node:crypto'
import { createClient, RESP_TYPES, type RedisClientType } from 'redis'
import { DaroogheError } from '../../errors.ts'
import type { StateStore, StateValue } from '../../ports/state-store.ts'

export interface RedisStateStoreOptions {
  /** redis://host:port[/db]. */
  readonly url: string
  /** Prefix of every key, so several pipelines can share one Redis. Default 'darooghe:'. */
  readonly keyPrefix?: string
  /** Connect timeout, ms. Default 5 000. */
  readonly connectTimeoutMs?: number
}

/**
 * KEYS: the guarded keys, then the keys to set, then the keys to delete. ARGV: the three counts,
 * then each guard's expectation ('n' = absent, 'v' + value), then the values to set. Returns 0
 * when written, else the (1-based) number of the first guard that failed, having written nothing.
 */
const FENCED_WRITE = `
local g, p, d = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 1, g do
  local want = ARGV[3 + i]
  local have = redis.call('GET', KEYS[i])
  if want == 'n' then
    if have then return i end
  elseif (not have) or have ~= string.sub(want, 2) then
    return i
  end
end
for i = 1, p, 500 do
  local chunk = {}
  for j = i, math.min(i + 499, p) do
    chunk[#chunk + 1] = KEYS[g + j]
    chunk[#chunk + 1] = ARGV[3 + g + j]
  end
  redis.call('MSET', unpack(chunk))
end
for i = 1, d, 500 do
  local chunk = {}
  for j = i, math.min(i + 499, d) do chunk[#chunk + 1] = KEYS[g + p + j] end
  redis.call('DEL', unpack(chunk))
end
return 0
`
const FENCED_WRITE_SHA = createHash('sha1').update(FENCED_WRITE).digest('hex')

/**
 * StateStore on Redis: `getMany` is one MGET, `writeBatch` one MULTI/EXEC, or one Lua script when
 * fenced (atomic, one round trip either way). Reconnects with capped exponential backoff; while disconnected, calls fail fast with a
 * retriable error instead of queueing without bound.
 */
export class RedisStateStore implements StateStore {
  readonly #client: RedisClientType
  /** The same connection, answering bulk strings as Buffers. */
  readonly #bytes: { mGet(keys: string[]): Promise<(Buffer | null)[]> }
  readonly #prefix: string
  readonly #url: string

  private constructor(client: RedisClientType, url: string, prefix: string) {
    this.#client = client
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

  async getManyBytes(keys: readonly string[]): Promise<(Buffer | null)[]> {
    if (keys.length === 0) return []
    try {
      return await this.#bytes.mGet(keys.map(k => this.#prefix + k))
    } catch (cause) {
      throw new DaroogheError('REDIS', `MGET of ${keys.length} keys failed on ${redact(this.#url)}`, {
        cause
      })
    }
  }

  async writeBatch(
    puts: ReadonlyArray<readonly [string, StateValue]>,
    deletes: readonly string[] = [],
    guards: ReadonlyArray<readonly [string, string | null]> = []
  ): Promise<void> {
    if (puts.length === 0 && deletes.length === 0) return
    if (guards.length > 0) return this.#fencedWrite(puts, deletes, guards)
    const multi = this.#client.multi()
    if (puts.length > 0) {
      const flat: (string | Buffer)[] = new Array(puts.length * 2)
      for (let i = 0; i < puts.length; i++) {
        flat[2 * i] = this.#prefix + puts[i]![0]
        flat[2 * i + 1] = arg(puts[i]![1])
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

  /** Guards checked and writes applied by one Lua script: atomic, one round trip. */
  async #fencedWrite(
    puts: ReadonlyArray<readonly [string, StateValue]>,
    deletes: readonly string[],
    guards: ReadonlyArray<readonly [string, string | null]>
  ): Promise<void> {
    const g = guards.length
    const keys: string[] = new Array(g + puts.length + deletes.length)
    const args: (string | Buffer)[] = new Array(3 + g + puts.length)
    args[0] = String(g)
    args[1] = String(puts.length)
    args[2] = String(deletes.length)
    for (let i = 0; i < g; i++) {
      const [k, expected] = guards[i]!
      keys[i] = this.#prefix + k
      args[3 + i] = expected === null ? 'n' : `v${expected}`
    }
    for (let i = 0; i < puts.length; i++) {
      keys[g + i] = this.#prefix + puts[i]![0]
      args[3 + g + i] = arg(puts[i]![1])
    }
    for (let i = 0; i < deletes.length; i++) keys[g + puts.length + i] = this.#prefix + deletes[i]!
    let result: unknown
    try {
      result = await this.#script(keys, args)
    } catch (cause) {
      throw new DaroogheError('REDIS', `state write of ${puts.length} keys failed on ${redact(this.#url)}`, {
        cause
      })
    }
    if (typeof result === 'number' && result > 0) {
      const key = guards[result - 1]![0]
      throw new DaroogheError(
        'STATE_CONFLICT',
        `state of '${key}' changed since it was read (another instance owns the partition now); the batch is re-run on the stored state`
      )
    }
  }

  async #script(keys: string[], args: (string | Buffer)[]): Promise<unknown> {
    const command: (string | Buffer)[] = new Array(3 + keys.length + args.length)
    command[0] = 'EVALSHA'
    command[1] = FENCED_WRITE_SHA
    command[2] = String(keys.length)
    for (let i = 0; i < keys.length; i++) command[3 + i] = keys[i]!
    for (let i = 0; i < args.length; i++) command[3 + keys.length + i] = args[i]!
    try {
      return await this.#client.sendCommand(command)
    } catch (error) {
      // First use on this server (or after SCRIPT FLUSH): EVAL sends the text and caches it.
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error
      command[0] = 'EVAL'
      command[1] = FENCED_WRITE
      return await this.#client.sendCommand(command)
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

function arg(v: StateValue): string | Buffer {
  return typeof v === 'string' || Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
}

/** Hides a password in a redis:// URL for messages and logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):([^@/]*)@/, '//$1:***@')
}
