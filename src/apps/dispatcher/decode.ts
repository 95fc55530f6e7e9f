import { DEFAULT_LIMITS, type RecordLimits } from '../../domain/limits.ts'
import type { Alert } from '../../ports/alert-sink.ts'
import type { LogRecord } from '../../ports/log.ts'
import { alertOf } from '../guard/alert-shape.ts'
import { forEachRecord, parseRecordObject, type Rejection } from '../guard/record-guard.ts'

/**
 * The alerts of a batch of alerts-topic records. Each record is parsed behind the record limits
 * and checked for the alert's shape in its own try/catch: one that is not an alert is passed to
 * `reject` with its coordinates and reason, and the others go on.
 */
export function decodeAlerts(
  records: readonly LogRecord[],
  reject: (rejection: Rejection) => void,
  limits: RecordLimits = DEFAULT_LIMITS
): Alert[] {
  const alerts: Alert[] = []
  forEachRecord(records, r => void alerts.push(alertOf(parseRecordObject(r.value, { limits }))), reject)
  return alerts
}
