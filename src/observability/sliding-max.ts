/**
 * The maximum of the values added over the last `windowMs`, in fixed slots (a value is
 * forgotten between windowMs and windowMs + one slot after it was added). Constant memory,
 * O(slots) to read; a value's time is the caller's clock, never a hidden Date.now().
 */
export class SlidingMax {
  readonly #slotMs: number
  readonly #maxes: Float64Array
  readonly #starts: Float64Array

  constructor(windowMs: number, slots = 12) {
    this.#slotMs = Math.max(1, Math.ceil(windowMs / slots))
    // One extra slot: the partial current slot plus `slots` full ones cover the window.
    this.#maxes = new Float64Array(slots + 1)
    this.#starts = new Float64Array(slots + 1).fill(-Infinity)
  }

  add(nowMs: number, value: number): void {
    const start = Math.floor(nowMs / this.#slotMs) * this.#slotMs
    const i = (start / this.#slotMs) % this.#maxes.length
    if (this.#starts[i] !== start) {
      this.#starts[i] = start
      this.#maxes[i] = value
    } else if (value > this.#maxes[i]!) {
      this.#maxes[i] = value
    }
  }

  /** 0 when nothing was added within the window. */
  get(nowMs: number): number {
    const oldest = Math.floor(nowMs / this.#slotMs) * this.#slotMs - (this.#maxes.length - 1) * this.#slotMs
    let max = 0
    for (let i = 0; i < this.#maxes.length; i++) {
      if (this.#starts[i]! >= oldest && this.#maxes[i]! > max) max = this.#maxes[i]!
    }
    return max
  }
}
