import { COMMISSION_TYPES, MERCHANT_CATEGORIES, PAYMENT_METHODS, STATUSES } from '../../domain/event.ts'
import { outputLimits } from '../../domain/json-keys.ts'
import type { RecordLimits } from '../../domain/limits.ts'
import type { Logger } from '../../logger.ts'
import {
  forEachRecord,
  parseRecordObject,
  RecordFault,
  RejectCounter,
  type Rejection
} from '../guard/record-guard.ts'
import type { LogConsumer, LogProducer, LogRecord, OutRecord } from '../../ports/log.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { retryOptions, withRetry, type Resilience } from '../../retry.ts'
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
  /** Retry policy (--retry-for) and health tracker of its Kafka and Redis calls. Default: for ever. */
  readonly resilience?: Resilience
  /** Limits of an input record. Default outputLimits() (what the processor writes by default). */
  readonly limits?: RecordLimits
  /** Each rejected record (metrics); every one is also counted in `skipped` and logged (capped). */
  readonly onReject?: (rejection: Rejection) => void
}

export interface WindowsTotals {
  records: number
  /**
   * Records rejected: not decided transactions (beyond the record limits, not JSON, not the
   * shape of a decision) or failed in the aggregator; each logged with its coordinates (capped).
   */
  skipped: number
  late: number
  windows: number
  /** Records read again (a lost commit, a restart) that the stored state already counted. */
  redelivered: number
  /** Decisions the detector emitted again (byte-identical copies): counted once. */
  reemitted: number
}

/**
 * The windows stage: decided transactions in, closed window aggregates out. Per poll batch:
 * add every row, publish the windows the watermark closed, then write the open windows to the
 * state store, and only then let the consumer commit. A crash before the state write replays
 * the batch onto the previous state and re-publishes byte-identical windows (same ids, same
 * content), so consumers that upsert by `window_id` see each window once. The state write
 * holds each partition's next offset too, so a batch read again after it (a commit lost to an
 * outage) is skipped rather than counted twice.
 *
 * One instance per input: windows merge every partition, so a second instance in the same
 * group would publish windows of half the traffic.
 */
export async function runWindows(deps: WindowsDeps): Promise<WindowsTotals> {
  const { consumer, producer, store, log } = deps
  const topic = deps.topic ?? ANALYTICS_TOPIC
  const stateKey = deps.stateKey ?? 'windows:state'
  const retry = retryOptions(deps.resilience, {
    initialMs: 100,
    maxMs: 5_000,
    ...(deps.signal ? { signal: deps.signal } : {})
  })
  const totals: WindowsTotals = {
    records: 0,
    skipped: 0,
    late: 0,
    windows: 0,
    redelivered: 0,
    reemitted: 0
  }
  const limits = deps.limits ?? outputLimits()
  const rejects = new RejectCounter({
    log,
    reader: 'windows',
    ...(deps.onReject ? { onReject: deps.onReject } : {})
  })
  let agg: WindowAggregator | null = null
  /**
   * Per input partition, the next offset the stored state holds (saved with it, in the same
   * write). A batch read again after that write (its commit was lost to an outage or a
   * rebalance, or the stage crashed in between) is already counted: its records are skipped,
   * not added twice.
   */
  let done: Record<string, number> = {}
  /**
   * The transaction ids of the last RECENT_IDS decisions counted. What the detector emits again
   * (a batch run again after an outage) comes soon after the original, byte-identical: a
   * decision whose id is here is such a copy, and is not counted again. Kept in memory only: a
   * copy that arrives after this stage itself restarted is counted again.
   */
  const recent = new Map<string, true>()

  /**
   * The clock of the aggregator's idle partitions: wall time while batches flow, but a gap
   * between two batches counts at most MAX_IDLE_GAP_MS. Waiting for Kafka (an outage, a
   * rebalance) must not make every partition idle: the first partition to deliver after it
   * would then move the watermark alone, and the others' events, a moment later, would miss
   * the windows it closed.
   */
  let clock = 0
  let lastWall = 0
  /** When each partition last delivered a record, and when the partitions were (re)assigned, on `clock`. */
  const lastSeen = new Map<string, number>()
  let assignedAt = 0
  const idleMs = deps.idleMs ?? 2_000 // the aggregator's default
  const tick = (): number => {
    const wall = Date.now()
    if (lastWall > 0) clock += Math.max(0, Math.min(wall - lastWall, MAX_IDLE_GAP_MS))
    lastWall = wall
    return clock
  }

  let assigned: string[] = []
  const load = async (): Promise<WindowAggregator> => {
    const fresh = new WindowAggregator(deps)
    const [saved] = await withRetry('read the window state', () => store.getMany([stateKey]), log, retry)
    done = {}
    if (saved) {
      const state = JSON.parse(saved) as AggregatorSnapshot & { offsets?: Record<string, number> }
      fresh.restore(state, clock)
      done = { ...state.offsets }
      log.info({ open: fresh.snapshot().windows.length }, 'window state restored')
    }
    fresh.assign(assigned, clock)
    assignedAt = clock
    return fresh
  }

  await consumer.run({
    onAssignment: partitions => {
      assigned = partitions.map(p => `${p.topic}:${p.partition}`)
      agg?.assign(assigned, clock)
      assignedAt = clock
    },
    onBatch: async records => {
      // Rebuilt from the store before each batch after a failure too, so a half-applied batch
      // is never counted twice.
      agg ??= await load()
      const current = agg
      agg = null
      const now = tick()
      const next = { ...done }
      const fresh = records.filter(r => {
        const source = `${r.topic}:${r.partition}`
        if (r.offset < (done[source] ?? 0)) return false
        if (r.offset >= (next[source] ?? 0)) next[source] = r.offset + 1
        return true
      })
      totals.redelivered += records.length - fresh.length
      // Ids counted by this batch: they join `recent` once the batch's state is written.
      const counted = new Set<string>()
      // Each record in its own try/catch: one that is not a decision, or that the aggregator
      // fails on, is rejected with its coordinates and the batch goes on.
      forEachRecord(
        fresh,
        r => {
          const row = windowRowOf(r, limits)
          if (row.id !== null) {
            if (recent.has(row.id) || counted.has(row.id)) {
              totals.reemitted++
              return
            }
            counted.add(row.id)
          }
          const source = `${r.topic}:${r.partition}`
          lastSeen.set(source, now)
          if (!current.add(row, source, now)) totals.late++
        },
        rejection => {
          totals.skipped++
          rejects.add(rejection)
        }
      )
      totals.records += records.length
      // A partition with records not fetched yet (catching up after an outage: the fetch rounds
      // filled with the busy partitions first) is behind, not idle: it keeps holding the
      // watermark, or its records would arrive after the windows they belong to had closed.
      let closeAt = now
      for (const source of consumer.behind?.() ?? []) {
        closeAt = Math.min(closeAt, Math.max(lastSeen.get(source) ?? 0, assignedAt) + idleMs - 1)
      }
      const closed = current.close(closeAt)
      const out: OutRecord[] = closed.map(w => ({
        topic,
        key: w.window_id,
        value: JSON.stringify(w),
        timestamp: Date.parse(w.window_end)
      }))
      if (out.length > 0) await withRetry('publish windows', () => producer.send(out), log, retry)
      const state = JSON.stringify({ ...current.snapshot(), offsets: next })
      await withRetry('write the window state', () => store.writeBatch([[stateKey, state]]), log, retry)
      agg = current
      done = next
      for (const id of counted) {
        recent.set(id, true)
        if (recent.size > RECENT_IDS) recent.delete(recent.keys().next().value!)
      }
      totals.windows += closed.length
      deps.onBatch?.(totals, closed.length)
    }
  })
  return totals
}

