/**
 * The Kafka client properties Darooghe reads from `--kafka-config`, and those it knows but
 * does not use. A key that is neither is reported once; one within two edits of a read key is
 * taken for a typo and stops the start (`sasl.pasword` must not silently mean "no password").
 */
export const KAFKA_KEYS = [
  'bootstrap.servers',
  'security.protocol',
  'sasl.mechanism',
  'sasl.mechanisms',
  'sasl.username',
  'sasl.password',
  'sasl.jaas.config',
  'darooghe.sasl.oauthbearer.token',
  'ssl.ca.location',
  'ssl.certificate.location',
  'ssl.key.location',
  'ssl.endpoint.identification.algorithm',
  'client.id',
  'compression.type',
  'compression.codec',
  'darooghe.kafka.data.path'
] as const

export type KafkaKey = (typeof KAFKA_KEYS)[number]

/** Keys that change how to connect, which Darooghe cannot honour: a warning says what happens instead. */
export const IGNORED_WITH_ADVICE: Readonly<Record<string, string>> = {
  'ssl.truststore.location':
    'Java keystores are not read; the system CAs are trusted (for a private CA, export it to PEM and set ssl.ca.location)',
  'ssl.truststore.password': 'Java keystores are not read',
  'ssl.truststore.type': 'Java keystores are not read',
  'ssl.keystore.location':
    'Java keystores are not read (export the client certificate and key to PEM: ssl.certificate.location, ssl.key.location)',
  'ssl.keystore.password': 'Java keystores are not read',
  'ssl.keystore.type': 'Java keystores are not read',
  'ssl.key.password':
    'encrypted keys are not supported (decrypt it: openssl pkey -in key.pem -out plain.pem)',
  'enable.ssl.certificate.verification': 'the broker certificate is always verified',
  'sasl.kerberos.service.name': 'GSSAPI (Kerberos) is not supported'
}

/**
 * Well-known keys of the Java client and librdkafka that Darooghe has no use for (producer and
 * consumer tuning; each command sets its own). They are reported as ignored, never as typos,
 * even when close to a key above (`ssl.crl.location` is two edits from `ssl.ca.location`).
 */
export const KNOWN_UNUSED: ReadonlySet<string> = new Set([
  'acks',
  'api.version.request',
  'auto.commit.interval.ms',
  'auto.offset.reset',
  'basic.auth.credentials.source',
  'basic.auth.user.info',
  'batch.num.messages',
  'batch.size',
  'broker.address.family',
  'client.dns.lookup',
  'client.rack',
  'compression.level',
  'connections.max.idle.ms',
  'debug',
  'default.api.timeout.ms',
  'delivery.timeout.ms',
  'enable.auto.commit',
  'enable.idempotence',
  'fetch.max.bytes',
  'fetch.min.bytes',
  'group.id',
  'group.instance.id',
  'heartbeat.interval.ms',
  'isolation.level',
  'key.deserializer',
  'key.serializer',
  'linger.ms',
  'log_level',
  'max.in.flight.requests.per.connection',
  'max.poll.interval.ms',
  'max.poll.records',
  'max.request.size',
  'message.max.bytes',
  'metadata.max.age.ms',
  'queue.buffering.max.ms',
  'receive.buffer.bytes',
  'reconnect.backoff.max.ms',
  'reconnect.backoff.ms',
  'request.timeout.ms',
  'retries',
  'retry.backoff.ms',
  'sasl.client.callback.handler.class',
  'sasl.login.callback.handler.class',
  'sasl.oauthbearer.config',
  'sasl.oauthbearer.method',
  'sasl.oauthbearer.client.id',
  'sasl.oauthbearer.client.secret',
  'sasl.oauthbearer.token.endpoint.url',
  'sasl.oauthbearer.scope',
  'schema.registry.url',
  'send.buffer.bytes',
  'session.timeout.ms',
  'socket.keepalive.enable',
  'ssl.cipher.suites',
  'ssl.crl.location',
  'ssl.enabled.protocols',
  'ssl.protocol',
  'statistics.interval.ms',
  'topic.metadata.refresh.interval.ms',
  'value.deserializer',
  'value.serializer'
])

/** Optimal string alignment distance (Levenshtein plus swapped neighbours), capped: enough for typos. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0))
  )
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

/** The read key a mistyped one most likely meant (within two edits), if any. */
export function didYouMean(key: string): KafkaKey | undefined {
  let best: KafkaKey | undefined
  let bestDistance = 3
  for (const k of KAFKA_KEYS) {
    const distance = editDistance(key.toLowerCase(), k)
    if (distance < bestDistance) [best, bestDistance] = [k, distance]
  }
  return best
}
