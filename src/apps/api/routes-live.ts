import type { FastifyInstance } from 'fastify'
import type { LiveView, Overview, TopicBrowser } from '../live/index.ts'
import { HttpError } from './errors.ts'
import type { SseHub } from './sse.ts'

export interface LiveRoutesOptions {
  readonly live?: LiveView
  readonly topics?: TopicBrowser
  /** The `/api/live/stream` hub (overview ticks and alerts); present when `live` is. */
  readonly hub?: SseHub
}

export const DEFAULT_MESSAGES = 20
export const MAX_MESSAGES = 200
export const MAX_LIVE_ALERTS = 200

const limitQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { type: 'string', minLength: 1, maxLength: 6 } }
} as const
const topicParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,249}$' } }
} as const
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 256 } }
} as const

/**
 * The dashboard's `/api/*`: the live overview and windows (a LiveView), one alert with its
 * trace, the topic browser, and `/api/live/stream` (SSE: `stats` = a compact overview every
 * second, `alert` per new alert). Routes whose source is not configured answer 503.
 */
export function liveRoutes(app: FastifyInstance, o: LiveRoutesOptions): void {
  const live = (): LiveView => {
    if (!o.live)
      throw new HttpError(
        503,
        'unavailable',
        'no live data here: start darooghe serve with --brokers (or run darooghe demo)'
      )
    return o.live
  }
  const browser = (): TopicBrowser => {
    if (!o.topics)
      throw new HttpError(
        503,
        'unavailable',
        'no topic browser here: start darooghe serve with --brokers (or run darooghe demo)'
      )
    return o.topics
  }

  app.get('/api/overview', async () => live().overview())
  app.get('/api/analytics', async () => live().analytics())

  app.get<{ Querystring: { limit?: string } }>('/api/alerts', {
    schema: { querystring: limitQuery },
    handler: async req => ({ alerts: live().alerts(limitOf(req.query.limit, 50, MAX_LIVE_ALERTS)) })
  })

  app.get<{ Params: { id: string } }>('/api/alerts/:id', {
    schema: { params: idParams },
    handler: async req => {
      const alert = live().alert(req.params.id)
      if (!alert) throw new HttpError(404, 'not_found', `no recent alert '${req.params.id}'`)
      return alert
    }
  })

  app.get('/api/topics', async () => ({ topics: await browser().topics() }))

  app.get<{ Params: { name: string }; Querystring: { limit?: string } }>('/api/topics/:name/messages', {
    schema: { params: topicParams, querystring: limitQuery },
    handler: async req => {
      const limit = limitOf(req.query.limit, DEFAULT_MESSAGES, MAX_MESSAGES)
      const messages = await browser().messages(req.params.name, limit)
      if (!messages) throw new HttpError(404, 'not_found', `no topic '${req.params.name}'`)
      return { topic: req.params.name, messages }
    }
  })

  app.get('/api/live/stream', (_req, reply) => {
    if (!o.hub)
      throw new HttpError(503, 'unavailable', 'no live data here: start darooghe serve with --brokers')
    reply.hijack()
    o.hub.attach(reply.raw, listener => reply.raw.once('close', listener))
  })
}

function limitOf(value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!(n >= 1 && n <= max))
    throw new HttpError(400, 'validation_failed', `limit must be an integer 1-${max}`)
  return n
}

/** The per-second push: the overview with only the newest points of each series (the page merges them). */
export function overviewTick(o: Overview): Overview {
  return {
    ...o,
    series: {
      throughput: o.series.throughput.slice(-5),
      latency: o.series.latency.slice(-2),
      fraud_rate: o.series.fraud_rate.slice(-2)
    }
  }
}
