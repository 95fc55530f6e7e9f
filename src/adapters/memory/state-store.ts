import { DaroogheError } from '../../errors.ts'
import type { StateStore } from '../../ports/state-store.ts'

/**
 * The embedded StateStore: a Map in this process, with the port's semantics. `writeBatch`
 * applies all its puts and deletes in one synchronous step, so no reader ever sees half of a
 * batch (the equivalent of MULTI/EXEC). State lives as long as the object: `darooghe demo`
 * and file mode use it; tests share one instance between processor instances to simulate a
 * restart on durable state.
 */
export class MemoryStateStore implements StateStore {
  readonly #data = new Map<string, string>()
  #closed = false

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    this.#check()
    const out: (string | null)[] = new Array(keys.length)
    for (let i = 0; i < keys.length; i++) out[i] = this.#data.get(keys[i]!) ?? null
    return out
  }

  async writeBatch(
    puts: ReadonlyArray<readonly [key: string, value: string]>,
    deletes: readonly string[] = [],
    guards: ReadonlyArray<readonly [key: string, expected: string | null]> = []
  ): Promise<void> {
    this.#check()
    for (const [k, expected] of guards) {
      if ((this.#data.get(k) ?? null) !== expected) throw conflict(k)
    }
    for (const [k, v] of puts) {
      if (typeof k !== 'string' || typeof v !== 'string') {
        throw new DaroogheError('INTERNAL', `state writes need string keys and values (key ${String(k)})`)
      }
    }
    for (const [k, v] of puts) this.#data.set(k, v)
    for (const k of deletes) this.#data.delete(k)
  }

  async ping(): Promise<boolean> {
    return !this.#closed
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  /** Number of keys (tests, /health details). */
  get size(): number {
    return this.#data.size
  }

  /** A sorted copy of every key and value (tests compare state snapshots). */
  snapshot(): [string, string][] {
    return [...this.#data.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }

  clear(): void {
    this.#data.clear()
  }

  #check(): void {
    if (this.#closed) throw new DaroogheError('CLOSED', 'the in-memory state store is closed')
  }
}

function conflict(key: string): DaroogheError {
  return new DaroogheError(
    'STATE_CONFLICT',
    `state of '${key}' changed since it was read (another instance owns the partition now); the batch is re-run on the stored state`
  )
}
