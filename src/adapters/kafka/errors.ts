import { protocolErrors, protocolErrorsCodesById, TimeoutError } from '@platformatic/kafka'
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
const FATAL_FIXES: Readonly<Record<string, string>> = {
  MESSAGE_TOO_LARGE: "a record is larger than the broker's message.max.bytes",
  INVALID_TOPIC_EXCEPTION: 'the topic name is not valid: fix the --*-topic flags',
  RECORD_LIST_TOO_LARGE: "a batch is larger than the broker's message.max.bytes",
  INVALID_REQUIRED_ACKS: 'fix --acks',
  INCONSISTENT_GROUP_PROTOCOL: 'another client uses this --group with another protocol',
  INVALID_GROUP_ID: 'fix --group',
  INVALID_SESSION_TIMEOUT: "the session timeout is outside the broker's group.*.session.timeout.ms",
  TOPIC_AUTHORIZATION_FAILED: 'grant this principal access to the topic (ACLs)',
  GROUP_AUTHORIZATION_FAILED: 'grant this principal access to the group (ACLs)',
  CLUSTER_AUTHORIZATION_FAILED: 'grant this principal the cluster permission (ACLs)',
  INVALID_TIMESTAMP: "record timestamps are outside the broker's message.timestamp.*.max.ms",
  UNSUPPORTED_SASL_MECHANISM: 'use a SASL mechanism the broker enables',
  ILLEGAL_SASL_STATE: 'check the SASL settings',
  UNSUPPORTED_VERSION: 'use Kafka 3.5 to 4.1',
  INVALID_REQUEST: 'a client bug: please report it',
  UNSUPPORTED_FOR_MESSAGE_FORMAT: "the topic's message format is too old",
  POLICY_VIOLATION: "the broker's create-topic or alter policy refuses it",
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'grant this principal the transactional id (ACLs)',
  SASL_AUTHENTICATION_FAILED: 'check the Kafka credentials',
  INVALID_RECORD: 'the broker refuses a record (see the cause)',
  PRODUCER_FENCED: 'another process took over this transactional id',
  UNSUPPORTED_COMPRESSION_TYPE: 'the broker does not take this compression.type: choose another'
}

/** The fatal codes by number, with their names, from the library's protocol error table. */
const FATAL: ReadonlyMap<number, { name: string; fix: string }> = new Map(
  Object.entries(FATAL_FIXES).map(([name, fix]) => [kafkaCode(name), { name, fix }])
)

/**
 * A Kafka error code by its protocol name (`OFFSET_OUT_OF_RANGE`), from the client library's
 * table of the protocol's errors: no hand-typed numbers. Throws at load for a name it lacks.
 */
export function kafkaCode(name: string): number {
  const e = protocolErrors[name]
  if (e === undefined) throw new Error(`the Kafka protocol has no error named ${name}`)
  return e.code
}

/** The protocol name of a Kafka error code (`UNKNOWN_SERVER_ERROR` …), or `error code n`. */
export function kafkaCodeName(code: number): string {
  return protocolErrorsCodesById[code] ?? `error code ${code}`
}

const FATAL_CLIENT_CODES = new Set([
  'PLT_KFK_AUTHENTICATION',
  'PLT_KFK_UNSUPPORTED_API',
  'PLT_KFK_UNSUPPORTED_COMPRESSION',
  'PLT_KFK_UNSUPPORTED_FORMAT'
])

/** The line for a Kafka error code no retry gets past, or null when it may pass. */
export function fatalCodeReason(code: number): string | null {
  const f = FATAL.get(code)
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
    if (typeof x.apiCode === 'number' && FATAL.has(x.apiCode)) return fatalCodeReason(x.apiCode)
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
