/** A case: its number and the seed decide everything in it, so any case can be run again alone. */
import { Random } from '../../src/domain/random.ts'
import type { CleanEvent } from './corpus.ts'
import { mutate, type Mutated } from './mutations.ts'
import type { Target } from './report.ts'

export interface HostileCase extends Mutated {
  readonly k: number
  /** Inserted before clean event `pos` of its batch's window (pos = window length: at the end). */
  readonly pos: number
}

export function caseRandom(seed: string, target: Target, k: number): Random {
  return new Random(`${seed}/${target}/${k}`)
}

/**
 * A hostile record made from a base event: a unique transaction id (fz-<case>) so that it
 * duplicates nothing unless a mutation makes it, stamped up to 45 s before the clean event it
 * precedes (30 s are allowed: some of the valid ones are decided late, behind their customer), then mutated.
 */
export function eventCase(
  seed: string,
  target: 'processor' | 'file',
  k: number,
  bases: readonly string[],
  clean: readonly CleanEvent[]
): HostileCase {
  const r = caseRandom(seed, target, k)
  const pos = r.int(0, clean.length)
  const anchor = clean[Math.min(pos, clean.length - 1)]!.eventTimeMs
  const base = JSON.parse(r.pick(bases)) as Record<string, unknown>
  base.transaction_id = `fz-${k}`
  base.timestamp = new Date(anchor - r.int(0, 45_000)).toISOString()
  const m = mutate(JSON.stringify(base), r, { kind: 'event', kafka: target === 'processor' })
  return { ...m, k, pos }
}

/** A POST /alerts body made from an alert the processor emitted, with its own alert id. */
export function alertCase(seed: string, k: number, alerts: readonly string[]): Mutated & { k: number } {
  const r = caseRandom(seed, 'http', k)
  const base = JSON.parse(r.pick(alerts)) as Record<string, unknown>
  base.alert_id = `alert-fz-${k}`
  base.transaction_id = `fz-${k}`
  return { ...mutate(JSON.stringify(base), r, { kind: 'alert', kafka: false }), k }
}
