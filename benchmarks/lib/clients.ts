/** Pure summaries of the client comparison (suite 5): raw run times in, medians out. */
import { ratePerSecond, summarize } from './stats.ts'
import type { ClientResult } from './types.ts'

/** What one client's child process measured in one run. */
export interface ClientRunTimes {
  readonly produceMs: number
  /** Bytes of the produced keys and values. */
  readonly produceBytes: number
  readonly consumeStartMs: number
  readonly consumeMs: number
  /** Records and bytes of keys and values actually read. */
  readonly consumedRecords: number
  readonly consumedBytes: number
}

/** What a client's child process reports: its runs, or why it could not run. */
export interface ClientOutcome {
  readonly client: string
  readonly version: string | null
  readonly unavailable?: string
  readonly runs: readonly ClientRunTimes[]
}

/** Megabytes (10^6 bytes) per second of `bytes` in `ms` milliseconds (0 when no time elapsed). */
export function mbPerSecond(bytes: number, ms: number): number {
  return ratePerSecond(bytes, ms) / 1e6
}

/** Medians with min and max over the runs; a client without runs keeps only its reason. */
export function clientResult(outcome: ClientOutcome, produced: number): ClientResult {
  const { client, version, runs } = outcome
  if (outcome.unavailable !== undefined || runs.length === 0) {
    return { client, version, unavailable: outcome.unavailable ?? 'no runs completed' }
  }
  const over = (f: (r: ClientRunTimes) => number) => summarize(runs.map(f))
  return {
    client,
    version,
    produceEventsPerSecond: over(r => ratePerSecond(produced, r.produceMs)),
    produceMBPerSecond: over(r => mbPerSecond(r.produceBytes, r.produceMs)),
    consumeEventsPerSecond: over(r => ratePerSecond(r.consumedRecords, r.consumeMs)),
    consumeMBPerSecond: over(r => mbPerSecond(r.consumedBytes, r.consumeMs)),
    consumeStartMs: over(r => r.consumeStartMs)
  }
}
