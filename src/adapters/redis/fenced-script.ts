import { createHash } from 'node:crypto'
import type { StateValue } from '../../ports/state-store.ts'

/**
 * KEYS: the guarded keys, then the keys to put, to delete and to append to. ARGV: the four
 * counts, each guard's expectation ('=' and the value, or '!' for absent), the values to put,
 * the bytes to append. Returns 0 once everything is written, or the index (from 1) of the
 * first guard that does not hold, having written nothing. Runs atomically, as every script.
 * Deletes go one call each: a compaction's thousands of keys would overflow `unpack`.
 */
export const FENCED_WRITE = `
local ng, np, nd, na = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 1, ng do
  local have = redis.call('GET', KEYS[i])
  local want = ARGV[4 + i]
  if want == '!' then
    if have then return i end
  elseif (not have) or have ~= string.sub(want, 2) then
    return i
  end
end
for i = 1, np do redis.call('SET', KEYS[ng + i], ARGV[4 + ng + i]) end
for i = 1, nd do redis.call('DEL', KEYS[ng + np + i]) end
for i = 1, na do redis.call('APPEND', KEYS[ng + np + nd + i], ARGV[4 + ng + np + i]) end
return 0
`
export const FENCED_WRITE_SHA = createHash('sha1').update(FENCED_WRITE).digest('hex')

/** The KEYS and ARGV of one FENCED_WRITE call. */
export function fencedCall(
  prefix: string,
  puts: ReadonlyArray<readonly [string, StateValue]>,
  deletes: readonly string[],
  guards: ReadonlyArray<readonly [string, string | null]>,
  appends: ReadonlyArray<readonly [string, Uint8Array]>
): { keys: string[]; args: (string | Buffer)[] } {
  const keys: string[] = []
  const args: (string | Buffer)[] = [
    String(guards.length),
    String(puts.length),
    String(deletes.length),
    String(appends.length)
  ]
  // A guard's expected value: '=' and the value, or '!' for "absent".
  for (const [k, expected] of guards) {
    keys.push(prefix + k)
    args.push(expected === null ? '!' : `=${expected}`)
  }
  for (const [k, v] of puts) {
    keys.push(prefix + k)
    args.push(arg(v))
  }
  for (const k of deletes) keys.push(prefix + k)
  for (const [k, v] of appends) {
    keys.push(prefix + k)
    args.push(arg(v))
  }
  return { keys, args }
}

export function arg(v: StateValue): string | Buffer {
  return typeof v === 'string' || Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
}
