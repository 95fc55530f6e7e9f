/**
 * Kafka's default partitioner hash: murmur2 (seed 0x9747b28c) over the key's bytes, made
 * positive with `& 0x7fffffff`, as the Java client's `Utils.toPositive(Utils.murmur2(key))`.
 * A customer's events must land on the partition any Kafka client would pick for its key.
 *
 * The client library computes it with BigInt arithmetic (an allocation per step); this one
 * uses 32-bit integer multiplication and hashes a string key from a reused scratch buffer.
 */

import { writeUtf8 } from './protocol/wire.ts'

const SEED = 0x9747b28c
const M = 0x5bd1e995
let scratch = Buffer.allocUnsafe(1024)

export function murmur2(key: Buffer | string): number {
  if (typeof key !== 'string') return hash(key, key.length)
  if (key.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(key.length * 3)
  return hash(scratch, writeUtf8(scratch, 0, key))
}

function hash(data: Buffer, length: number): number {
  let h = SEED ^ length
  const whole = length - (length % 4)
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  // The 1–3 bytes past the last whole word.
  const rest = length - whole
  if (rest > 0) {
    if (rest === 3) h ^= data[whole + 2]! << 16
    if (rest >= 2) h ^= data[whole + 1]! << 8
    h ^= data[whole]!
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h & 0x7fffffff
}
