import { outputLimits } from '../../domain/json-keys.ts'
import { DEFAULT_LIMITS, type RecordLimits } from '../../domain/limits.ts'
import type { LogRecord } from '../../ports/log.ts'
import {
  forEachRecord,
  parseRecordObject,
  RecordFault,
  type ParseObjectOptions,
  type Rejection
} from '../guard/record-guard.ts'
import { CounterSeries, LatencySeries } from './series.ts'
import {
  DEFAULT_LIVE_TOPICS,
  type Analytics,
  type LiveAlert,
  type LiveTopics,
  type Overview,
  type Totals,
  type WindowAggregate
} from './types.ts'

export interface LiveViewOptions {
  readonly topics?: Partial<LiveTopics>
  /** Seconds of per-second history. Default 600. */
  readonly historySeconds?: number
  /** Newest alerts kept (the feed and `/api/alerts/:id`). Default 500. */
  readonly maxAlerts?: number
  /** Newest windows kept per kind. Default 30. */
  readonly maxWindows?: number
  /** Wall clock. Default Date.now. */
  readonly now?: () => number
  /** Limits of the processor's input records; the outputs' follow (outputLimits). Default DEFAULT_LIMITS. */
  readonly limits?: RecordLimits
  /** Each record skipped, with its coordinates and why (logs, metrics). */
  readonly onReject?: (rejection: Rejection) => void
}

const SHOWN_KINDS: ReadonlySet<string> = new Set(['sliding_1m', 'tumbling_5m'])

const LATENCY_SLOT_MS = 10_000

/**
 * The dashboard's state, built from the records of the decision, alert and analytics topics
 * (whatever log they come from): per-second throughput, latency histograms, the latest alerts
 * and window aggregates. Time is the wall clock of reading: the dashboard shows "now".
 */
export class LiveView {
  readonly topics: LiveTopics
  readonly totals: Totals = { events: 0, approved: 0, fraud: 0, alerts: 0, windows: 0, skipped: 0 }
  readonly #now: () => number
  readonly #startedAt: number
  readonly #counters: CounterSeries
  readonly #e2e: LatencySeries
  readonly #processing: LatencySeries
  readonly #alerts = new Map<string, LiveAlert>()
  readonly #maxAlerts: number
  readonly #windows = new Map<string, Map<string, WindowAggregate>>()
  readonly #maxWindows: number
  readonly #listeners = new Set<(alert: LiveAlert) => void>()
  #lastDecisionMs: number | null = null
  readonly #limits: RecordLimits
  readonly #outputs: ParseObjectOptions
  readonly #decisions: ParseObjectOptions
  readonly #onReject: ((rejection: Rejection) => void) | undefined

  constructor(o: LiveViewOptions = {}) {
    this.topics = { ...DEFAULT_LIVE_TOPICS, ...o.topics }
    this.#now = o.now ?? Date.now
    this.#startedAt = this.#now()
    const seconds = o.historySeconds ?? 600
    this.#counters = new CounterSeries(seconds)
    const slots = Math.ceil((seconds * 1000) / LATENCY_SLOT_MS)
    this.#e2e = new LatencySeries(LATENCY_SLOT_MS, slots)
    this.#processing = new LatencySeries(LATENCY_SLOT_MS, slots)
    this.#maxAlerts = o.maxAlerts ?? 500
    this.#maxWindows = o.maxWindows ?? 30
    this.#limits = o.limits ?? DEFAULT_LIMITS
    this.#outputs = { limits: outputLimits(this.#limits) }
    // Decisions are the event's text plus the decision fields: the last of a repeated key is ours.
    this.#decisions = { limits: outputLimits(this.#limits), duplicateKeys: 'last-wins' }
    this.#onReject = o.onReject
  }

  /** Topics a consumer feeding this view subscribes to. */
  subscriptions(): string[] {
    const t = this.topics
    return [t.approved, t.fraud, t.alerts, t.analytics]
  }

  /** Calls `fn` for every new alert (the SSE push); returns the unsubscribe function. */
  onAlert(fn: (alert: LiveAlert) => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }

  /**
   * Each record in its own try/catch: one beyond the record limits, not JSON, not the shape of
   * its topic, or failing anywhere in here is counted in `totals.skipped` (and passed to
   * `onReject`), and the others go on.
   */
  ingest(records: readonly LogRecord[]): void {
    const now = this.#now()
    forEachRecord(
      records,
      r => {
        if (r.topic === this.topics.alerts)
          this.#alert(now, parseRecordObject(r.value, { limits: this.#limits }))
        else if (r.topic === this.topics.analytics) this.#window(parseRecordObject(r.value, this.#outputs))
        else this.#decision(now, parseRecordObject(r.value, this.#decisions))
      },
      rejection => {
        this.totals.skipped++
        this.#onReject?.(rejection)
      }
    )
  }

