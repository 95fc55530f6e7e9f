/** JSON schemas of the API (validated by Fastify's Ajv, with type coercion off: see api.ts). */

const id = { type: 'string', minLength: 1, maxLength: 256 } as const

export const alertBodySchema = {
  type: 'object',
  required: [
    'alert_id',
    'created_at',
    'severity',
    'customer_id',
    'transaction_id',
    'risk_score',
    'rules_fired',
    'trace',
    'decision'
  ],
  // The processor adds merchant_id, amount, event_time, source...: kept as sent.
  additionalProperties: true,
  properties: {
    alert_id: id,
    created_at: { type: 'string', format: 'date-time' },
    severity: { type: 'string', enum: ['critical', 'high', 'medium', 'low'] },
    customer_id: id,
    transaction_id: id,
    risk_score: { type: 'number', minimum: 0, maximum: 100 },
    rules_fired: { type: 'array', maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 128 } },
    trace: { type: 'object' },
    decision: { type: 'string', enum: ['fraud', 'approved'] }
  }
} as const

/** Strings: the query is parsed in the handler (coercion is off API-wide). */
export const alertQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    customer_id: id,
    rule: { type: 'string', minLength: 1, maxLength: 128 },
    from: { type: 'string', minLength: 1, maxLength: 64 },
    to: { type: 'string', minLength: 1, maxLength: 64 },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
    cursor: { type: 'string', minLength: 1, maxLength: 128 }
  }
} as const
