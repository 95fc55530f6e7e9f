/**
 * Processing time comes from an explicit clock, never a hidden Date.now(): tests drive it by
 * hand and file mode can pin it, which makes outputs reproducible.
 */
export interface Clock {
  now(): number
}

/** A clock that moves only when told to (topology tests). */
export class ManualClock implements Clock {
  constructor(private ms: number) {}
  now(): number {
    return this.ms
  }
  set(ms: number): void {
    this.ms = ms
  }
  advance(ms: number): void {
    this.ms += ms
  }
}

/** A clock stopped at `ms` (file mode with --now). */
export function fixedClock(ms: number): Clock {
  return { now: () => ms }
}
