import { outputLimits } from '../../domain/json-keys.ts'
import { parseJsonWithin } from '../../domain/limits.ts'

/**
 * What `POST /v1/decisions` and `GET /v1/decisions/:id` answer, built from the reply record the
 * detector wrote (src/apps/processor/reply.ts) or from the API's own state. A 200's body is the
 * decision record's text itself: the decision as the stream emits it, byte for byte.
 */
export type DecisionAnswer =
  | { readonly status: 200; readonly text: string }
  | { readonly status: 202; readonly body: { transaction_id: string; status: 'pending' } }
  | { readonly status: 422; readonly body: InvalidEventBody }
  | { readonly status: 404 | 409 | 503 | 504 | 502; readonly body: DecisionErrorBody }

export interface DecisionErrorBody {
  error: string
  message: string
  transaction_id: string | null
}

export interface InvalidEventBody extends DecisionErrorBody {
  error_codes: string[]
  issues: { code: string; field: string; message: string }[]
}

const READ_LIMITS = outputLimits()

/** The answer a reply record's value stands for. */
export function answerOfReply(text: string, transactionId: string | null): DecisionAnswer {
  const parsed = parseJsonWithin(text, READ_LIMITS)
  const v = parsed.ok ? parsed.value : null
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return badReply(transactionId)
  const r = v as Record<string, unknown>
  const id = typeof r.transaction_id === 'string' ? r.transaction_id : transactionId
  if (r.decision === 'approved' || r.decision === 'fraud') return { status: 200, text }
  if (Array.isArray(r.error_codes) && Array.isArray(r.issues)) {
    return {
      status: 422,
      body: {
        error: 'invalid_event',
        message: `the event is not valid (${r.error_codes.join(', ')}); it went to the error topic`,
        transaction_id: id,
        error_codes: r.error_codes.filter((c): c is string => typeof c === 'string'),
        issues: r.issues.filter(isIssue)
      }
    }
  }
  if (r.duplicate === true) return alreadyDecided(id)
  return badReply(transactionId)
}

/** True for the reply the detector writes for a transaction id it had seen already. */
export function isDuplicateReply(text: string): boolean {
  const a = answerOfReply(text, null)
  return a.status === 409 && a.body.error === 'already_decided'
}

export function alreadyDecided(transactionId: string | null): DecisionAnswer {
  return {
    status: 409,
    body: {
      error: 'already_decided',
      message:
        'the stream had already seen this transaction_id (sent otherwise than through this API, or before its record here expired): see the decision topics',
      transaction_id: transactionId
    }
  }
}

export function conflict(transactionId: string): DecisionAnswer {
  return {
    status: 409,
    body: {
      error: 'idempotency_conflict',
      message: 'this transaction_id was sent with a different event: a retry must send the same body',
      transaction_id: transactionId
    }
  }
}

export function pending(transactionId: string): DecisionAnswer {
  return { status: 202, body: { transaction_id: transactionId, status: 'pending' } }
}

export function notFound(transactionId: string): DecisionAnswer {
  return {
    status: 404,
    body: {
      error: 'not_found',
      message: 'no decision for this transaction_id (never sent here, or expired)',
      transaction_id: transactionId
    }
  }
}

export function timedOut(transactionId: string | null, timeoutMs: number): DecisionAnswer {
  return {
    status: 504,
    body: {
      error: 'decision_timeout',
      message:
        `no decision within ${timeoutMs} ms; the stream will still decide it` +
        (transactionId === null ? '' : `: GET /v1/decisions/${encodeURIComponent(transactionId)} later`),
      transaction_id: transactionId
    }
  }
}

export function unavailable(transactionId: string | null, why: string): DecisionAnswer {
  return { status: 503, body: { error: 'unavailable', message: why, transaction_id: transactionId } }
}

function badReply(transactionId: string | null): DecisionAnswer {
  return {
    status: 502,
    body: {
      error: 'bad_reply',
      message: 'the reply to this event is not a record the detector writes',
      transaction_id: transactionId
    }
  }
}

function isIssue(i: unknown): i is { code: string; field: string; message: string } {
  if (typeof i !== 'object' || i === null) return false
  const o = i as Record<string, unknown>
  return typeof o.code === 'string' && typeof o.field === 'string' && typeof o.message === 'string'
}
