import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { DEFAULT_LIMITS, type RecordLimits } from '../../domain/limits.ts'
import { HttpError } from './errors.ts'
import { useLimitedJsonParser } from './json-body.ts'
import { alertBodySchema, alertQuerySchema } from './schemas.ts'
import type { SseHub } from './sse.ts'
import type { AlertQuery, AlertStore, StoredAlert } from './types.ts'

export interface AlertCounters {
  received: number
  stored: number
  duplicates: number
}

export interface AlertRoutesOptions {
  readonly store: AlertStore
  readonly hub: SseHub
  readonly counters: AlertCounters
  readonly token?: string
}

/**
 * Limits of a `POST /alerts` body: those of a record (64 KiB, 32 deep, 8 KiB strings, 1,000
 * fields). An alert as the processor writes it is about a kilobyte.
 */
export const ALERT_LIMITS: RecordLimits = DEFAULT_LIMITS

export const DEFAULT_PAGE = 50
export const MAX_PAGE = 500

type AlertQueryString = Partial<Record<'customer_id' | 'rule' | 'from' | 'to' | 'limit' | 'cursor', string>>

export function alertRoutes(app: FastifyInstance, o: AlertRoutesOptions): void {
  const checkToken = o.token === undefined || o.token === '' ? undefined : tokenChecker(o.token)

  // The API's bodyLimit, when lower, still applies.
  const limits: RecordLimits = {
    ...ALERT_LIMITS,
    maxEventBytes: Math.min(ALERT_LIMITS.maxEventBytes, app.initialConfig.bodyLimit ?? Infinity)
  }
  // In a scope of its own: the body is parsed behind the record limits (useLimitedJsonParser).
  void app.register(async scope => {
    useLimitedJsonParser(scope, limits)
    scope.post<{ Body: StoredAlert }>('/alerts', {
      schema: { body: alertBodySchema },
      bodyLimit: limits.maxEventBytes,
      // Before the body is read or validated: an unauthenticated sender learns nothing about the schema.
      onRequest: async req => {
        if (checkToken && !checkToken(req)) {
          throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token')
        }
      },
      handler: async (req, reply) => {
        o.counters.received++
        const alert = req.body
        const stored = await o.store.add(alert)
        if (!stored) {
          o.counters.duplicates++
          return reply.code(200).send({ alert_id: alert.alert_id, stored: false, duplicate: true })
        }
        o.counters.stored++
        o.hub.publishAlert(alert)
        return reply.code(201).send({ alert_id: alert.alert_id, stored: true, duplicate: false })
      }
    })
  })

  app.get<{ Querystring: AlertQueryString }>('/alerts', {
    schema: { querystring: alertQuerySchema },
    handler: async req => o.store.query(parseQuery(req.query))
  })

  app.get('/alerts/stream', (_req, reply) => {
    reply.hijack()
    // The response's 'close' fires when the client goes away (the request's fires once it is read).
    o.hub.attach(reply.raw, listener => reply.raw.once('close', listener))
  })
}

export function parseQuery(q: AlertQueryString): AlertQuery {
  const limit = q.limit === undefined ? DEFAULT_PAGE : Number(q.limit)
  if (!(limit >= 1 && limit <= MAX_PAGE)) {
    throw new HttpError(400, 'validation_failed', `limit must be between 1 and ${MAX_PAGE}`)
  }
  const out: AlertQuery = { limit }
  if (q.customer_id !== undefined) out.customer_id = q.customer_id
  if (q.rule !== undefined) out.rule = q.rule
  if (q.from !== undefined) out.fromMs = parseTime('from', q.from)
  if (q.to !== undefined) out.toMs = parseTime('to', q.to)
  if (q.cursor !== undefined) out.cursor = q.cursor
  return out
}

/** ISO 8601 or epoch milliseconds. */
function parseTime(name: string, value: string): number {
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value)
  if (!Number.isFinite(ms)) {
    throw new HttpError(400, 'validation_failed', `${name} must be an ISO 8601 time or epoch milliseconds`)
  }
  return ms
}

/** Constant-time comparison over digests, so neither content nor length leaks through timing. */
export function tokenChecker(token: string): (req: FastifyRequest) => boolean {
  const expected = createHash('sha256').update(token).digest()
  return req => {
    const header = req.headers.authorization
    if (typeof header !== 'string') return false
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!m) return false
    return timingSafeEqual(createHash('sha256').update(m[1]!).digest(), expected)
  }
}
