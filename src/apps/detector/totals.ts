import type { BatchStats } from '../processor/index.ts'

/** Running totals of processed batches, for status lines and summaries. */
export interface BatchTotals {
  records: number
  approved: number
  fraud: number
  alerts: number
  errors: number
  /** Decisions late for their customer (among approved and fraud). */
  late: number
  latencyMax: number
}

export function emptyTotals(): BatchTotals {
  return { records: 0, approved: 0, fraud: 0, alerts: 0, errors: 0, late: 0, latencyMax: 0 }
}

export function addBatch(totals: BatchTotals, s: BatchStats): void {
  totals.records += s.records
  totals.approved += s.approved
  totals.fraud += s.fraud
  totals.alerts += s.alerts
  totals.errors += s.errors
  totals.late += s.late
  totals.latencyMax = Math.max(totals.latencyMax, s.latencyMaxMs)
}
