import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls'
import type { SASLOptions } from '@platformatic/kafka'
import type { KafkaConnection, KafkaSasl, KafkaTls } from './options.ts'

/**
 * TLS and SASL of a KafkaConnection as @platformatic/kafka's connection options, and the one
 * line that names what is wrong when a secured connection fails.
 */

/** Node's TLS options: the chain is always verified; `checkHostname: false` skips only the name. */
export function tlsOptions(t: KafkaTls): TlsOptions {
  return {
    rejectUnauthorized: true,
    ...(t.ca !== undefined ? { ca: t.ca } : {}),
    ...(t.cert !== undefined ? { cert: t.cert } : {}),
    ...(t.key !== undefined ? { key: t.key } : {}),
    ...(t.checkHostname === false ? { checkServerIdentity: () => undefined } : {})
  }
}

export function saslOptions(s: KafkaSasl): SASLOptions {
  return {
    mechanism: s.mechanism,
    ...(s.username !== undefined ? { username: s.username } : {}),
    ...(s.password !== undefined ? { password: s.password } : {}),
    ...(s.token !== undefined ? { token: s.token } : {})
  }
}

/** The TLS verification codes of a chain the client does not trust (OpenSSL's names). */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE'
])

interface Found {
  /** The broker the failing connection went to, from "Connection to HOST:PORT failed." */
  listener: string | null
  /** The mechanisms a SaslHandshake response offered (on the error above the protocol error). */
  offered: string | null
  reason: string | null
}

/** The `security.protocol` a connection amounts to. */
function protocolName(conn: KafkaConnection | undefined): string {
  if (!conn) return 'the configured one'
  if (conn.tls) return conn.sasl ? 'SASL_SSL' : 'SSL'
  return conn.sasl ? 'SASL_PLAINTEXT' : 'PLAINTEXT'
}

function mechanismOf(conn: KafkaConnection | undefined, serverMessage: string): string {
  if (conn?.sasl) return conn.sasl.mechanism
  return /mechanism (\S+)/.exec(serverMessage)?.[1] ?? 'SASL'
}

/**
 * The line for a TLS or SASL failure no retry gets past, naming the listener, the mechanism
 * and the fix; null when the error is not one. Never includes the password: it only quotes
 * the broker's and the TLS library's messages, which do not carry it.
 */
export function securityFatalReason(error: unknown, conn?: KafkaConnection): string | null {
  const found: Found = { listener: null, offered: null, reason: null }
  const seen = new Set<unknown>()
  const at = (): string => found.listener ?? conn?.brokers.join(',') ?? 'the broker'
  const visit = (e: unknown, depth: number): void => {
    if (found.reason || e === null || typeof e !== 'object' || seen.has(e) || depth > 12) return
    seen.add(e)
    const x = e as {
      code?: unknown
      apiCode?: unknown
      message?: unknown
      serverErrorMessage?: unknown
      response?: { mechanisms?: unknown }
      errors?: unknown
      cause?: unknown
    }
    const message = typeof x.message === 'string' ? x.message : ''
    const listener = /^Connection to (\S+:\d+) failed\.$/.exec(message)?.[1]
    if (listener) found.listener = listener
    if (Array.isArray(x.response?.mechanisms)) found.offered = x.response.mechanisms.join(', ')
    found.reason = classify(x, message, found, at, conn)
    if (found.reason) return
    if (Array.isArray(x.errors)) for (const inner of x.errors) visit(inner, depth + 1)
    visit(x.cause, depth + 1)
  }
  visit(error, 0)
  return found.reason
}

