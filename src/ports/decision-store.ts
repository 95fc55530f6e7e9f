/**
 * What the decision API remembers per transaction id, for idempotency: a pending marker while
 * the stream decides, then the reply. Redis when `serve` has it (shared by every API instance,
 * kept across restarts), in memory in the embedded demo.
 */
export interface DecisionEntry {
  /** 'pending' until the reply came; 'done' with `reply` after. */
  readonly state: 'pending' | 'done'
  /** Digest of the request body: a retry must send the same event. */
  readonly fingerprint: string
  /** The correlation id the event was sent with: the reply carries it. */
  readonly correlationId: string
  /** When the request was first received, epoch ms. */
  readonly receivedAtMs: number
  /** The reply record's value as text (decision, error or duplicate record); done only. */
  readonly reply?: string
}

export interface DecisionStore {
  /**
   * Stores `entry` under the transaction id unless one is there, atomically (Redis: SET NX
   * with the TTL). Returns null when stored, else the entry already there.
   */
  claim(transactionId: string, entry: DecisionEntry, ttlMs: number): Promise<DecisionEntry | null>
  /** Stores `entry` whatever is there (the reply came), with a fresh TTL. */
  put(transactionId: string, entry: DecisionEntry, ttlMs: number): Promise<void>
  get(transactionId: string): Promise<DecisionEntry | null>
  /** Removes the entry if it is still `pending` (the one this caller claimed: its send failed). */
  release(transactionId: string, pending: DecisionEntry): Promise<void>
  close(): Promise<void>
}
