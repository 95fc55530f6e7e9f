import { encodeDuplicateReply, replyTopicOf } from '../../domain/reply.ts'
import type { LogRecord, OutRecord } from '../../ports/log.ts'
import type { Prepared } from './records.ts'

/**
 * The reply of request-reply (`POST /v1/decisions`, src/domain/reply.ts): for a record whose
 * headers name an allowed reply topic, its first output (the decision, the error record, or
 * nothing else) once more, on that topic. A copy of that output, same value bytes, key and
 * headers (the input's, which carry the correlation id): a batch run again or a re-emit from
 * the replay log brings it back byte for byte, with the rest of the record's outputs. A
 * duplicate transaction id, which emits nothing, replies that it was a duplicate.
 * Called with the record's outputs rendered from `first` on.
 */
export function addReply(
  rec: LogRecord,
  p: Prepared,
  duplicate: boolean,
  allowed: readonly string[],
  first: number,
  out: OutRecord[]
): void {
  const topic = replyTopicOf(rec.headers, rec.topic, allowed)
  if (topic === null) return
  if (out.length > first) {
    // The record's own output keeps what the replay log needs (a derived value's input prefix).
    out.push({ ...out[first]!, topic })
  } else if (duplicate) {
    out.push({
      topic,
      key: p.fields.customerId,
      value: encodeDuplicateReply(p.fields.transactionId, p.fields.customerId),
      timestamp: rec.timestamp,
      headers: rec.headers
    })
  }
}
