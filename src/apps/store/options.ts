import type { IndexSpec } from '../../ports/document-store.ts'
import { DEFAULT_TOPICS } from '../processor/options.ts'

/** The topics the store reads; every name is configurable (defaults: the processor's outputs). */
export interface StoreTopics {
  /** Approved decisions. Default 'darooghe.transactions.approved'. */
  readonly approved: string
  /** Fraud decisions. Default 'darooghe.transactions.fraud'. */
  readonly fraud: string
  /** Default 'darooghe.fraud_alerts'. */
  readonly alerts: string
  /** Validation failures. Default 'darooghe.error_logs'. */
  readonly errors: string
  /**
   * Late events. Default 'darooghe.late_events'. The detector no longer writes it (it decides
   * late payments, flagged): records written there before are still stored.
   */
  readonly late: string
  /** Window aggregates of the windows stage. Default 'darooghe.analytics'. */
  readonly analytics: string
}

export const DEFAULT_STORE_TOPICS: StoreTopics = Object.freeze({
  approved: DEFAULT_TOPICS.approved,
  fraud: DEFAULT_TOPICS.fraud,
  alerts: DEFAULT_TOPICS.alerts,
  errors: DEFAULT_TOPICS.errors,
  late: 'darooghe.late_events',
  analytics: 'darooghe.analytics'
})

/** Collection names (documented with their ids in src/apps/store/README.md). */
export const COLLECTIONS = Object.freeze({
  transactions: 'transactions',
  decisions: 'decisions',
  alerts: 'alerts',
  validationErrors: 'validation_errors',
  lateEvents: 'late_events',
  analyticsWindows: 'analytics_windows',
  rejects: 'store_rejects'
})

/**
 * Indexes for the queries of the API and the reports: time ranges (by day too), per customer,
 * per merchant, by decision — each ending with the time field so a range on it stays an index scan.
 */
export const STORE_INDEXES: Readonly<Record<string, readonly IndexSpec[]>> = Object.freeze<
  Record<string, readonly IndexSpec[]>
>({
  [COLLECTIONS.transactions]: [
    { keys: { event_time: 1 } },
    { keys: { day: 1, event_time: 1 } },
    { keys: { customer_id: 1, event_time: 1 } },
    { keys: { merchant_id: 1, event_time: 1 } },
    { keys: { decision: 1, event_time: 1 } }
  ],
  [COLLECTIONS.decisions]: [
    { keys: { customer_id: 1, event_time: 1 } },
    { keys: { decision: 1, event_time: 1 } }
  ],
  [COLLECTIONS.alerts]: [{ keys: { created_at: 1 } }, { keys: { customer_id: 1, created_at: 1 } }],
  [COLLECTIONS.validationErrors]: [{ keys: { ingestion_time: 1 } }],
  [COLLECTIONS.analyticsWindows]: [{ keys: { kind: 1, window_start: 1 } }]
})

/** Merges topic overrides (undefined keeps the default) and freezes. */
export function storeTopics(
  overrides: Partial<Record<keyof StoreTopics, string | undefined>> = {}
): StoreTopics {
  const t: Record<string, string> = { ...DEFAULT_STORE_TOPICS }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) t[k] = v
  return Object.freeze(t as unknown as StoreTopics)
}
