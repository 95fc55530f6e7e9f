import type { PaymentEvent } from './event.ts'
import { DEFAULT_LIMITS, parseJsonWithin, type LimitName, type RecordLimits } from './limits.ts'

/**
 * JSON (NDJSON on files) is the default wire format of the payment event: one object per
 * Kafka message or per line. Decoding stops at "is it JSON?": the shape is checked by the
 * validator, which turns a failure into ERR_SCHEMA with the original payload.
 */

/** The event as UTF-8 JSON, fields in the order the object holds them. */
export function encodeEventJson(event: PaymentEvent): Buffer {
  return Buffer.from(JSON.stringify(event), 'utf8')
}

export type JsonDecodeResult = { ok: true; value: unknown } | { ok: false; error: string; limit?: LimitName }

/**
 * Parses one payload behind the record limits (parseJsonWithin: checked on the bytes before
 * JSON.parse sees them). Never throws: a payload that is not JSON (truncated, binary, empty) or
 * breaks a limit is returned as `{ ok: false, error }` with a one-line reason (and the limit
 * broken, if any), so a poison message costs one result object, not an exception through the batch.
 */
export function decodeEventJson(
  payload: Uint8Array | string,
  limits: RecordLimits = DEFAULT_LIMITS
): JsonDecodeResult {
  const parsed = parseJsonWithin(payload, limits)
  if (parsed.ok) return parsed
  return parsed.limit === null
    ? { ok: false, error: parsed.error }
    : { ok: false, error: parsed.error, limit: parsed.limit }
}
