import { DaroogheError } from '../errors.ts'

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** '30s', '500ms', '2m', '1h', '1d'; a bare number is seconds. `flag` names the setting in errors. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim())
  if (!m)
    throw new DaroogheError(
      'USAGE',
      `${flag} must be a duration like 30s, 500ms, 2m, 1h or 1d (got '${text}')`
    )
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!)
}

/** `4MiB`, `512KiB`, `65536`: a size in bytes, from 0 to 256 MiB. */
export function parseSize(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB)?\s*$/.exec(text)
  const bytes = m
    ? Math.round(Number(m[1]) * (m[2] === 'MiB' ? 1 << 20 : m[2] === 'KiB' ? 1 << 10 : 1))
    : Number.NaN
  if (!(bytes >= 0 && bytes <= 256 << 20)) {
    throw new DaroogheError(
      'USAGE',
      `${flag} must be a size from 0 to 256MiB, like 4MiB or 512KiB (got '${text}')`
    )
  }
  return bytes
}

/** A positive integer flag (`--partitions`, `--max-depth`); undefined stays undefined. */
export function parsePositiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new DaroogheError('USAGE', `${flag} must be a positive integer (got '${text}')`)
  return n
}