/** A decision record (original event + decision fields) as a window row; null when it is not one. */
export function rowOf(r: LogRecord, limits: RecordLimits = outputLimits()): WindowRow | null {
  try {
    return windowRowOf(r, limits)
  } catch {
    return null
  }
}

const CATEGORIES: ReadonlySet<unknown> = new Set(MERCHANT_CATEGORIES)
const METHODS: ReadonlySet<unknown> = new Set(PAYMENT_METHODS)
const STATUS: ReadonlySet<unknown> = new Set(STATUSES)
const COMMISSIONS: ReadonlySet<unknown> = new Set(COMMISSION_TYPES)
/** Event times a window can be named by (Date's range is ±8.64e15 ms; the windows add their size). */
const MAX_EVENT_TIME_MS = Date.parse('9999-12-31T00:00:00Z')

/**
 * A decision record as a window row, or a RecordFault naming what it lacks. The record is parsed
 * behind the limits of the processor's outputs, and its fields must be what the processor's
 * validation let through (the enums, an id of at most 256 characters, a finite amount, an event
 * time a window can hold): a row never reaches the aggregator in a shape it cannot total.
 */
export function windowRowOf(r: LogRecord, limits: RecordLimits = outputLimits()): DecisionRow {
  // The record is the event's own text plus the decision fields: the last of a repeated key is ours.
  const d = parseRecordObject(r.value, { limits, duplicateKeys: 'last-wins' })
  const fail = (what: string): never => {
    throw new RecordFault('shape', `not a decision: ${what}`)
  }
  const eventTimeMs = typeof d.event_time === 'string' ? Date.parse(d.event_time) : NaN
  if (!(eventTimeMs >= 0 && eventTimeMs <= MAX_EVENT_TIME_MS))
    fail('event_time must be a time from 1970 to 9999')
  if (d.decision !== 'fraud' && d.decision !== 'approved') fail('decision must be fraud or approved')
  if (typeof d.amount !== 'number' || !Number.isFinite(d.amount)) fail('amount must be a finite number')
  const commission = d.commission_amount ?? 0
  if (typeof commission !== 'number' || !Number.isFinite(commission))
    fail('commission_amount must be a finite number')
  const merchant = d.merchant_id
  if (typeof merchant !== 'string' || merchant.length === 0 || merchant.length > 256)
    fail('merchant_id must be a string of 1-256 characters')
  if (!COMMISSIONS.has(d.commission_type)) fail('commission_type is not one of the commission types')
  if (!STATUS.has(d.status)) fail('status is not one of the statuses')
  if (!CATEGORIES.has(d.merchant_category)) fail('merchant_category is not one of the categories')
  if (!METHODS.has(d.payment_method)) fail('payment_method is not one of the payment methods')
  return {
    eventTimeMs,
    amount: d.amount as number,
    commissionType: d.commission_type as string,
    commissionAmount: commission as number,
    merchantId: merchant as string,
    status: d.status as string,
    category: d.merchant_category as string,
    method: d.payment_method as string,
    fraud: d.decision === 'fraud',
    id: typeof d.transaction_id === 'string' && d.transaction_id.length <= 256 ? d.transaction_id : null
  }
}

/** A window row and the id of its transaction (null when it has none). */
export type DecisionRow = WindowRow & { readonly id: string | null }

/** The longest wait between two batches the idle-partition clock counts (see `tick`). */
const MAX_IDLE_GAP_MS = 1_000

/** Decisions whose ids the stage remembers to count a re-emitted copy once (about 10 MB). */
const RECENT_IDS = 200_000
