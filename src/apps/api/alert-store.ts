import { DaroogheError } from '../../errors.ts'
import type { AlertPage, AlertQuery, AlertStore, StoredAlert } from './types.ts'

interface Entry {
  readonly seq: number
  readonly createdMs: number
  readonly alert: StoredAlert
}

/**
 * The last `capacity` alerts in memory, in arrival order (a ring buffer). Newest first means
 * latest received: alerts arrive roughly in created_at order, and arrival order gives the
 * cursor a stable meaning (a sequence number) even when created_at ties. An evicted alert's
 * id is forgotten, so a redelivery older than the buffer is stored again.
 */
export class MemoryAlertStore implements AlertStore {
  readonly capacity: number
  readonly #ring: (Entry | undefined)[]
  readonly #ids = new Map<string, number>()
  #seq = 0

  constructor(capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new DaroogheError('CONFIG', `alert store capacity must be a positive integer, got ${capacity}`)
    }
    this.capacity = capacity
    this.#ring = new Array<Entry | undefined>(capacity)
  }

  async add(alert: StoredAlert): Promise<boolean> {
    if (this.#ids.has(alert.alert_id)) return false
    const seq = ++this.#seq
    const slot = seq % this.capacity
    const old = this.#ring[slot]
    if (old) this.#ids.delete(old.alert.alert_id)
    this.#ring[slot] = { seq, createdMs: Date.parse(alert.created_at), alert }
    this.#ids.set(alert.alert_id, seq)
    return true
  }

  async query(q: AlertQuery): Promise<AlertPage> {
    const startSeq = q.cursor === undefined ? this.#seq : decodeCursor(q.cursor) - 1
    const oldest = Math.max(1, this.#seq - this.capacity + 1)
    const alerts: StoredAlert[] = []
    let last = 0
    for (let seq = Math.min(startSeq, this.#seq); seq >= oldest; seq--) {
      const e = this.#ring[seq % this.capacity]
      if (!e || e.seq !== seq || !matches(e, q)) continue
      if (alerts.length === q.limit) return { alerts, next_cursor: encodeCursor(last) }
      alerts.push(e.alert)
      last = seq
    }
    return { alerts, next_cursor: null }
  }

  async size(): Promise<number> {
    return this.#ids.size
  }
}

function matches(e: Entry, q: AlertQuery): boolean {
  if (q.customer_id !== undefined && e.alert.customer_id !== q.customer_id) return false
  if (q.rule !== undefined && !e.alert.rules_fired.includes(q.rule)) return false
  if (q.fromMs !== undefined && !(e.createdMs >= q.fromMs)) return false
  if (q.toMs !== undefined && !(e.createdMs < q.toMs)) return false
  return true
}

function encodeCursor(seq: number): string {
  return Buffer.from(`s:${seq}`).toString('base64url')
}

/** The sequence number of the last alert of the previous page. */
export function decodeCursor(cursor: string): number {
  const m = /^s:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  if (!m) throw new DaroogheError('USAGE', 'cursor is not one returned by this API')
  return Number(m[1])
}
