import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  UserError
} from '@platformatic/kafka'
import { kafkaError, kafkaFatalReason } from '../../src/adapters/kafka/errors.ts'
import { baseOptions, type KafkaConnection } from '../../src/adapters/kafka/options.ts'
import { mayBePlaintextOnTls, securityFatalReason } from '../../src/adapters/kafka/security.ts'

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
const SECURE: KafkaConnection = {
  brokers: ['kafka.example:9094'],
  tls: { ca: CA },
  sasl: { mechanism: 'SCRAM-SHA-512', username: 'darooghe', password: 's3cret-pw' }
}

test('baseOptions: no tls or sasl keys for a plaintext connection', () => {
  const o = baseOptions({ brokers: ['127.0.0.1:9092'] }, 'producer')
  assert.equal('tls' in o, false)
  assert.equal('sasl' in o, false)
  assert.equal(o.clientId, 'darooghe-producer')
})

test('baseOptions: TLS verifies the chain and the host name by default, with the PEM CA', () => {
  const o = baseOptions(SECURE, 'consumer')
  assert.equal(o.tls?.ca, CA)
  assert.equal(o.tls?.rejectUnauthorized, true)
  assert.equal(o.tls?.checkServerIdentity, undefined, "Node's own host-name check applies")
  assert.equal('cert' in o.tls!, false)
})

test('baseOptions: checkHostname false drops only the name check; a client certificate passes', () => {
  const o = baseOptions(
    { brokers: ['b:1'], tls: { ca: CA, checkHostname: false, cert: 'C', key: 'K' } },
    'admin'
  )
  assert.equal(o.tls?.rejectUnauthorized, true, 'the chain is still verified')
  assert.equal(o.tls?.checkServerIdentity?.('other.example', {} as never), undefined)
  assert.equal(o.tls?.cert, 'C')
  assert.equal(o.tls?.key, 'K')
})

test('baseOptions: SASL mechanism and credentials, and nothing for the unset ones', () => {
  assert.deepEqual(baseOptions(SECURE, 'x').sasl, {
    mechanism: 'SCRAM-SHA-512',
    username: 'darooghe',
    password: 's3cret-pw'
  })
  assert.deepEqual(
    baseOptions({ brokers: ['b:1'], sasl: { mechanism: 'OAUTHBEARER', token: 't' } }, 'x').sasl,
    {
      mechanism: 'OAUTHBEARER',
      token: 't'
    }
  )
})

/** The chain @platformatic/kafka builds when a connection to `broker` fails with `cause`. */
function failed(broker: string, cause: Error): Error {
  return new MultipleErrors('Cannot connect to any broker.', [
    new NetworkError(`Connection to ${broker} failed.`, { cause })
  ])
}

function tlsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}

test('a refused password: listener, mechanism, user and the fix; never the password', () => {
  const refused = new ResponseError(
    18,
    2,
    { '': [58, 'Authentication failed: Invalid username or password'] },
    {}
  )
  const error = failed(
    'kafka.example:9094',
    new AuthenticationError('SASL authentication failed.', { cause: refused })
  )
  const line = kafkaFatalReason(error, SECURE)!
  assert.match(
    line,
    /^Kafka SASL authentication failed at kafka\.example:9094 \(SCRAM-SHA-512, user 'darooghe'\)/
  )
  assert.match(line, /fix sasl\.username and sasl\.password/)
  assert.ok(!line.includes('s3cret-pw'))
  const wrapped = kafkaError('produce', error, SECURE)
  assert.equal(wrapped.kind, 'KAFKA_FATAL')
  assert.equal(wrapped.retriable, false)
})

test('without the connection the mechanism comes from the broker message', () => {
  const refused = new ProtocolError(58, 'invalid credentials with SASL mechanism SCRAM-SHA-256')
  assert.match(securityFatalReason(failed('b:9', refused))!, /at b:9 \(SCRAM-SHA-256\)/)
})

test('an unsupported mechanism names what the broker offers', () => {
  const handshake = new ResponseError(
    17,
    1,
    { '': [33, null] },
    { errorCode: 33, mechanisms: ['SCRAM-SHA-512', 'PLAIN'] }
  )
  const error = failed(
    'kafka.example:9094',
    new AuthenticationError('Cannot find a suitable SASL mechanism.', { cause: handshake })
  )
  const conn = { ...SECURE, sasl: { mechanism: 'SCRAM-SHA-256' as const, username: 'u', password: 'p' } }
  assert.equal(
    securityFatalReason(error, conn),
    'Kafka at kafka.example:9094 does not enable the SASL mechanism SCRAM-SHA-256 (it offers SCRAM-SHA-512, PLAIN): set sasl.mechanism to one of those'
  )
  assert.match(
    securityFatalReason(failed('b:1', new UserError('SASL mechanism GSSAPI not supported.')))!,
    /GSSAPI/
  )
})

test('TLS: an untrusted chain, a name mismatch, an expired certificate', () => {
  for (const code of [
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'DEPTH_ZERO_SELF_SIGNED_CERT'
  ]) {
    assert.match(
      securityFatalReason(failed('kafka.example:9094', tlsError(code, 'x')), SECURE)!,
      new RegExp(
        `^Kafka TLS at kafka.example:9094: the broker's certificate chain is not trusted \\(${code}\\): set ssl.ca.location`
      )
    )
  }
  const mismatch = tlsError(
    'ERR_TLS_CERT_ALTNAME_INVALID',
    "Hostname/IP does not match certificate's altnames"
  )
  assert.match(
    securityFatalReason(failed('k:1', mismatch), SECURE)!,
    /ssl\.endpoint\.identification\.algorithm= \(empty\)/
  )
  assert.match(securityFatalReason(failed('k:1', tlsError('CERT_HAS_EXPIRED', 'x')), SECURE)!, /renew/)
})

test('a TLS client on a plaintext port: reset before the handshake, or wrong version number', () => {
  const reset = new UserError('TLS handshake failed. Please verify the broker supports TLS.', {
    cause: tlsError(
      'ECONNRESET',
      'Client network socket disconnected before secure TLS connection was established'
    )
  })
  const line = securityFatalReason(failed('127.0.0.1:9092', reset), SECURE)!
  assert.match(line, /^Kafka at 127\.0\.0\.1:9092 does not speak TLS .*security\.protocol is SASL_SSL/)
  const version = tlsError('ERR_SSL_WRONG_VERSION_NUMBER', 'ssl3_get_record:wrong version number')
  assert.match(
    securityFatalReason(failed('h:1', version), { brokers: ['h:1'], tls: {} })!,
    /security\.protocol is SSL/
  )
})

test('outages stay retriable; a closed plaintext connection is only a suspect', () => {
  const refused = failed('127.0.0.1:9092', tlsError('ECONNREFUSED', 'connect ECONNREFUSED'))
  assert.equal(kafkaFatalReason(refused, SECURE), null)
  assert.equal(kafkaError('x', refused, SECURE).retriable, true)
  const closed = new NetworkError('Connection closed')
  assert.equal(kafkaFatalReason(closed, { brokers: ['b:1'] }), null)
  assert.equal(mayBePlaintextOnTls(closed, { brokers: ['b:1'] }), true)
  assert.equal(mayBePlaintextOnTls(closed, SECURE), false, 'a TLS client has its own handshake errors')
  assert.equal(mayBePlaintextOnTls(refused, { brokers: ['b:1'] }), false)
})
