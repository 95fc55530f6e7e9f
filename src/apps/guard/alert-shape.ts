import type { Alert } from '../../ports/alert-sink.ts'
import { RecordFault } from './record-guard.ts'

const SEVERITIES = new Set(['critical', 'high', 'medium', 'low'])
const MAX_ID = 256

/**
 * The parsed value of an alerts-topic record as an Alert, or a RecordFault('shape') naming the
 * first field that is not what the processor writes (the same bounds as the API's `POST /alerts`
 * schema, so that whatever the dispatcher forwards to `serve` is accepted there).
 */
export function alertOf(v: Record<string, unknown>): Alert {
  const fail = (what: string): never => {
    throw new RecordFault('shape', `not an alert: ${what}`)
  }
  for (const f of ['alert_id', 'customer_id', 'transaction_id'] as const) {
    const x = v[f]
    if (typeof x !== 'string' || x.length === 0 || x.length > MAX_ID)
      fail(`${f} must be a string of 1-${MAX_ID} characters`)
  }
  if (typeof v.created_at !== 'string' || Number.isNaN(Date.parse(v.created_at)))
    fail('created_at must be a time')
  if (typeof v.severity !== 'string' || !SEVERITIES.has(v.severity))
    fail('severity must be critical, high, medium or low')
  const score = v.risk_score
  if (typeof score !== 'number' || !(score >= 0 && score <= 100))
    fail('risk_score must be a number from 0 to 100')
  const fired = v.rules_fired
  if (
    !Array.isArray(fired) ||
    fired.length > 64 ||
    !fired.every(r => typeof r === 'string' && r.length > 0 && r.length <= 128)
  ) {
    fail('rules_fired must be a list of at most 64 rule ids')
  }
  const trace = v.trace
  if (typeof trace !== 'object' || trace === null || Array.isArray(trace)) fail('trace must be an object')
  if (v.decision !== 'fraud' && v.decision !== 'approved') fail('decision must be fraud or approved')
  return v as Alert
}