function classify(
  x: { code?: unknown; apiCode?: unknown; serverErrorMessage?: unknown },
  message: string,
  found: Found,
  at: () => string,
  conn: KafkaConnection | undefined
): string | null {
  const code = typeof x.code === 'string' ? x.code : ''
  if (x.apiCode === 58) {
    const server = typeof x.serverErrorMessage === 'string' ? x.serverErrorMessage : ''
    const user = conn?.sasl?.username !== undefined ? `, user '${conn.sasl.username}'` : ''
    return (
      `Kafka SASL authentication failed at ${at()} (${mechanismOf(conn, server)}${user}): the broker ` +
      'refused the user name or password; fix sasl.username and sasl.password in the Kafka config'
    )
  }
  if (x.apiCode === 33) {
    return (
      `Kafka at ${at()} does not enable the SASL mechanism ${conn?.sasl?.mechanism ?? 'requested'} ` +
      `(it offers ${found.offered ?? 'others'}): set sasl.mechanism to one of those`
    )
  }
  const unsupported = /^SASL mechanism (\S+) not supported\.$/.exec(message)
  if (unsupported) {
    return (
      `Kafka SASL mechanism ${unsupported[1]} for ${at()} is not one this client speaks: ` +
      'set sasl.mechanism to PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER'
    )
  }
  if (UNTRUSTED.has(code)) {
    return (
      `Kafka TLS at ${at()}: the broker's certificate chain is not trusted (${code}): set ` +
      'ssl.ca.location to the CA that signed the broker certificate'
    )
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return (
      `Kafka TLS at ${at()}: the broker's certificate does not name this host (${message}): ` +
      'connect by a name the certificate lists, or set ssl.endpoint.identification.algorithm= (empty) to skip the name check'
    )
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `Kafka TLS at ${at()}: the broker's certificate is outside its validity (${code}): renew it`
  }
  if (
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    /wrong version number|verify the broker supports TLS|before secure TLS connection/.test(message)
  ) {
    return (
      `Kafka at ${at()} does not speak TLS (the handshake failed${code ? `: ${code}` : ''}), but ` +
      `security.protocol is ${protocolName(conn)}: use the broker's TLS listener, or set ` +
      'security.protocol to PLAINTEXT or SASL_PLAINTEXT for this one'
    )
  }
  return null
}

/**
 * Whether a failure could be a plaintext client talking to a TLS listener: the broker then
 * drops the connection at the first request, which the client reports as a closed connection.
 */
export function mayBePlaintextOnTls(error: unknown, conn: KafkaConnection): boolean {
  if (conn.tls) return false
  const seen = new Set<unknown>()
  const visit = (e: unknown, depth: number): boolean => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > 12) return false
    seen.add(e)
    const x = e as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown }
    const message = typeof x.message === 'string' ? x.message : ''
    if (x.code === 'ECONNRESET' || /^Connection closed/.test(message)) return true
    if (Array.isArray(x.errors) && x.errors.some(inner => visit(inner, depth + 1))) return true
    return visit(x.cause, depth + 1)
  }
  return visit(error, 0)
}

/** Recent answers of `speaksTls`, so an outage of a plaintext broker does not probe it per retry. */
const probed = new Map<string, { at: number; tls: boolean }>()
const PROBE_MAX_AGE_MS = 30_000

/**
 * Whether HOST:PORT completes a TLS handshake (the certificate is not checked: only the
 * protocol matters here). Bounded by `timeoutMs`; false on any failure.
 */
export async function speaksTls(broker: string, timeoutMs = 3_000): Promise<boolean> {
  const cached = probed.get(broker)
  if (cached && Date.now() - cached.at < PROBE_MAX_AGE_MS) return cached.tls
  const i = broker.lastIndexOf(':')
  const host = broker.slice(0, i)
  const port = Number(broker.slice(i + 1))
  const tls = await new Promise<boolean>(resolve => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, timeout: timeoutMs })
    const done = (v: boolean): void => {
      socket.destroy()
      resolve(v)
    }
    socket.once('secureConnect', () => done(true))
    socket.once('error', () => done(false))
    socket.once('timeout', () => done(false))
  })
  probed.set(broker, { at: Date.now(), tls })
  return tls
}

/** The line for a plaintext client whose bootstrap broker turns out to speak TLS, or null. */
export async function plaintextOnTlsReason(error: unknown, conn: KafkaConnection): Promise<string | null> {
  if (!mayBePlaintextOnTls(error, conn)) return null
  for (const broker of conn.brokers) {
    if (await speaksTls(broker)) {
      return (
        `Kafka at ${broker} speaks TLS, but security.protocol is ${protocolName(conn)} (the broker ` +
        'dropped the plaintext request): set security.protocol to SSL or SASL_SSL with ssl.ca.location, ' +
        "or use the broker's plaintext listener"
      )
    }
  }
  return null
}
