import { parseJsonWithin } from '../../domain/limits.ts'
import { DaroogheError } from '../../errors.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { profileKey } from './stores.ts'

/**
 * Populates the feature store with customer profiles, as seed 001 does by hand
 * (`user_123_avg_spend: 50.00`): each NDJSON line `{"customer_id": "cust_1", "avg_spend": 50}`
 * becomes key `f:<customer_id>` = `{"avg_spend":50}`. Rule sets with an amount_anomaly rule of
 * `averageSource: "profile"` prefer this average over the customer's running one. Written in
 * batches of `batchSize` (one writeBatch each). Returns the number of profiles written.
 * A processor reads a profile when the customer first enters its cache: seed before starting.
 */
export async function seedProfiles(
  store: StateStore,
  lines: Iterable<string> | AsyncIterable<string>,
  options: { keyPrefix?: string; batchSize?: number; source?: string } = {}
): Promise<number> {
  const prefix = options.keyPrefix ?? ''
  const size = options.batchSize ?? 1_000
  const source = options.source ?? 'profiles'
  let puts: [string, string][] = []
  let written = 0
  let lineNo = 0
  for await (const line of lines) {
    lineNo++
    if (line.trim().length === 0) continue
    const { customerId, avg } = parseProfileLine(line, `${source}:${lineNo}`)
    puts.push([profileKey(prefix, customerId), JSON.stringify({ avg_spend: avg })])
    if (puts.length >= size) {
      await store.writeBatch(puts)
      written += puts.length
      puts = []
    }
  }
  if (puts.length > 0) await store.writeBatch(puts)
  return written + puts.length
}

function parseProfileLine(line: string, where: string): { customerId: string; avg: number } {
  // A line is a record this project did not write: parsed behind the record limits.
  const parsed = parseJsonWithin(line)
  if (!parsed.ok) {
    const why = parsed.limit === null ? 'not valid JSON' : parsed.error
    throw new DaroogheError('CONFIG', `${where}: ${why}; expected {"customer_id": "...", "avg_spend": 50}`)
  }
  const v = parsed.value
  const o = (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : null) as {
    customer_id?: unknown
    avg_spend?: unknown
  } | null
  if (o === null)
    throw new DaroogheError('CONFIG', `${where}: expected an object {"customer_id": "...", "avg_spend": 50}`)
  if (typeof o.customer_id !== 'string' || o.customer_id.length === 0 || o.customer_id.length > 256) {
    throw new DaroogheError('CONFIG', `${where}: customer_id must be a string of 1-256 characters`)
  }
  if (typeof o.avg_spend !== 'number' || !Number.isFinite(o.avg_spend) || o.avg_spend <= 0) {
    throw new DaroogheError('CONFIG', `${where}: avg_spend must be a positive number`)
  }
  return { customerId: o.customer_id, avg: o.avg_spend }
}