  #decision(now: number, d: Record<string, unknown>): void {
    const eventMs = typeof d.event_time === 'string' ? Date.parse(d.event_time) : NaN
    if (!Number.isFinite(eventMs) || (d.decision !== 'fraud' && d.decision !== 'approved')) {
      throw new RecordFault('shape', 'not a decision: no event_time or decision')
    }
    this.totals.events++
    this.#counters.add(now, 'events')
    if (d.decision === 'fraud') {
      this.totals.fraud++
      this.#counters.add(now, 'fraud')
    } else this.totals.approved++
    this.#e2e.record(now, now - eventMs)
    if (typeof d.processing_latency_ms === 'number') this.#processing.record(now, d.processing_latency_ms)
    this.#lastDecisionMs = now
  }

  #alert(now: number, a: Record<string, unknown>): void {
    if (typeof a.alert_id !== 'string' || a.alert_id.length > 256 || !Array.isArray(a.rules_fired)) {
      throw new RecordFault('shape', 'not an alert: no alert_id or rules_fired')
    }
    const alert = a as LiveAlert
    // A redelivered alert (at-least-once) is the same alert: counted once.
    if (this.#alerts.has(alert.alert_id)) return
    this.totals.alerts++
    this.#counters.add(now, 'alerts')
    this.#alerts.set(alert.alert_id, alert)
    if (this.#alerts.size > this.#maxAlerts) this.#alerts.delete(this.#alerts.keys().next().value!)
    for (const fn of this.#listeners) fn(alert)
  }

  #window(w: Record<string, unknown>): void {
    if (typeof w.window_id !== 'string' || typeof w.kind !== 'string' || typeof w.window_start !== 'string') {
      throw new RecordFault('shape', 'not a window: no window_id, kind or window_start')
    }
    // Only the kinds the dashboard shows are kept: any other kind would be a map of its own.
    if (!SHOWN_KINDS.has(w.kind)) throw new RecordFault('shape', 'not a window of a kind the dashboard shows')
    this.totals.windows++
    let byId = this.#windows.get(w.kind)
    if (!byId) this.#windows.set(w.kind, (byId = new Map()))
    // A later emission of the same window (a late update) replaces the earlier one.
    byId.set(w.window_id, w as WindowAggregate)
    if (byId.size > this.#maxWindows) {
      const oldest = [...byId.values()].sort(byStart)[0]!
      byId.delete(oldest.window_id)
    }
  }

  /** Newest first. */
  alerts(limit: number): LiveAlert[] {
    return [...this.#alerts.values()].slice(-limit).reverse()
  }

  alert(id: string): LiveAlert | undefined {
    return this.#alerts.get(id)
  }

  analytics(): Analytics {
    const of = (kind: string) => [...(this.#windows.get(kind)?.values() ?? [])].sort(byStart)
    return { sliding_1m: of('sliding_1m'), tumbling_5m: of('tumbling_5m') }
  }

  overview(): Overview {
    const now = this.#now()
    const throughput = this.#counters.points(now)
    const last = (n: number) => throughput.slice(-n - 1, -1)
    const sum = (pts: typeof throughput, f: 'events' | 'fraud' | 'alerts') =>
      pts.reduce((s, p) => s + p[f], 0)
    // Complete seconds only: the current one is still filling.
    const recent = last(10)
    const minute = last(60)
    const events60 = sum(minute, 'events')
    return {
      now: new Date(now).toISOString(),
      started_at: new Date(this.#startedAt).toISOString(),
      totals: { ...this.totals },
      rates: {
        events_per_s: sum(recent, 'events') / 10,
        fraud_per_s: sum(recent, 'fraud') / 10,
        alerts_per_s: sum(recent, 'alerts') / 10
      },
      fraud_rate_60s: events60 === 0 ? 0 : sum(minute, 'fraud') / events60,
      latency_60s: {
        end_to_end: this.#e2e.over(now, 60_000),
        processing: this.#processing.over(now, 60_000)
      },
      series: {
        throughput,
        latency: this.#e2e.points(now),
        fraud_rate: fraudRate(throughput, LATENCY_SLOT_MS)
      },
      idle_s: this.#lastDecisionMs === null ? null : Math.round((now - this.#lastDecisionMs) / 1000)
    }
  }
}

/** Fraud rate per slot of `slotMs`, aligned to the clock (as the latency slots) so a slot keeps its time. */
function fraudRate(points: readonly { t: number; events: number; fraud: number }[], slotMs: number) {
  const slots = new Map<number, { events: number; fraud: number }>()
  for (const p of points) {
    const t = Math.floor(p.t / slotMs) * slotMs
    const slot = slots.get(t) ?? { events: 0, fraud: 0 }
    slot.events += p.events
    slot.fraud += p.fraud
    slots.set(t, slot)
  }
  return [...slots].map(([t, s]) => ({ t, rate: s.events === 0 ? null : s.fraud / s.events }))
}

function byStart(a: WindowAggregate, b: WindowAggregate): number {
  return a.window_start < b.window_start ? -1 : a.window_start > b.window_start ? 1 : 0
}
