import avro from 'avsc'
import { DaroogheError } from '../errors.ts'
import {
  COMMISSION_TYPES,
  CUSTOMER_TYPES,
  FAILURE_REASONS,
  MERCHANT_CATEGORIES,
  PAYMENT_METHODS,
  STATUSES
} from './event.ts'
import type { DeviceInfo, PaymentEvent } from './event.ts'
import { DEFAULT_LIMITS, type RecordLimits } from './limits.ts'

/**
 * The Avro form of the payment event. `schemas/payment_event.avsc` holds the same schema
 * as a file for registries and other languages; a unit test keeps the two identical.
 * It lives here as a constant because domain code does no I/O.
 *
 * Field order is the order of the generator's JSON, so decode → JSON.stringify gives the
 * same bytes as the generator's line.
 */
const nullableString = (name: string) => ({ name, type: ['null', 'string'], default: null })

export const PAYMENT_EVENT_AVRO_SCHEMA = {
  type: 'record',
  name: 'PaymentEvent',
  namespace: 'ir.darooghe',
  doc: 'A payment event (DarooghePulse-compatible, plus card_id). Amounts are integer Rial.',
  fields: [
    { name: 'transaction_id', type: 'string' },
    { name: 'timestamp', type: 'string', doc: 'ISO-8601 UTC, e.g. 2025-04-26T12:19:10.304Z' },
    { name: 'customer_id', type: 'string' },
    { name: 'card_id', type: 'string' },
    { name: 'merchant_id', type: 'string' },
    {
      name: 'merchant_category',
      type: { type: 'enum', name: 'MerchantCategory', symbols: [...MERCHANT_CATEGORIES] }
    },
    { name: 'payment_method', type: { type: 'enum', name: 'PaymentMethod', symbols: [...PAYMENT_METHODS] } },
    { name: 'amount', type: 'long' },
    {
      name: 'location',
      type: {
        type: 'record',
        name: 'GeoPoint',
        fields: [
          { name: 'lat', type: 'double' },
          { name: 'lng', type: 'double' }
        ]
      }
    },
    {
      name: 'device_info',
      doc: 'Present for online and mobile payments; all fields null (JSON {}) for pos and nfc.',
      type: {
        type: 'record',
        name: 'DeviceInfo',
        fields: [nullableString('os'), nullableString('app_version'), nullableString('device_model')]
      }
    },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: [...STATUSES] } },
    {
      name: 'commission_type',
      type: { type: 'enum', name: 'CommissionType', symbols: [...COMMISSION_TYPES] }
    },
    { name: 'commission_amount', type: 'long' },
    { name: 'vat_amount', type: 'long' },
    { name: 'total_amount', type: 'long' },
    { name: 'customer_type', type: { type: 'enum', name: 'CustomerType', symbols: [...CUSTOMER_TYPES] } },
    { name: 'risk_level', type: 'int' },
    {
      name: 'failure_reason',
      type: ['null', { type: 'enum', name: 'FailureReason', symbols: [...FAILURE_REASONS] }],
      default: null
    }
  ]
} as const

/** First byte of a Confluent-framed message. */
export const CONFLUENT_MAGIC_BYTE = 0
/** Magic byte + 4-byte big-endian schema id. */
export const CONFLUENT_HEADER_BYTES = 5

let sharedType: avro.Type | undefined

/** The compiled avsc type of the payment event (compiled once, shared). */
export function paymentEventAvroType(): avro.Type {
  sharedType ??= avro.Type.forSchema(PAYMENT_EVENT_AVRO_SCHEMA as unknown as avro.Schema)
  return sharedType
}

export interface AvroSerdeOptions {
  /**
   * Schema-registry id of `PAYMENT_EVENT_AVRO_SCHEMA`. When set, `encode` writes the
   * Confluent wire format (0x00, 4-byte big-endian id, Avro body) and `decode` accepts
   * both framed and bare bodies. Default: unset, bare Avro bodies only.
   */
  schemaId?: number
  /**
   * Record limits (limits.ts): a payload larger than `maxEventBytes` is refused before avsc
   * reads it, which bounds every string in it too. Nesting is bounded by the schema itself.
   * Default DEFAULT_LIMITS.
   */
  limits?: RecordLimits
}

export interface AvroSerde {
  readonly schemaId: number | undefined
  /** Throws `DaroogheError('SCHEMA')` naming the offending fields if the event does not fit. */
  encode(event: PaymentEvent): Buffer
  /** Throws `DaroogheError('SCHEMA')` for a wrong magic byte, an unknown schema id or a bad body. */
  decode(payload: Uint8Array): PaymentEvent
}

