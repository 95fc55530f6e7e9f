/**
 * JSON schemas of `POST /v1/decisions` and `GET /v1/decisions/:transaction_id`, the source of
 * their OpenAPI description (/openapi.json). The body schema documents the payment event; it is
 * not enforced by the API: the event is judged by the stream, whose error record answers 422.
 */
import {
  COMMISSION_TYPES,
  CUSTOMER_TYPES,
  FAILURE_REASONS,
  MERCHANT_CATEGORIES,
  PAYMENT_METHODS,
  STATUSES,
  VALIDATION_CODES
} from '../../domain/event.ts'
import { MAX_ID_LENGTH } from '../../domain/validate.ts'

const id = { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH } as const
const nullableId = { type: ['string', 'null'], maxLength: MAX_ID_LENGTH } as const

export const paymentEventSchema = {
  type: 'object',
  description:
    'One payment event, as the stream takes it (SPEC section 3). Judged by the detector, not by the API: an invalid event is answered 422 with its error codes.',
  required: [
    'transaction_id',
    'timestamp',
    'customer_id',
    'merchant_id',
    'merchant_category',
    'payment_method',
    'amount',
    'location',
    'status',
    'commission_type',
    'commission_amount',
    'vat_amount',
    'total_amount',
    'customer_type',
    'risk_level'
  ],
  properties: {
    transaction_id: { ...id, description: 'The idempotency key: a retry must send the same event.' },
    timestamp: {
      type: ['string', 'number'],
      description: 'Event time: ISO-8601 UTC, or epoch seconds or milliseconds.'
    },
    customer_id: { ...id, description: 'The partition key: events of a customer are decided in order.' },
    card_id: id,
    merchant_id: id,
    merchant_category: { type: 'string', enum: [...MERCHANT_CATEGORIES] },
    payment_method: { type: 'string', enum: [...PAYMENT_METHODS] },
    amount: { type: 'integer', minimum: 0, description: 'Rial.' },
    location: {
      type: 'object',
      required: ['lat', 'lng'],
      properties: { lat: { type: 'number' }, lng: { type: 'number' } }
    },
    device_info: {
      type: 'object',
      properties: {
        os: { type: 'string' },
        app_version: { type: 'string' },
        device_model: { type: 'string' }
      }
    },
    status: { type: 'string', enum: [...STATUSES] },
    failure_reason: { type: ['string', 'null'], enum: [...FAILURE_REASONS, null] },
    commission_type: { type: 'string', enum: [...COMMISSION_TYPES] },
    commission_amount: { type: 'number', minimum: 0 },
    vat_amount: { type: 'number', minimum: 0 },
    total_amount: { type: 'number', description: 'amount + vat_amount + commission_amount' },
    customer_type: { type: 'string', enum: [...CUSTOMER_TYPES] },
    risk_level: { type: 'integer', minimum: 1, maximum: 5 }
  }
} as const

export const decisionSchema = {
  type: 'object',
  description:
    'The decision record as the stream writes it to the approved or fraud topic: the event, byte for byte, with the decision fields appended.',
  required: [
    'transaction_id',
    'customer_id',
    'event_time',
    'decision',
    'risk_score',
    'rules_fired',
    'trace',
    'processing_latency_ms',
    'processed_at',
    'source'
  ],
  additionalProperties: true,
  properties: {
    transaction_id: id,
    customer_id: id,
    event_time: { type: 'string', format: 'date-time' },
    decision: { type: 'string', enum: ['approved', 'fraud'] },
    risk_score: { type: 'number', minimum: 0, maximum: 100 },
    rules_fired: { type: 'array', items: { type: 'string' } },
    trace: {
      type: 'object',
      additionalProperties: true,
      description: 'Per rule: whether it fired and the numbers behind it.'
    },
    processing_latency_ms: {
      type: 'number',
      description: 'From the request reaching the API (the record timestamp) to the detector deciding.'
    },
    processed_at: { type: 'string', format: 'date-time' },
    source: {
      type: 'object',
      description: 'Where the event sits on the input topic.',
      properties: { topic: { type: 'string' }, partition: { type: 'integer' }, offset: { type: 'integer' } }
    }
  }
} as const

const errorProperties = {
  error: { type: 'string' },
  message: { type: 'string' }
} as const

/** 400, 401, 413, 415: the API's own answer, before anything is sent. */
export const apiErrorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: errorProperties
} as const

/** 404, 409, 502, 503, 504: about one transaction id. */
export const decisionErrorSchema = {
  type: 'object',
  required: ['error', 'message', 'transaction_id'],
  properties: { ...errorProperties, transaction_id: nullableId }
} as const

export const invalidEventSchema = {
  type: 'object',
  description: "The detector's error record for the event (which is on the error topic too).",
  required: ['error', 'message', 'transaction_id', 'error_codes', 'issues'],
  properties: {
    ...errorProperties,
    error: { type: 'string', enum: ['invalid_event'] },
    transaction_id: nullableId,
    error_codes: { type: 'array', items: { type: 'string', enum: [...VALIDATION_CODES] } },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'field', 'message'],
        properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } }
      }
    }
  }
} as const

export const pendingSchema = {
  type: 'object',
  required: ['transaction_id', 'status'],
  properties: { transaction_id: id, status: { type: 'string', enum: ['pending'] } }
} as const

const described = <T extends object>(description: string, schema: T) => ({ description, ...schema })

const common = {
  401: described('A bearer token is required (serve --token) and was missing or wrong.', apiErrorSchema),
  409: described(
    '`idempotency_conflict`: this transaction_id came with a different event. `already_decided`: the stream had seen the id before, not through this API.',
    decisionErrorSchema
  ),
  422: described('The event is not valid (or was late): not scored.', invalidEventSchema),
  502: described('The reply was not a record the detector writes.', decisionErrorSchema),
  503: described(
    'Kafka or the decision store is unavailable, or too many requests wait: retry (it is idempotent).',
    decisionErrorSchema
  )
}

export const postDecisionSchema = {
  tags: ['decisions'],
  summary: 'Decide one payment, synchronously, through the stream',
  description:
    'The event is produced to the input topic (key customer_id) with the headers `darooghe-reply-to` and `darooghe-correlation-id`; the detector decides it as every event and writes its decision record to the reply topic too. Idempotent by transaction_id.',
  security: [{ bearer: [] }],
  body: paymentEventSchema,
  response: {
    200: described('The decision, as on the approved or fraud topic.', decisionSchema),
    400: described('`invalid_json`, `not_an_object` or `too_complex`: nothing was sent.', apiErrorSchema),
    413: described(
      'The body is larger than the event size limit (64 KiB): nothing was sent.',
      apiErrorSchema
    ),
    415: described('The body is not application/json: nothing was sent.', apiErrorSchema),
    504: described(
      'No decision within --decision-timeout: it will still be made; GET /v1/decisions/{transaction_id} later.',
      decisionErrorSchema
    ),
    ...common
  }
} as const

export const getDecisionSchema = {
  tags: ['decisions'],
  summary: 'The decision of a transaction sent before (after a 504, say)',
  security: [{ bearer: [] }],
  params: {
    type: 'object',
    required: ['transaction_id'],
    properties: { transaction_id: id }
  },
  response: {
    200: described('The decision, as on the approved or fraud topic.', decisionSchema),
    202: described('Sent to the stream, not decided yet.', pendingSchema),
    404: described('Never sent through this API, or expired (--decision-ttl).', decisionErrorSchema),
    ...common
  }
} as const
