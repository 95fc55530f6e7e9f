/**
 * Request-reply on the stream (`POST /v1/decisions`, after Kafka's request-reply pattern): a
 * record on the input topic carrying these two headers gets its decision record once more, on
 * the reply topic it names, with the same headers (so the correlation id comes back with it).
 * Headers come from whoever wrote the record: they are checked, and a record whose headers do
 * not pass is decided as usual, without a reply.
 */

/** Header naming the topic the reply goes to. */
export const REPLY_TO_HEADER = 'darooghe-reply-to'
/** Header the requester matches the reply by; returned unchanged. */
export const CORRELATION_ID_HEADER = 'darooghe-correlation-id'
/** The reply topic of `darooghe serve` and the one the detector allows, by default. */
export const DEFAULT_REPLY_TOPIC = 'darooghe.decisions.replies'
/** Longest correlation id replied to (a UUID has 36 characters). */
export const MAX_CORRELATION_ID_LENGTH = 128

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/

/** Kafka's rule for topic names: 1-249 of `[A-Za-z0-9._-]`, and not `.` or `..`. */
export function isTopicName(name: string): boolean {
  return TOPIC_NAME.test(name) && name !== '.' && name !== '..'
}

/**
 * The topic to reply to for a record with these headers, or null: no reply header, a name that
 * is not a topic name or not among `allowed`, the record's own topic, or a correlation id that
 * is missing, empty or longer than MAX_CORRELATION_ID_LENGTH.
 */
export function replyTopicOf(
  headers: Readonly<Record<string, string>>,
  ownTopic: string,
  allowed: readonly string[]
): string | null {
  const topic = headers[REPLY_TO_HEADER]
  if (topic === undefined || !isTopicName(topic) || topic === ownTopic || !allowed.includes(topic))
    return null
  const id = headers[CORRELATION_ID_HEADER]
  if (id === undefined || id.length === 0 || id.length > MAX_CORRELATION_ID_LENGTH) return null
  return topic
}

/**
 * The reply to a record whose transaction id the customer's state already holds: the stream
 * emits nothing else for it (see the processor's duplicate check), so the requester learns why.
 */
export function encodeDuplicateReply(transactionId: string, customerId: string): string {
  return JSON.stringify({ transaction_id: transactionId, customer_id: customerId, duplicate: true })
}
