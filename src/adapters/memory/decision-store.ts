import { DaroogheError } from '../../errors.ts'
import type { DecisionEntry, DecisionStore } from '../../ports/decision-store.ts'

/**
 * DecisionStore in this process (the embedded demo): entries expire after their TTL, and
 * beyond `capacity` the oldest written are dropped first. Nothing survives a restart.
 */
export class MemoryDecisionStore implements DecisionStore {
  readonly #entries = new Map<string, { entry: DecisionEntry; expiresAt: number }>()
  readonly #capacity: number
  readonly #now: () => number

  /** `capacity` default 100 000 entries (a decision is about 1.5 kB). */
  constructor(options: { capacity?: number; now?: () => number } = {}) {
    const capacity = options.capacity ?? 100_000
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new DaroogheError('CONFIG', `decision store capacity must be a positive integer, got ${capacity}`)
    this.#capacity = capacity
    this.#now = options.now ?? Date.now
  }

  async claim(transactionId: string, entry: DecisionEntry, ttlMs: number): Promise<DecisionEntry | null> {
    const old = this.#live(transactionId)
    if (old !== null) return old
    this.#set(transactionId, entry, ttlMs)
    return null
  }

  async put(transactionId: string, entry: DecisionEntry, ttlMs: number): Promise<void> {
    this.#set(transactionId, entry, ttlMs)
  }

  async get(transactionId: string): Promise<DecisionEntry | null> {
    return this.#live(transactionId)
  }

  async release(transactionId: string, pending: DecisionEntry): Promise<void> {
    const e = this.#live(transactionId)
    if (e !== null && e.state === 'pending' && e.correlationId === pending.correlationId)
      this.#entries.delete(transactionId)
  }

  async close(): Promise<void> {}

  #live(id: string): DecisionEntry | null {
    const e = this.#entries.get(id)
    if (e === undefined) return null
    if (e.expiresAt > this.#now()) return e.entry
    this.#entries.delete(id)
    return null
  }

  #set(id: string, entry: DecisionEntry, ttlMs: number): void {
    // Re-inserted, so that the map's order is the order of writes (oldest first).
    this.#entries.delete(id)
    this.#entries.set(id, { entry, expiresAt: this.#now() + ttlMs })
    for (const old of this.#entries.keys()) {
      if (this.#entries.size <= this.#capacity) break
      this.#entries.delete(old)
    }
  }
}
