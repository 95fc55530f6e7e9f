import { hoppingWindows, tumblingStart } from '../../stream/windows.ts'

/**
 * The live analytics of SPEC section 7 as event-time windows over decided transactions:
 * 1-minute windows sliding every 20 s and 5-minute tumbling windows, each closed and emitted
 * once when the watermark (largest event time seen minus the allowed lateness) passes its end.
 *
 * The input is several partitions (of the approved and the fraud topics) that advance at their
 * own pace: catching up on a backlog, a fetch brings equal bytes per partition, so the sparse
 * fraud partitions run far ahead of the approved ones in event time. The watermark is therefore
 * the minimum of the partitions' stream times (as a Kafka Streams task does), minus the allowed
 * lateness; a partition that delivered nothing for `idleMs` of wall time stops holding it back,
 * so quiet partitions do not stall the live windows.
 *
 * Deterministic given the rows, their sources and the times passed in; the whole state
 * round-trips through `snapshot()` / `restore()` so that a restarted stage continues exactly
 * where its last durable batch left it.
 */

/** What a window needs of one decided transaction. */
export interface WindowRow {
  readonly eventTimeMs: number
  readonly amount: number
  readonly commissionType: string
  readonly commissionAmount: number
  readonly merchantId: string
  readonly status: string
  readonly category: string
  readonly method: string
  readonly fraud: boolean
}

export interface WindowSpec {
  readonly kind: string
  readonly sizeMs: number
  readonly advanceMs: number
}

export const DEFAULT_WINDOWS: readonly WindowSpec[] = Object.freeze([
  { kind: 'sliding_1m', sizeMs: 60_000, advanceMs: 20_000 },
  { kind: 'tumbling_5m', sizeMs: 300_000, advanceMs: 300_000 }
])

export interface MerchantTotal {
  readonly merchant_id: string
  readonly commission: number
  readonly transactions: number
  readonly volume: number
}

/** The record published to `darooghe.analytics` (key = window_id). */
export interface WindowResult {
  readonly window_id: string
  readonly kind: string
  readonly window_start: string
  readonly window_end: string
  readonly transactions: number
  readonly volume: number
  readonly fraud: number
  readonly fraud_rate: number
  readonly commission: Readonly<Record<string, number>> & { readonly total: number }
  readonly top_merchants: readonly MerchantTotal[]
  readonly by_status: Readonly<Record<string, number>>
  readonly by_category: Readonly<Record<string, number>>
  readonly by_payment_method: Readonly<Record<string, number>>
}

/** Mutable running totals of one open window; plain data so that it serialises as is. */
interface OpenWindow {
  kind: string
  start: number
  end: number
  transactions: number
  volume: number
  fraud: number
  commission: Record<string, number>
  /** merchant id → [commission, transactions, volume] */
  merchants: Record<string, [number, number, number]>
  byStatus: Record<string, number>
  byCategory: Record<string, number>
  byMethod: Record<string, number>
}

export interface AggregatorSnapshot {
  /** null before the first window could close. */
  readonly watermarkMs: number | null
  /** Stream time (largest event time seen) of each source partition. */
  readonly sources: Readonly<Record<string, number>>
  readonly late: number
  readonly windows: readonly OpenWindow[]
}

export interface AggregatorOptions {
  /** Events up to this much older than the largest event time seen still count. Default 10 000 ms. */
  readonly allowedLatenessMs?: number
  /** Default: DEFAULT_WINDOWS. */
  readonly windows?: readonly WindowSpec[]
  /** Merchants listed per window. Default 5. */
  readonly topMerchants?: number
  /** Wall time after which a source that delivered nothing stops holding the watermark. Default 2000 ms. */
  readonly idleMs?: number
}

interface Source {
  streamTime: number
  /** Wall time of its last row (or of its assignment). */
  seenAt: number
}

const COMMISSION_TYPES = ['flat', 'progressive', 'tiered'] as const

