import { RESP_TYPES, type RedisClusterType } from 'redis'
import { DaroogheError } from '../../errors.ts'
import { stateConflict, type StateValue } from '../../ports/state-store.ts'
import { fencedCall, FENCED_WRITE, FENCED_WRITE_SHA } from './fenced-script.ts'
import { bySlot, keySlot } from './key-slot.ts'

const AS_BYTES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } }

/** One hash slot's share of a state write. */
interface Part {
  readonly slot: number
  readonly guards: [string, string | null][]
  readonly puts: [string, StateValue][]
  readonly deletes: string[]
  readonly appends: [string, Uint8Array][]
}

/**
 * The RedisStateStore's operations on a Redis Cluster. A script or an MGET may touch one hash
 * slot only, so reads are one MGET per slot and a write is one FENCED_WRITE script per slot,
 * all sent at once. Each slot's part is atomic and fenced by the guards in that slot: the
 * processor's keys carry their partition's hash tag (`{<prefix><topic>:<partition>}`), so a
 * partition's state, progress and journal are written together or not at all, as on one
 * server; a batch of several partitions is atomic per partition. That is what the fencing and
 * the restart rely on (each partition is restored and fenced on its own).
 *
 * Replication: Redis copies a write to the replicas after acknowledging it, so a master that
 * dies may take its last writes with it while the processor has already committed their
 * offsets. After every write each master written to that has a replica is asked `WAIT 1`:
 * the write counts as done only once a replica holds it, so a failover loses none.
 */
export class ClusterState {
  readonly #cluster: RedisClusterType
  readonly #prefix: string
  readonly #waitMs: number

  constructor(cluster: RedisClusterType, prefix: string, replicaWaitMs: number) {
    this.#cluster = cluster
    this.#prefix = prefix
    this.#waitMs = replicaWaitMs
  }

  async getMany<T extends string | Buffer>(keys: readonly string[], bytes: boolean): Promise<(T | null)[]> {
    const full = keys.map(k => this.#prefix + k)
    const out = new Array<T | null>(keys.length).fill(null)
    await Promise.all(
      [...bySlot(full).values()].map(async idx => {
        const got = await this.#cluster.sendCommand<(T | null)[]>(
          full[idx[0]!],
          false, // from the master, never a replica's lagging copy
          ['MGET', ...idx.map(i => full[i]!)],
          bytes ? AS_BYTES : undefined
        )
        for (let j = 0; j < idx.length; j++) out[idx[j]!] = got[j] ?? null
      })
    )
    return out
  }

  async write(
    puts: ReadonlyArray<readonly [string, StateValue]>,
    deletes: readonly string[],
    guards: ReadonlyArray<readonly [string, string | null]>,
    appends: ReadonlyArray<readonly [string, Uint8Array]>
  ): Promise<void> {
    const parts = new Map<number, Part>()
    const part = (key: string): Part => {
      const slot = keySlot(this.#prefix + key)
      let p = parts.get(slot)
      if (!p) parts.set(slot, (p = { slot, guards: [], puts: [], deletes: [], appends: [] }))
      return p
    }
    for (const g of guards) part(g[0]).guards.push([g[0], g[1]])
    for (const [k, v] of puts) part(k).puts.push([k, v])
    for (const k of deletes) part(k).deletes.push(k)
    for (const [k, v] of appends) part(k).appends.push([k, v])
    if (guards.length > 0) {
      for (const p of parts.values()) {
        if (p.guards.length > 0) continue
        const key = p.puts[0]?.[0] ?? p.deletes[0] ?? p.appends[0]?.[0] ?? '?'
        throw new DaroogheError(
          'INTERNAL',
          `fenced state write: key '${key}' is in a Redis Cluster hash slot none of its guards is in; give each partition's keys the hash tag of its progress key`
        )
      }
    }
    const results = await Promise.allSettled([...parts.values()].map(p => this.#writePart(p)))
    await this.#replicated([...parts.values()])
    for (const r of results) if (r.status === 'rejected') throw r.reason
    for (const r of results) if (r.status === 'fulfilled' && r.value !== null) throw stateConflict(r.value)
  }

  /** One slot's FENCED_WRITE; the guard key that failed, or null once written. */
  async #writePart(p: Part): Promise<string | null> {
    const { keys, args } = fencedCall(this.#prefix, p.puts, p.deletes, p.guards, p.appends)
    const call = (op: string, script: string): Promise<unknown> =>
      this.#cluster.sendCommand(keys[0], false, [op, script, String(keys.length), ...keys, ...args])
    let failed: unknown
    try {
      failed = await call('EVALSHA', FENCED_WRITE_SHA)
    } catch (error) {
      // A node that does not know the script yet (new, restarted, or just promoted).
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error
      failed = await call('EVAL', FENCED_WRITE)
    }
    return failed === 0 ? null : (p.guards[Number(failed) - 1]?.[0] ?? '?')
  }

  /** `WAIT 1` on every master written to that has a replica (see the class comment). */
  async #replicated(parts: Part[]): Promise<void> {
    if (this.#waitMs <= 0) return
    // A key of the part routes WAIT to the connection the part was written on.
    const masters = new Map<string, string>()
    for (const p of parts) {
      const shard = this.#cluster.slots[p.slot]
      const key = p.guards[0]?.[0] ?? p.puts[0]?.[0] ?? p.deletes[0] ?? p.appends[0]?.[0]
      if ((shard?.replicas?.length ?? 0) > 0 && shard && key !== undefined)
        masters.set(shard.master.address, this.#prefix + key)
    }
    await Promise.all(
      [...masters].map(async ([address, key]) => {
        // On the node's own connection: the cluster client would send WAIT to every master
        // (its request policy) and answer the smallest count, 0 wherever a master has no replica.
        const node = await this.#cluster.getNodeClientForKey(key)
        const acks = await node.sendCommand(['WAIT', '1', String(this.#waitMs)])
        if (Number(acks) < 1) {
          throw new DaroogheError(
            'REDIS',
            `a state write on ${address} reached no replica within ${this.#waitMs} ms (a replica down or lagging); the batch is re-run`
          )
        }
      })
    )
  }

  async ping(): Promise<boolean> {
    return String(await this.#cluster.sendCommand(undefined, false, ['PING'])) === 'PONG'
  }

  /** Deletes every key under the prefix, master by master. */
  async clear(): Promise<void> {
    for (const master of this.#cluster.masters) {
      const node = await this.#cluster.nodeClient(master)
      let cursor = '0'
      do {
        const res = await node.scan(cursor, { MATCH: `${this.#prefix}*`, COUNT: 1000 })
        cursor = String(res.cursor)
        for (const idx of bySlot(res.keys).values()) await node.del(idx.map(i => res.keys[i]!))
      } while (cursor !== '0')
    }
  }

  async close(): Promise<void> {
    try {
      await this.#cluster.close()
    } catch {
      this.#cluster.destroy()
    }
  }
}
