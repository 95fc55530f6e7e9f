/** What every target's batch function takes and returns. */
import type { CleanEvent } from './corpus.ts'
import type { Mutated } from './mutations.ts'
import { escapeBytes, type Finding } from './report.ts'

export interface BatchSpec {
  readonly seed: string
  /** The cases to run (all of the range, or one of them alone). */
  readonly cases: readonly number[]
  /** The batch's range of cases, [from, to): findings name it. */
  readonly range: readonly [number, number]
  /** Index of the clean window the batch mixes its cases into. */
  readonly window: number
}

export interface BatchEnv {
  readonly bases: readonly string[]
  readonly alerts: readonly string[]
  /** Clean window j (the last one asked for is kept, so a batch can run its cases again). */
  clean(j: number): CleanEvent[]
  /** Whole-CLI runs: the file target runs the real `darooghe detect` on this batch too. */
  readonly cli: boolean
}

export interface BatchResult {
  readonly findings: Finding[]
  /** Input records (or requests) of the batch, and how many were hostile. */
  readonly records: number
  readonly hostile: number
  /** Whether the batch as a whole failed (threw, or could not run). */
  readonly threw: boolean
  /** What the hostile records came to (approved, error, duplicate, …; HTTP: status codes). */
  readonly tally?: Record<string, number>
}

/** A batch-level finding reproduced by one case alone: now it is that case's. */
export function alone(f: Finding, c: Mutated & { k: number }): Finding {
  const payload = c.payloads[0] ?? null
  return {
    ...f,
    case: c.k,
    mutations: c.mutations,
    head: escapeBytes(payload),
    bytes: payload?.length ?? 0,
    detail: `alone: ${f.detail}`
  }
}
