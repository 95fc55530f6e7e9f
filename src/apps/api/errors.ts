import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DaroogheError } from '../../errors.ts'
import type { Logger } from '../../logger.ts'

/** The body of every 4xx/5xx answer: a stable snake_case code and a sentence for a person. */
export interface ApiErrorBody {
  error: string
  message: string
}

/** Fastify's own error codes mapped to ours; anything unknown with a 4xx status keeps its status. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_VALIDATION: 'validation_failed'
}

/** An error a route throws to answer with a given 4xx status. */
export class HttpError extends Error {
  readonly statusCode: number
  readonly error: string

  constructor(statusCode: number, error: string, message: string) {
    super(message)
    this.statusCode = statusCode
    this.error = error
  }
}

export function sendError(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  const body: ApiErrorBody = { error, message }
  return reply.code(status).type('application/json; charset=utf-8').send(body)
}

/** JSON errors for everything, 404 included; 5xx never leak internals. */
export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) =>
    sendError(reply, 404, 'not_found', `no route ${req.method} ${req.routeOptions.url ?? pathOf(req.url)}`)
  )
  app.setErrorHandler((err: FastifyError | HttpError | DaroogheError, req, reply) => {
    if (err instanceof HttpError) return sendError(reply, err.statusCode, err.error, err.message)
    if (err instanceof DaroogheError && err.kind === 'USAGE') {
      return sendError(reply, 400, 'bad_request', err.message)
    }
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500
    if (status >= 400 && status < 500) {
      const code = ('code' in err && FASTIFY_CODES[err.code]) || 'bad_request'
      logger.debug({ method: req.method, path: pathOf(req.url), code }, 'rejected request')
      return sendError(reply, status, code, err.message)
    }
    // Paths only: a query string or a header could carry a token.
    logger.error({ err, method: req.method, path: pathOf(req.url) }, 'request failed')
    return sendError(reply, 500, 'internal', 'internal error')
  })
}

export function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
}
