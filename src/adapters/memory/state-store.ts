import { DaroogheError } from '../../errors.ts'
import { stateConflict, type StateStore, type StateValue } from '../../ports/state-store.ts'

/**
 * The embedded StateStore: a Map in this process, with the port's semantics. `writeBatch`
 * applies all its puts and deletes in one synchronous step, so no reader ever sees half of a
 * batch (the equivalent of MULTI/EXEC). State lives as long as the object: `darooghe demo`
 * and file mode use it; tests share one instance between processor instances to simulate a
 * restart on durable state.
 */
export class MemoryStateStore implements StateStore {
  /** Text values as strings, binary ones as private copies (a caller may reuse its bytes). */
  readonly #data = new Map<string, string | Buffer>()
  #closed = false

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    this.#check()
    const out: (string | null)[] = new Array(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const v = this.#data.get(keys[i]!)
      out[i] = v === undefined ? null : typeof v === 'string' ? v : v.toString('utf8')
    }
    return out
  }

  async getManyBytes(keys: readonly string[]): Promise<(Buffer | null)[]> {
    this.#check()
    const out: (Buffer | null)[] = new Array(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const v = this.#data.get(keys[i]!)
      out[i] = v === undefined ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : v
    }
    return out
  }

  async writeBatch(
    puts: ReadonlyArray<readonly [key: string, value: StateValue]>,
    deletes: readonly string[] = [],
    guards: ReadonlyArray<readonly [key: string, expected: string | null]> = [],
    appends: ReadonlyArray<readonly [key: string, bytes: Uint8Array]> = []
  ): Promise<void> {
    this.#check()
    for (const [k, expected] of guards) {
      const have = this.#data.get(k)
      if ((have === undefined ? null : have.toString()) !== expected) throw stateConflict(k)
    }
    for (const [k, v] of puts) {
      if (typeof k !== 'string' || (typeof v !== 'string' && !(v instanceof Uint8Array))) {
        throw new DaroogheError(
          'INTERNAL',
          `state writes need string keys and string or byte values (key ${String(k)})`
        )
      }
    }
    for (const [k, v] of appends) {
      if (typeof k !== 'string' || !(v instanceof Uint8Array)) {
        throw new DaroogheError(
          'INTERNAL',
          `state appends need string keys and byte values (key ${String(k)})`
        )
      }
    }
    for (const [k, v] of puts) this.#data.set(k, typeof v === 'string' ? v : Buffer.from(v))
    for (const k of deletes) this.#data.delete(k)
    for (const [k, v] of appends) {
      const have = this.#data.get(k)
      const head = have === undefined ? Buffer.alloc(0) : typeof have === 'string' ? Buffer.from(have) : have
      this.#data.set(k, Buffer.concat([head, v]))
    }
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

  /** A sorted copy of every key and value, bytes as base64 (tests compare state snapshots). */
  snapshot(): [string, string][] {
    return [...this.#data.entries()]
      .map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : `base64:${v.toString('base64')}`])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }

  clear(): void {
    this.#data.clear()
  }

  #check(): void {
    if (this.#closed) throw new DaroogheError('CLOSED', 'the in-memory state store is closed')
  }
}
