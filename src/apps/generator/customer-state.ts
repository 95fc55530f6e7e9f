/**
 * What the generator remembers about each customer, so that ordinary traffic never trips
 * the default fraud rules and every injected scenario really has its property:
 * - the times of the last 5 events (a ring), to keep any 125 s window at ≤ 5 events;
 * - the time of the last event, for scenarios that need a quiet customer;
 * - `blockedUntil`, set by scenarios so nothing else happens to the customer until the
 *   scenario is over and its after-effects (a far location, a burst) have expired;
 * - count and sums of valid amounts (all, and approved only), for the amount rules;
 * - which far cities the customer has already been seen in.
 * Typed arrays keep this to a few dozen bytes per customer and free of garbage.
 */

/** Ordinary events of a customer never exceed this many within `WINDOW_MS`. */
export const MAX_EVENTS_PER_WINDOW = 5
/** The default velocity window is 120 s; 5 s of margin for clock rounding in detectors. */
export const WINDOW_MS = 125_000

export class CustomerState {
  private readonly ring: Float64Array
  private readonly head: Uint8Array
  readonly lastTime: Float64Array
  readonly blockedUntil: Float64Array
  readonly validCount: Uint32Array
  private readonly validSum: Float64Array
  private readonly approvedCount: Uint32Array
  private readonly approvedSum: Float64Array
  readonly citiesSeen: Uint32Array
  /** Customers with at least 3 valid events, in the order they reached 3 (amount-anomaly candidates). */
  readonly seasoned: number[] = []

  constructor(readonly size: number) {
    this.ring = new Float64Array(size * MAX_EVENTS_PER_WINDOW).fill(-Infinity)
    this.head = new Uint8Array(size)
    this.lastTime = new Float64Array(size).fill(-Infinity)
    this.blockedUntil = new Float64Array(size).fill(-Infinity)
    this.validCount = new Uint32Array(size)
    this.validSum = new Float64Array(size)
    this.approvedCount = new Uint32Array(size)
    this.approvedSum = new Float64Array(size)
    this.citiesSeen = new Uint32Array(size)
  }

  /** May customer `c` make an ordinary payment at `t` without a 6th event in the window? */
  available(c: number, t: number): boolean {
    if ((this.blockedUntil[c] as number) > t) return false
    const oldest = this.ring[c * MAX_EVENTS_PER_WINDOW + (this.head[c] as number)] as number
    return oldest <= t - WINDOW_MS
  }

  /** Available, and nothing at all happened to the customer in the last `quietMs`. */
  quiet(c: number, t: number, quietMs: number): boolean {
    return (this.blockedUntil[c] as number) <= t && (this.lastTime[c] as number) <= t - quietMs
  }

  block(c: number, until: number): void {
    if (until > (this.blockedUntil[c] as number)) this.blockedUntil[c] = until
  }

  /** Records an event of customer `c` at `t` (every event, valid or not, counts for spacing). */
  record(c: number, t: number): void {
    const h = this.head[c] as number
    this.ring[c * MAX_EVENTS_PER_WINDOW + h] = t
    this.head[c] = h + 1 === MAX_EVENTS_PER_WINDOW ? 0 : h + 1
    this.lastTime[c] = t
  }

  /** Adds a valid event's amount to the customer's history. */
  recordAmount(c: number, amount: number, approved: boolean): void {
    const n = (this.validCount[c] as number) + 1
    this.validCount[c] = n
    this.validSum[c] = (this.validSum[c] as number) + amount
    if (approved) {
      this.approvedCount[c] = (this.approvedCount[c] as number) + 1
      this.approvedSum[c] = (this.approvedSum[c] as number) + amount
    }
    if (n === 3) this.seasoned.push(c)
  }

  /**
   * The larger of the customer's mean valid amount and mean approved amount (0 if none):
   * an anomaly sized against it exceeds 10× the average whichever of the two a detector keeps.
   */
  meanAmount(c: number): number {
    const n = this.validCount[c] as number
    const a = this.approvedCount[c] as number
    const all = n === 0 ? 0 : (this.validSum[c] as number) / n
    const approved = a === 0 ? 0 : (this.approvedSum[c] as number) / a
    return Math.max(all, approved)
  }
}