interface AvroEvent extends Omit<PaymentEvent, 'device_info' | 'timestamp'> {
  timestamp: string
  device_info: { os: string | null; app_version: string | null; device_model: string | null }
}

export function createAvroSerde(options: AvroSerdeOptions = {}): AvroSerde {
  const { schemaId } = options
  if (schemaId !== undefined && (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0xffffffff)) {
    throw new DaroogheError('CONFIG', `schemaId must be an integer from 0 to 4294967295 (got ${schemaId})`)
  }
  const type = paymentEventAvroType()
  const maxBytes = (options.limits ?? DEFAULT_LIMITS).maxEventBytes

  function encode(event: PaymentEvent): Buffer {
    let body: Buffer
    try {
      body = type.toBuffer(event)
    } catch (error) {
      const fields: string[] = []
      type.isValid(event, { errorHook: path => fields.push(path.join('.') || '(root)') })
      throw new DaroogheError(
        'SCHEMA',
        `cannot encode event ${String(event.transaction_id)} as Avro: invalid ${fields.join(', ') || 'value'}; fix the event or send it as JSON`,
        { cause: error }
      )
    }
    if (schemaId === undefined) return body
    const framed = Buffer.allocUnsafe(CONFLUENT_HEADER_BYTES + body.length)
    framed[0] = CONFLUENT_MAGIC_BYTE
    framed.writeUInt32BE(schemaId, 1)
    body.copy(framed, CONFLUENT_HEADER_BYTES)
    return framed
  }

  function decodeBody(buf: Buffer, from: number): PaymentEvent {
    const { value, offset } = type.decode(buf, from) as { value: AvroEvent | undefined; offset: number }
    if (value === undefined || offset < 0) throw new Error('truncated Avro body')
    if (offset !== buf.length) throw new Error(`${buf.length - offset} trailing bytes after the Avro body`)
    return toPlainEvent(value)
  }

  function decode(payload: Uint8Array): PaymentEvent {
    const buf = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
    if (buf.length > maxBytes) {
      throw new DaroogheError(
        'SCHEMA',
        `record exceeds --max-event-bytes ${maxBytes}: the record has ${buf.length} bytes`
      )
    }
    if (schemaId !== undefined && buf.length >= CONFLUENT_HEADER_BYTES && buf[0] === CONFLUENT_MAGIC_BYTE) {
      const id = buf.readUInt32BE(1)
      if (id !== schemaId) {
        throw new DaroogheError(
          'SCHEMA',
          `unknown Avro schema id ${id} (this consumer reads schema id ${schemaId}); set the matching schema id or re-produce the message`
        )
      }
      try {
        return decodeBody(buf, CONFLUENT_HEADER_BYTES)
      } catch (error) {
        throw new DaroogheError(
          'SCHEMA',
          `not an Avro PaymentEvent (schema id ${id}): ${(error as Error).message}`,
          {
            cause: error
          }
        )
      }
    }
    try {
      return decodeBody(buf, 0)
    } catch (error) {
      const reason = (error as Error).message
      const message =
        schemaId === undefined
          ? `not an Avro PaymentEvent: ${reason}`
          : `not a Confluent-framed message (magic byte 0x${(buf[0] ?? 0).toString(16).padStart(2, '0')}, expected 0x00) nor a bare Avro PaymentEvent: ${reason}`
      throw new DaroogheError('SCHEMA', message, { cause: error })
    }
  }

  return { schemaId, encode, decode }
}

/** avsc decodes into generated record classes; the rest of the pipeline wants plain JSON objects. */
function toPlainEvent(v: AvroEvent): PaymentEvent {
  const device: DeviceInfo = {}
  const d = v.device_info
  if (d.os !== null) device.os = d.os
  if (d.app_version !== null) device.app_version = d.app_version
  if (d.device_model !== null) device.device_model = d.device_model
  return {
    transaction_id: v.transaction_id,
    timestamp: v.timestamp,
    customer_id: v.customer_id,
    card_id: v.card_id,
    merchant_id: v.merchant_id,
    merchant_category: v.merchant_category,
    payment_method: v.payment_method,
    amount: v.amount,
    location: { lat: v.location.lat, lng: v.location.lng },
    device_info: device,
    status: v.status,
    commission_type: v.commission_type,
    commission_amount: v.commission_amount,
    vat_amount: v.vat_amount,
    total_amount: v.total_amount,
    customer_type: v.customer_type,
    risk_level: v.risk_level,
    failure_reason: v.failure_reason
  }
}
