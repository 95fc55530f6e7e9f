/**
 * A seeded pseudo-random source (xoshiro128**, seeded through cyrb128), so that everything
 * derived from it (amounts, places, ids, UUIDs) is reproducible from one seed. Not for
 * cryptography: transaction ids only need to be unique and deterministic.
 */

const TWO_POW_32 = 4294967296

/** Byte → two lowercase hex digits, built once. */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** 128 bits of state from any string (cyrb128): distinct seeds give unrelated streams. */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703
  let h2 = 3144134277
  let h3 = 1013904242
  let h4 = 2773480762
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i)
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067)
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233)
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213)
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179)
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  h1 ^= h2 ^ h3 ^ h4
  h2 ^= h1
  h3 ^= h1
  h4 ^= h1
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
}

export class Random {
  private s0: number
  private s1: number
  private s2: number
  private s3: number
  private spareNormal = Number.NaN

  /** `seed` is hashed as a string, so the seed `1` and the seed `'1'` give the same stream. */
  constructor(seed: string | number) {
    const [a, b, c, d] = cyrb128(String(seed))
    this.s0 = a
    this.s1 = b
    this.s2 = c
    // xoshiro must never hold an all-zero state.
    this.s3 = a === 0 && b === 0 && c === 0 && d === 0 ? 1 : d
  }

  /** An independent stream derived from this seed and a name (e.g. one per concern). */
  static derive(seed: string | number, name: string): Random {
    return new Random(`${seed}\u0000${name}`)
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s1 = this.s1
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / TWO_POW_32
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next()
  }

  /** Integer uniform in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list')
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** Index drawn with probability proportional to `weights[i]` (linear scan: for short lists). */
  weightedIndex(weights: readonly number[]): number {
    let total = 0
    for (const w of weights) total += w
    let r = this.next() * total
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i] as number
      if (r < 0) return i
    }
    return weights.length - 1
  }

  weightedPick<T>(items: readonly T[], weights: readonly number[]): T {
    return items[this.weightedIndex(weights)] as T
  }

  /** Standard normal (Box–Muller, the second value kept for the next call). */
  normal(mean = 0, sd = 1): number {
    if (!Number.isNaN(this.spareNormal)) {
      const z = this.spareNormal
      this.spareNormal = Number.NaN
      return mean + sd * z
    }
    let u = this.next()
    while (u === 0) u = this.next()
    const v = this.next()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spareNormal = r * Math.sin(2 * Math.PI * v)
    return mean + sd * r * Math.cos(2 * Math.PI * v)
  }

  /** Log-normal whose median is `median` and whose log has standard deviation `sigma`. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal())
  }

  /** Exponential with the given rate (mean 1 / rate). */
  exponential(rate: number): number {
    return -Math.log(1 - this.next()) / rate
  }

  /** `bytes` random bytes as lowercase hex. */
  hex(bytes: number): string {
    let out = ''
    let word = 0
    for (let i = 0; i < bytes; i++) {
      if ((i & 3) === 0) word = this.nextUint32()
      out += HEX[word & 0xff]
      word >>>= 8
    }
    return out
  }

  /** An RFC 4122 version-4 UUID drawn from this stream (deterministic for a seed). */
  uuid(): string {
    const a = this.nextUint32()
    const b = this.nextUint32()
    const c = this.nextUint32()
    const d = this.nextUint32()
    return (
      HEX[a >>> 24]! +
      HEX[(a >>> 16) & 0xff]! +
      HEX[(a >>> 8) & 0xff]! +
      HEX[a & 0xff]! +
      '-' +
      HEX[b >>> 24]! +
      HEX[(b >>> 16) & 0xff]! +
      '-' +
      HEX[0x40 | ((b >>> 8) & 0x0f)]! +
      HEX[b & 0xff]! +
      '-' +
      HEX[0x80 | ((c >>> 24) & 0x3f)]! +
      HEX[(c >>> 16) & 0xff]! +
      '-' +
      HEX[(c >>> 8) & 0xff]! +
      HEX[c & 0xff]! +
      HEX[d >>> 24]! +
      HEX[(d >>> 16) & 0xff]! +
      HEX[(d >>> 8) & 0xff]! +
      HEX[d & 0xff]!
    )
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/**
 * Walker's alias table: O(1) draws of an index with probability proportional to its
 * weight, for large populations (e.g. customers with different activity levels).
 */
export class AliasTable {
  private readonly prob: Float64Array
  private readonly alias: Uint32Array

  constructor(weights: ArrayLike<number>) {
    const n = weights.length
    if (n === 0) throw new RangeError('alias table over no weights')
    let total = 0
    for (let i = 0; i < n; i++) total += weights[i] as number
    this.prob = new Float64Array(n)
    this.alias = new Uint32Array(n)
    const scaled = new Float64Array(n)
    const small: number[] = []
    const large: number[] = []
    for (let i = 0; i < n; i++) {
      scaled[i] = ((weights[i] as number) * n) / total
      if ((scaled[i] as number) < 1) small.push(i)
      else large.push(i)
    }
    while (small.length > 0 && large.length > 0) {
      const s = small.pop() as number
      const l = large.pop() as number
      this.prob[s] = scaled[s] as number
      this.alias[s] = l
      scaled[l] = (scaled[l] as number) + (scaled[s] as number) - 1
      if ((scaled[l] as number) < 1) small.push(l)
      else large.push(l)
    }
    for (const i of large) this.prob[i] = 1
    for (const i of small) this.prob[i] = 1
  }

  get size(): number {
    return this.prob.length
  }

  draw(random: Random): number {
    const x = random.next() * this.prob.length
    const i = Math.floor(x)
    return x - i < (this.prob[i] as number) ? i : (this.alias[i] as number)
  }
}
