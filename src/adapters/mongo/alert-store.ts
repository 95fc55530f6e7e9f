import { MongoServerError, type Collection, type Db, type Filter } from 'mongodb'
import type { AlertPage, AlertQuery, AlertStore, StoredAlert } from '../../apps/api/types.ts'
import { parseJsonWithin, recordLimits } from '../../domain/limits.ts'
import { DaroogheError } from '../../errors.ts'
import { mongoError } from './errors.ts'

/** An alert as the storage sink keeps it: `_id` = alert_id, times as Dates. */
type AlertDoc = { _id: string; created_at: Date; [field: string]: unknown }

/**
 * The API's AlertStore over the `alerts` collection that `darooghe store` fills, so the API
 * lists every stored alert, not only those POSTed to this process. Documents have the sink's
 * shape (`_id` = alert_id, `created_at` and `event_time` as Dates); alerts come back as
 * emitted (ISO strings). Newest first means by created_at, then alert_id (the memory store
 * orders by arrival); the cursor names the last alert of the previous page.
 */
export class MongoAlertStore implements AlertStore {
  readonly #alerts: Collection<AlertDoc>

  constructor(db: Db, collection = 'alerts') {
    this.#alerts = db.collection<AlertDoc>(collection)
  }

  async add(alert: StoredAlert): Promise<boolean> {
    const created = new Date(alert.created_at)
    if (Number.isNaN(created.getTime())) {
      throw new DaroogheError('USAGE', `alert ${alert.alert_id}: created_at is not a time`)
    }
    const doc: AlertDoc = { ...alert, _id: alert.alert_id, created_at: created }
    if (typeof alert.event_time === 'string' && !Number.isNaN(Date.parse(alert.event_time))) {
      doc.event_time = new Date(alert.event_time)
    }
    try {
      await this.#alerts.insertOne(doc)
      return true
    } catch (cause) {
      if (cause instanceof MongoServerError && cause.code === 11000) return false
      throw mongoError(`insert of alert ${alert.alert_id}`, cause)
    }
  }

  async query(q: AlertQuery): Promise<AlertPage> {
    const and: Filter<AlertDoc>[] = []
    if (q.customer_id !== undefined) and.push({ customer_id: q.customer_id })
    if (q.rule !== undefined) and.push({ rules_fired: q.rule })
    if (q.fromMs !== undefined) and.push({ created_at: { $gte: new Date(q.fromMs) } })
    if (q.toMs !== undefined) and.push({ created_at: { $lt: new Date(q.toMs) } })
    if (q.cursor !== undefined) {
      const [at, id] = decodeCursor(q.cursor)
      and.push({ $or: [{ created_at: { $lt: at } }, { created_at: at, _id: { $lt: id } }] })
    }
    try {
      const docs = await this.#alerts
        .find(and.length > 0 ? { $and: and } : {}, {
          sort: { created_at: -1, _id: -1 },
          limit: q.limit + 1
        })
        .toArray()
      const page = docs.slice(0, q.limit)
      const last = page[page.length - 1]
      return {
        alerts: page.map(toAlert),
        next_cursor: docs.length > q.limit && last ? encodeCursor(last.created_at, last._id) : null
      }
    } catch (cause) {
      throw mongoError('alert query', cause)
    }
  }

  async size(): Promise<number> {
    try {
      return await this.#alerts.countDocuments({})
    } catch (cause) {
      throw mongoError('alert count', cause)
    }
  }
}

function toAlert(doc: AlertDoc): StoredAlert {
  const { _id, ...rest } = doc
  // The document was made from a StoredAlert by add() or by the sink; only the times changed.
  const alert = { ...rest, alert_id: _id, created_at: doc.created_at.toISOString() } as StoredAlert
  if (rest.event_time instanceof Date) alert.event_time = rest.event_time.toISOString()
  return alert
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.getTime(), id])).toString('base64url')
}

/** A cursor is `[created_at ms, alert_id]`: two values, no nesting, an id of at most 1,024 characters. */
const CURSOR_LIMITS = recordLimits({ maxEventBytes: 2_048, maxDepth: 1, maxStringBytes: 1_100, maxFields: 2 })

/** The client sends the cursor back: parsed behind limits, and every part checked. Never throws but USAGE. */
function decodeCursor(cursor: string): [Date, string] {
  const parsed = parseJsonWithin(Buffer.from(cursor, 'base64url'), CURSOR_LIMITS)
  const v = parsed.ok ? parsed.value : null
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'string') {
    const at = new Date(v[0])
    if (!Number.isNaN(at.getTime())) return [at, v[1]]
  }
  throw new DaroogheError('USAGE', 'cursor is not one returned by this API')
}
