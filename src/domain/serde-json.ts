import type { PaymentEvent } from './event.ts'

/**
 * JSON (NDJSON on files) is the default wire format of the payment event: one object per
 * Kafka message or per line. Decoding stops at "is it JSON?": the shape is checked by the
 * validator, which turns a failure into ERR_SCHEMA with the original payload.
 */

/** The event as UTF-8 JSON, fields in the order the object holds them. */
export function encodeEventJson(event: PaymentEvent): Buffer {
  return Buffer.from(JSON.stringify(event), 'utf8')
}

export type JsonDecodeResult = { ok: true; value: unknown } | { ok: false; error: string }

/**
 * Parses one payload. Never throws: a payload that is not JSON (truncated, binary, empty)
 * is returned as `{ ok: false, error }` with a one-line reason, so a poison message costs
 * one result object, not an exception through the batch.
 */
export function decodeEventJson(payload: Uint8Array | string): JsonDecodeResult {
  const text =
    typeof payload === 'string'
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')
  if (text.length === 0) return { ok: false, error: 'not JSON: empty payload' }
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` }
  }
}