export class WindowAggregator {
  readonly #lateness: number
  readonly #specs: readonly WindowSpec[]
  readonly #top: number
  /** Open windows by id. */
  #open = new Map<string, OpenWindow>()
  #sources = new Map<string, Source>()
  #watermark = Number.NEGATIVE_INFINITY
  #late = 0
  readonly #idleMs: number

  constructor(options: AggregatorOptions = {}) {
    this.#lateness = options.allowedLatenessMs ?? 10_000
    this.#specs = options.windows ?? DEFAULT_WINDOWS
    this.#top = options.topMerchants ?? 5
    this.#idleMs = options.idleMs ?? 2_000
  }

  /** Events that arrived after every window they belong to had closed (counted, not lost silently). */
  get late(): number {
    return this.#late
  }

  get watermarkMs(): number {
    return this.#watermark
  }

  /** The source partitions now owned; new ones hold the watermark back until they deliver or idle. */
  assign(sources: readonly string[], nowMs: number): void {
    const next = new Map<string, Source>()
    for (const id of sources)
      next.set(id, this.#sources.get(id) ?? { streamTime: Number.NEGATIVE_INFINITY, seenAt: nowMs })
    this.#sources = next
  }

  /**
   * Adds one row to every open window that holds its event time; false when every such window
   * had already closed (the row is late, and counted). `source` is its partition.
   */
  add(row: WindowRow, source = '', nowMs = 0): boolean {
    const t = row.eventTimeMs
    const watermark = this.#watermark
    let counted = false
    for (const spec of this.#specs) {
      const ranges =
        spec.advanceMs === spec.sizeMs
          ? [{ start: tumblingStart(t, spec.sizeMs), end: tumblingStart(t, spec.sizeMs) + spec.sizeMs }]
          : hoppingWindows(t, spec.sizeMs, spec.advanceMs)
      for (const r of ranges) {
        // A window whose end the watermark has reached is closed (and maybe emitted): never reopened.
        if (r.end <= watermark) continue
        addTo(this.#window(spec.kind, r.start, r.end), row)
        counted = true
      }
    }
    const src = this.#sources.get(source)
    if (!src) this.#sources.set(source, { streamTime: t, seenAt: nowMs })
    else {
      if (t > src.streamTime) src.streamTime = t
      src.seenAt = nowMs
    }
    if (!counted) this.#late++
    return counted
  }

  /** Advances the watermark and removes and returns the windows it passed, oldest end first. */
  close(nowMs = 0): WindowResult[] {
    let slowest = Number.POSITIVE_INFINITY
    for (const src of this.#sources.values()) {
      if (src.seenAt < nowMs - this.#idleMs) continue
      if (src.streamTime < slowest) slowest = src.streamTime
    }
    if (slowest !== Number.POSITIVE_INFINITY && slowest - this.#lateness > this.#watermark)
      this.#watermark = slowest - this.#lateness
    const watermark = this.#watermark
    const closed: OpenWindow[] = []
    for (const [id, w] of this.#open) {
      if (w.end <= watermark) {
        closed.push(w)
        this.#open.delete(id)
      }
    }
    closed.sort((a, b) => a.end - b.end || a.kind.localeCompare(b.kind))
    return closed.map(w => this.#result(w))
  }

  snapshot(): AggregatorSnapshot {
    const sources: Record<string, number> = {}
    for (const [id, src] of this.#sources) if (Number.isFinite(src.streamTime)) sources[id] = src.streamTime
    return {
      watermarkMs: Number.isFinite(this.#watermark) ? this.#watermark : null,
      sources,
      late: this.#late,
      windows: [...this.#open.values()]
    }
  }

  /** Continues from a snapshot; `nowMs` counts as the last sighting of every source in it. */
  restore(s: AggregatorSnapshot, nowMs = 0): void {
    this.#watermark = s.watermarkMs ?? Number.NEGATIVE_INFINITY
    this.#sources = new Map(
      Object.entries(s.sources).map(([id, t]) => [id, { streamTime: t, seenAt: nowMs }])
    )
    this.#late = s.late
    this.#open = new Map(s.windows.map(w => [windowId(w.kind, w.start), openWindowOf(w)]))
  }

  #window(kind: string, start: number, end: number): OpenWindow {
    const id = windowId(kind, start)
    let w = this.#open.get(id)
    if (!w) {
      w = {
        kind,
        start,
        end,
        transactions: 0,
        volume: 0,
        fraud: 0,
        commission: dict(),
        merchants: dict(),
        byStatus: dict(),
        byCategory: dict(),
        byMethod: dict()
      }
      this.#open.set(id, w)
    }
    return w
  }

  #result(w: OpenWindow): WindowResult {
    const sums = new Map<string, number>(COMMISSION_TYPES.map(type => [type, 0]))
    let total = 0
    for (const [type, sum] of Object.entries(w.commission)) {
      sums.set(type, sum)
      total += sum
    }
    // Object.fromEntries defines own properties: a key is never a setter (`__proto__`).
    const commission = Object.fromEntries(sums)
    const top = Object.entries(w.merchants)
      .map(([merchant_id, [c, n, v]]) => ({ merchant_id, commission: c, transactions: n, volume: v }))
      .sort((a, b) => b.commission - a.commission || (a.merchant_id < b.merchant_id ? -1 : 1))
      .slice(0, this.#top)
    return {
      window_id: windowId(w.kind, w.start),
      kind: w.kind,
      window_start: new Date(w.start).toISOString(),
      window_end: new Date(w.end).toISOString(),
      transactions: w.transactions,
      volume: w.volume,
      fraud: w.fraud,
      fraud_rate: w.transactions === 0 ? 0 : w.fraud / w.transactions,
      commission: { ...commission, total },
      top_merchants: top,
      by_status: sorted(w.byStatus),
      by_category: sorted(w.byCategory),
      by_payment_method: sorted(w.byMethod)
    }
  }
}

export function windowId(kind: string, startMs: number): string {
  return `${kind}:${new Date(startMs).toISOString()}`
}

function addTo(w: OpenWindow, row: WindowRow): void {
  w.transactions++
  w.volume += row.amount
  if (row.fraud) w.fraud++
  w.commission[row.commissionType] = (w.commission[row.commissionType] ?? 0) + row.commissionAmount
  const m = w.merchants[row.merchantId]
  if (m) {
    m[0] += row.commissionAmount
    m[1]++
    m[2] += row.amount
  } else {
    w.merchants[row.merchantId] = [row.commissionAmount, 1, row.amount]
  }
  w.byStatus[row.status] = (w.byStatus[row.status] ?? 0) + 1
  w.byCategory[row.category] = (w.byCategory[row.category] ?? 0) + 1
  w.byMethod[row.method] = (w.byMethod[row.method] ?? 0) + 1
}

/** Keys in a stable order, so that the same window always encodes to the same bytes. */
function sorted(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.keys(counts)
      .sort()
      .map(k => [k, counts[k]!])
  )
}

/**
 * A map keyed by values read from records (merchant ids, categories): no prototype, so that a
 * key such as `__proto__` or `constructor` is an ordinary entry and never reaches Object.prototype.
 */
function dict<V>(from?: Readonly<Record<string, V>>): Record<string, V> {
  const out = Object.create(null) as Record<string, V>
  if (from) for (const [k, v] of Object.entries(from)) out[k] = v
  return out
}

/** A restored open window: its maps rebuilt without a prototype (a JSON copy has Object's). */
function openWindowOf(w: OpenWindow): OpenWindow {
  const merchants = dict<[number, number, number]>()
  for (const [id, [c, n, v]] of Object.entries(w.merchants)) merchants[id] = [c, n, v]
  return {
    ...w,
    commission: dict(w.commission),
    merchants,
    byStatus: dict(w.byStatus),
    byCategory: dict(w.byCategory),
    byMethod: dict(w.byMethod)
  }
}
