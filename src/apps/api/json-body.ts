import { isUtf8 } from 'node:buffer'
import type { FastifyInstance } from 'fastify'
import { checkKeys } from '../../domain/json-keys.ts'
import { parseJsonWithin, type LimitName, type RecordLimits } from '../../domain/limits.ts'
import { HttpError } from './errors.ts'

/**
 * Makes `scope` accept JSON bodies only, parsed behind `limits` as every record this project did
 * not write is: the size is Fastify's bodyLimit (413 before the body is read, when the length is
 * announced), then nesting, string length and field count are checked on the bytes before
 * JSON.parse sees them, so neither the parser nor what walks the body afterwards (the schema
 * validator, JSON.stringify to the SSE clients, the BSON encoder) can be driven into deep
 * recursion. A body beyond a limit is a 413 (size) or a 400 with one line naming the limit; a
 * body that is not UTF-8, holds a key twice in one object, or a `__proto__` key is a 400
 * `invalid_json`.
 */
export function useLimitedJsonParser(scope: FastifyInstance, limits: RecordLimits): void {
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: limits.maxEventBytes },
    (_req, body, done) => {
      try {
        done(null, parseBody(body as Buffer, limits))
      } catch (error) {
        done(error as Error, undefined)
      }
    }
  )
}

function parseBody(bytes: Buffer, limits: RecordLimits): unknown {
  if (bytes.length === 0) throw new HttpError(400, 'invalid_json', 'the body is empty')
  const parsed = parseJsonWithin(bytes, limits)
  if (!parsed.ok) {
    if (parsed.limit === null) throw new HttpError(400, 'invalid_json', `the body is ${parsed.error}`)
    throw limitError(parsed.limit, parsed.error)
  }
  if (!isUtf8(bytes)) throw new HttpError(400, 'invalid_json', 'the body is not UTF-8')
  const keys = checkKeys(bytes, { duplicates: 'reject' })
  if (keys !== null) throw new HttpError(400, 'invalid_json', `the body holds ${keys.message}`)
  return parsed.value
}

function limitError(limit: LimitName, message: string): HttpError {
  // The limits' own line names the record; here the record is the body.
  const line = message.replace(/^record /, 'the body ')
  return limit === 'max-event-bytes'
    ? new HttpError(413, 'payload_too_large', line)
    : new HttpError(400, 'too_complex', line)
}
