import { TimeoutError } from '@platformatic/kafka'
import { DaroogheError } from '../../errors.ts'
import type { KafkaConnection } from './options.ts'
import { plaintextOnTlsReason, securityFatalReason } from './security.ts'

/**
 * Kafka error codes that no retry gets past: the permissions, the credentials, the
 * configuration or the records are wrong. Every other failure (connections refused or cut,
 * timeouts, leaders and coordinators moving or loading, a broker restarting) is retried
 * through the outage. The client library's own `canRetry` is not used for this: it marks
 * timeouts and rebalances as not retriable, which are exactly what a broker restart causes.
 */
const FATAL: Readonly<Record<number, { name: string; fix: string }>> = {
  10: { name: 'MESSAGE_TOO_LARGE', fix: "a record is larger than the broker's message.max.bytes" },
  17: { name: 'INVALID_TOPIC_EXCEPTION', fix: 'the topic name is not valid: fix the --*-topic flags' },
  18: { name: 'RECORD_LIST_TOO_LARGE', fix: "a batch is larger than the broker's message.max.bytes" },
  21: { name: 'INVALID_REQUIRED_ACKS', fix: 'fix --acks' },
  23: { name: 'INCONSISTENT_GROUP_PROTOCOL', fix: 'another client uses this --group with another protocol' },
  24: { name: 'INVALID_GROUP_ID', fix: 'fix --group' },
  26: {
    name: 'INVALID_SESSION_TIMEOUT',
    fix: "the session timeout is outside the broker's group.*.session.timeout.ms"
  },
  29: { name: 'TOPIC_AUTHORIZATION_FAILED', fix: 'grant this principal access to the topic (ACLs)' },
  30: { name: 'GROUP_AUTHORIZATION_FAILED', fix: 'grant this principal access to the group (ACLs)' },
  31: { name: 'CLUSTER_AUTHORIZATION_FAILED', fix: 'grant this principal the cluster permission (ACLs)' },
  32: {
    name: 'INVALID_TIMESTAMP',
    fix: "record timestamps are outside the broker's message.timestamp.*.max.ms"
  },
  33: { name: 'UNSUPPORTED_SASL_MECHANISM', fix: 'use a SASL mechanism the broker enables' },
  34: { name: 'ILLEGAL_SASL_STATE', fix: 'check the SASL settings' },
  35: { name: 'UNSUPPORTED_VERSION', fix: 'use Kafka 3.5 to 4.1' },
  42: { name: 'INVALID_REQUEST', fix: 'a client bug: please report it' },
  43: { name: 'UNSUPPORTED_FOR_MESSAGE_FORMAT', fix: "the topic's message format is too old" },
  44: { name: 'POLICY_VIOLATION', fix: "the broker's create-topic or alter policy refuses it" },
  53: {
    name: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
    fix: 'grant this principal the transactional id (ACLs)'
  },
  58: { name: 'SASL_AUTHENTICATION_FAILED', fix: 'check the Kafka credentials' },
  87: { name: 'INVALID_RECORD', fix: 'the broker refuses a record (see the cause)' },
  90: { name: 'PRODUCER_FENCED', fix: 'another process took over this transactional id' }
}

const FATAL_CLIENT_CODES = new Set([
  'PLT_KFK_AUTHENTICATION',
  'PLT_KFK_UNSUPPORTED_API',
  'PLT_KFK_UNSUPPORTED_COMPRESSION',
  'PLT_KFK_UNSUPPORTED_FORMAT'
])

/** The line for a Kafka error code no retry gets past, or null when it may pass. */
export function fatalCodeReason(code: number): string | null {
  const f = FATAL[code]
  return f ? `Kafka refused: ${f.name}: ${f.fix}` : null
}

/**
 * What makes an error fatal, if anything does: one line naming the problem and the fix. With
 * the connection, TLS and SASL failures also name the mechanism and protocol it was set to.
 */
export function kafkaFatalReason(error: unknown, conn?: KafkaConnection): string | null {
  if (error instanceof DaroogheError && error.kind === 'KAFKA_FATAL') return error.message
  const security = securityFatalReason(error, conn)
  if (security !== null) return security
  const seen = new Set<unknown>()
  const visit = (e: unknown, depth: number): string | null => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > 12) return null
    seen.add(e)
    if (e instanceof DaroogheError && e.kind === 'KAFKA_FATAL') return e.message
    const x = e as { apiCode?: unknown; code?: unknown; message?: unknown; errors?: unknown; cause?: unknown }
    if (typeof x.apiCode === 'number' && FATAL[x.apiCode]) return fatalCodeReason(x.apiCode)
    if (typeof x.code === 'string' && FATAL_CLIENT_CODES.has(x.code)) {
      return x.code === 'PLT_KFK_AUTHENTICATION'
        ? `Kafka authentication failed: check the credentials (${String(x.message)})`
        : `Kafka client and broker do not agree: ${String(x.message)}`
    }
    if (Array.isArray(x.errors)) {
      for (const inner of x.errors) {
        const r = visit(inner, depth + 1)
        if (r) return r
      }
    }
    return visit(x.cause, depth + 1)
  }
  return visit(error, 0)
}

/** False only for the errors of `kafkaFatalReason`: everything else is worth retrying. */
export function kafkaRetriable(error: unknown): boolean {
  return kafkaFatalReason(error) === null
}

/**
 * A failure of `what` as a Darooghe error: KAFKA_FATAL with the reason and the fix when no
 * retry can pass it, KAFKA (retriable) otherwise. Darooghe errors pass through.
 */
export function kafkaError(what: string, cause: unknown, conn?: KafkaConnection): DaroogheError {
  if (cause instanceof DaroogheError && cause.kind === 'KAFKA_FATAL') return cause
  const fatal = kafkaFatalReason(cause, conn)
  if (fatal !== null) return new DaroogheError('KAFKA_FATAL', `${what}: ${fatal}`, { cause })
  if (cause instanceof DaroogheError && !cause.retriable) return cause
  if (cause instanceof DaroogheError && cause.kind === 'KAFKA') return cause
  return new DaroogheError('KAFKA', `${what} failed`, { cause })
}

/**
 * `kafkaError`, and for a plaintext connection dropped at once, a look at whether the broker
 * speaks TLS: such a broker closes the connection at the first request, which otherwise reads
 * as an outage and would be retried for ever.
 */
export async function kafkaFailure(
  what: string,
  cause: unknown,
  conn: KafkaConnection
): Promise<DaroogheError> {
  const error = kafkaError(what, cause, conn)
  if (!error.retriable) return error
  const tls = await plaintextOnTlsReason(cause, conn)
  return tls === null ? error : new DaroogheError('KAFKA_FATAL', `${what}: ${tls}`, { cause })
}

/**
 * Whether a request timed out, or a response could not be read, somewhere in the error's
 * chain. The client keeps a connection whose requests time out: one silently dropped by the
 * network (a half-open TCP connection) would time out every request for good; and after a
 * response it gave up on, it reads the next one from the wrong place. The caller drops that
 * connection and dials again.
 */
export function timedOut(error: unknown): boolean {
  const seen = new Set<unknown>()
  const visit = (e: unknown, depth: number): boolean => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > 12) return false
    seen.add(e)
    if (e instanceof TimeoutError) return true
    if (e instanceof DaroogheError && e.message.startsWith('a Kafka response is malformed')) return true
    const x = e as { errors?: unknown; cause?: unknown }
    if (Array.isArray(x.errors) && x.errors.some(inner => visit(inner, depth + 1))) return true
    return visit(x.cause, depth + 1)
  }
  return visit(error, 0)
}
