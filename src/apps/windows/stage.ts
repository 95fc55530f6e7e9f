import type { Logger } from '../../logger.ts'
import type { LogConsumer, LogProducer, LogRecord, OutRecord } from '../../ports/log.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { withRetry } from '../../retry.ts'
import {
  WindowAggregator,
  type AggregatorOptions,
  type AggregatorSnapshot,
  type WindowRow
} from './aggregator.ts'

export const ANALYTICS_TOPIC = 'darooghe.analytics'

export interface WindowsDeps extends AggregatorOptions {
  /** Subscribed to the decision topics (approved and fraud). */
  readonly consumer: LogConsumer
  readonly producer: LogProducer
  /** Where the open windows are kept between batches, so a restart loses nothing. */
  readonly store: StateStore
  readonly log: Logger
  readonly signal?: AbortSignal
  /** Default `darooghe.analytics`. */
  readonly topic?: string
  /** Key of the open-window state in the store. Default `windows:state`. */
  readonly stateKey?: string
  /** Called after each durable batch with the windows it closed. */
  readonly onBatch?: (totals: WindowsTotals, closed: number) => void
}

export interface WindowsTotals {
  records: number
  /** Records that were not decided transactions (undecodable, no event_time). */
  skipped: number
  late: number
  windows: number
}

/**
 * The windows stage: decided transactions in, closed window aggregates out. Per poll batch:
 * add every row, publish the windows the watermark closed, then write the open windows to the
 * state store, and only then let the consumer commit. A crash before the state write replays
 * the batch onto the previous state and re-publishes byte-identical windows (same ids, same
 * content), so consumers that upsert by `window_id` see each window once.
 *
 * One instance per input: windows merge every partition, so a second instance in the same
 * group would publish windows of half the traffic.
 */
export async function runWindows(deps: WindowsDeps): Promise<WindowsTotals> {
  const { consumer, producer, store, log } = deps
  const topic = deps.topic ?? ANALYTICS_TOPIC
  const stateKey = deps.stateKey ?? 'windows:state'
  const retry = { initialMs: 100, maxMs: 5_000, signal: deps.signal }
  const totals: WindowsTotals = { records: 0, skipped: 0, late: 0, windows: 0 }
  let agg: WindowAggregator | null = null

  let assigned: string[] = []
  const load = async (): Promise<WindowAggregator> => {
    const fresh = new WindowAggregator(deps)
    const [saved] = await withRetry('reading window state', () => store.getMany([stateKey]), log, retry)
    if (saved) {
      fresh.restore(JSON.parse(saved) as AggregatorSnapshot, Date.now())
      log.info({ open: fresh.snapshot().windows.length }, 'window state restored')
    }
    fresh.assign(assigned, Date.now())
    return fresh
  }

  await consumer.run({
    onAssignment: partitions => {
      assigned = partitions.map(p => `${p.topic}:${p.partition}`)
      agg?.assign(assigned, Date.now())
    },
    onBatch: async records => {
      // Rebuilt from the store before each batch after a failure too, so a half-applied batch
      // is never counted twice.
      agg ??= await load()
      const current = agg
      agg = null
      const now = Date.now()
      for (const r of records) {
        const row = rowOf(r)
        if (!row) totals.skipped++
        else if (!current.add(row, `${r.topic}:${r.partition}`, now)) totals.late++
      }
      totals.records += records.length
      const closed = current.close(now)
      const out: OutRecord[] = closed.map(w => ({
        topic,
        key: w.window_id,
        value: JSON.stringify(w),
        timestamp: Date.parse(w.window_end)
      }))
      if (out.length > 0) await withRetry('publishing windows', () => producer.send(out), log, retry)
      const state = JSON.stringify(current.snapshot())
      await withRetry('writing window state', () => store.writeBatch([[stateKey, state]]), log, retry)
      agg = current
      totals.windows += closed.length
      deps.onBatch?.(totals, closed.length)
    }
  })
  return totals
}

/** A decision record (original event + decision fields) as a window row; null when it is not one. */
export function rowOf(r: LogRecord): WindowRow | null {
  if (!r.value) return null
  let d: Record<string, unknown>
  try {
    d = JSON.parse(r.value.toString()) as Record<string, unknown>
  } catch {
    return null
  }
  const eventTimeMs = typeof d.event_time === 'string' ? Date.parse(d.event_time) : NaN
  if (Number.isNaN(eventTimeMs) || typeof d.amount !== 'number') return null
  return {
    eventTimeMs,
    amount: d.amount,
    commissionType: String(d.commission_type),
    commissionAmount: typeof d.commission_amount === 'number' ? d.commission_amount : 0,
    merchantId: String(d.merchant_id),
    status: String(d.status),
    category: String(d.merchant_category),
    method: String(d.payment_method),
    fraud: d.decision === 'fraud'
  }
}
