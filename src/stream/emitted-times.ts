import { ByteReader, type ByteSlab } from '../bytes/index.ts'
import { indexOfSorted } from './sorted.ts'

/**
 * Processing times of records whose outputs may have been emitted while their effects are not
 * yet in the durable state (delivery mode `outputs-first`), by source offset, ascending. Stored
 * before the outputs are produced, so that a redelivered record is processed again on the same
 * state with the same processing time: its outputs come out byte for byte as the first time.
 */
export class EmittedTimes {
  constructor(
    readonly offsets: number[] = [],
    readonly times: number[] = []
  ) {}

  get size(): number {
    return this.offsets.length
  }

  /** The stored processing time of `offset`, or NaN. */
  timeOf(offset: number): number {
    const i = indexOfSorted(this.offsets, offset)
    return i < 0 ? Number.NaN : this.times[i]!
  }

  /** Appends a record processed in offset order. */
  push(offset: number, time: number): void {
    this.offsets.push(offset)
    this.times.push(time)
  }

  /** The entries of both, by offset (`next` wins a tie: it reused the stored time anyway). */
  static merge(stored: EmittedTimes, next: EmittedTimes | null): EmittedTimes {
    if (next === null || next.size === 0) return stored
    if (stored.size === 0) return next
    const out = new EmittedTimes()
    let i = 0
    let j = 0
    while (i < stored.size || j < next.size) {
      const a = i < stored.size ? stored.offsets[i]! : Number.POSITIVE_INFINITY
      const b = j < next.size ? next.offsets[j]! : Number.POSITIVE_INFINITY
      if (b <= a) {
        out.push(b, next.times[j++]!)
        if (a === b) i++
      } else out.push(a, stored.times[i++]!)
    }
    return out
  }

  /** The entries after `offset` (those not yet in the durable state). */
  after(offset: number): EmittedTimes {
    let i = 0
    while (i < this.size && this.offsets[i]! <= offset) i++
    if (i === 0) return this
    return new EmittedTimes(this.offsets.slice(i), this.times.slice(i))
  }
}

export const NO_TIMES = new EmittedTimes()

const VERSION = 1

/** u8 1 | u32 n | n × (f64 offset, f64 processing time), little-endian. */
export function encodeEmittedTimes(t: EmittedTimes, slab: ByteSlab): Buffer {
  const w = slab.begin(5 + t.size * 16)
  w.u8(VERSION)
  w.u32(t.size)
  for (let i = 0; i < t.size; i++) {
    w.f64(t.offsets[i]!)
    w.f64(t.times[i]!)
  }
  return slab.end()
}

export function decodeEmittedTimes(raw: Buffer | null): EmittedTimes {
  if (raw === null || raw.length === 0) return NO_TIMES
  const r = new ByteReader(raw)
  const t = new EmittedTimes()
  try {
    if (r.u8() !== VERSION) throw new Error(`not a version-${VERSION} record`)
    const n = r.u32()
    for (let i = 0; i < n; i++) t.push(r.f64(), r.f64())
  } catch (error) {
    throw new Error(`malformed emitted-times record (${(error as Error).message})`, { cause: error })
  }
  if (!r.done) throw new Error('emitted-times record has trailing bytes')
  return t
}
