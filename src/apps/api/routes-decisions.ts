import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { decisionMetrics } from '../../observability/decisions.ts'
import { DEFAULT_LIMITS, parseJsonWithin, type RecordLimits } from '../../domain/limits.ts'
import type { DecisionAnswer } from './decision-answers.ts'
import type { DecisionService } from './decision-service.ts'
import { HttpError } from './errors.ts'
import { tokenChecker } from './routes-alerts.ts'
import { getDecisionSchema, postDecisionSchema } from './schemas-decisions.ts'

export interface DecisionRoutesOptions {
  /** Without it the routes answer 503 (serve without --brokers). */
  readonly service?: DecisionService
  /** When set, both routes need `Authorization: Bearer <token>`. */
  readonly token?: string
  /** Limits of the body: the detector's record limits (64 KiB, ...). Default DEFAULT_LIMITS. */
  readonly limits?: RecordLimits
  readonly now: () => number
  /** Where `darooghe_decision_requests_total` and `darooghe_decision_seconds` are kept. */
  readonly registry?: Registry
}

/** The body as received (sent to the stream as it is) and parsed (for its id and digest). */
interface EventBody {
  readonly raw: Buffer
  readonly value: unknown
}

/**
 * `POST /v1/decisions` and `GET /v1/decisions/:transaction_id` (decision-service.ts). Bodies the
 * stream could not take at all (beyond a record limit, not UTF-8, not JSON, not an object) are
 * answered 4xx here and never sent; everything else is the stream's to judge.
 */
export function decisionRoutes(app: FastifyInstance, o: DecisionRoutesOptions): void {
  const checkToken = o.token === undefined || o.token === '' ? undefined : tokenChecker(o.token)
  const limits = o.limits ?? DEFAULT_LIMITS
  // Before the body is read: an unauthenticated caller learns nothing about it.
  const onRequest = async (req: FastifyRequest): Promise<void> => {
    if (checkToken && !checkToken(req))
      throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token')
  }
  const none: DecisionAnswer = {
    status: 503,
    body: {
      error: 'decisions_unavailable',
      message: 'decisions need Kafka: start serve with --brokers',
      transaction_id: null
    }
  }

  const observe = o.registry ? decisionMetrics(o.registry) : null

  void app.register(async scope => {
    if (observe)
      scope.addHook('onResponse', async (req, reply) => {
        observe(req.method === 'POST' ? 'post' : 'get', reply.statusCode, reply.elapsedTime / 1000)
      })
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: limits.maxEventBytes },
      (_req, body, done) => {
        const raw = body as Buffer
        const parsed = parseJsonWithin(raw, limits)
        if (parsed.ok) return done(null, { raw, value: parsed.value } satisfies EventBody)
        const error =
          parsed.limit === 'max-event-bytes'
            ? new HttpError(413, 'payload_too_large', parsed.error.replace(/^record /, 'the body '))
            : parsed.limit !== null
              ? new HttpError(400, 'too_complex', parsed.error.replace(/^record /, 'the body '))
              : new HttpError(400, 'invalid_json', `the body is ${parsed.error}`)
        done(error, undefined)
      }
    )
    scope.post<{ Body: EventBody }>('/v1/decisions', {
      schema: postDecisionSchema,
      // The schema documents the event; the stream judges it (an invalid event is a 422).
      validatorCompiler: () => () => true,
      bodyLimit: limits.maxEventBytes,
      onRequest,
      handler: async (req, reply) => {
        const receivedAtMs = o.now()
        const { raw, value } = req.body
        if (typeof value !== 'object' || value === null || Array.isArray(value))
          throw new HttpError(400, 'not_an_object', 'the body must be one payment event: a JSON object')
        if (o.service === undefined) return send(reply, none)
        return send(reply, await o.service.decide(raw, value as Record<string, unknown>, receivedAtMs))
      }
    })
    scope.get<{ Params: { transaction_id: string } }>('/v1/decisions/:transaction_id', {
      schema: getDecisionSchema,
      onRequest,
      handler: async (req, reply) =>
        send(reply, o.service === undefined ? none : await o.service.lookup(req.params.transaction_id))
    })
  })
}

function send(reply: FastifyReply, a: DecisionAnswer): FastifyReply {
  reply.code(a.status)
  if (a.status === 200) return reply.type('application/json; charset=utf-8').send(a.text)
  const id = a.body.transaction_id
  if ((a.status === 202 || a.status === 504) && id !== null) {
    reply.header('location', `/v1/decisions/${encodeURIComponent(id)}`)
    reply.header('retry-after', '1')
  }
  return reply.send(a.body)
}
