import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { kafkaConfigFrom, redisConfigFrom, mongoConfigFrom } from '../../src/config/connections.ts'
import { loadConfig } from '../../src/config/load.ts'
import { configReport, reportJson, reportText } from '../../src/config/print.ts'
import { DaroogheError } from '../../src/errors.ts'

const dir = mkdtempSync(join(tmpdir(), 'darooghe-config-'))
const PASSWORD = 'Hunter2-sekret!'
const CA = '-----BEGIN CERTIFICATE-----\nMIIBfakeCA\n-----END CERTIFICATE-----\n'
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBfakeCERT\n-----END CERTIFICATE-----\n'
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIBfakeKEYsecretbytes\n-----END PRIVATE KEY-----\n'
writeFileSync(join(dir, 'ca.pem'), CA)
writeFileSync(join(dir, 'client.pem'), CERT)
writeFileSync(join(dir, 'client.key'), KEY)
writeFileSync(join(dir, 'ca.der'), Buffer.from([0x30, 0x82, 0x01, 0x0a]))

let n = 0
/** Writes a properties file and returns its path. */
function file(text: string, name = `f${++n}.properties`): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

function collect(): { warn: (l: string) => void; lines: string[] } {
  const lines: string[] = []
  return { warn: l => void lines.push(l), lines }
}

const source = (settings: readonly { name: string; source: string }[], name: string) =>
  settings.find(s => s.name === name)?.source

test('precedence: flag over env over file over default, each with its source label', () => {
  const path = file('# cluster\nbootstrap.servers=file:9092\n', 'client.properties')
  const { warn } = collect()
  const all = kafkaConfigFrom(
    { brokers: 'flag:9092', kafkaConfig: path },
    { DAROOGHE_BROKERS: 'env:9092' },
    warn
  )
  assert.deepEqual(all.connection.brokers, ['flag:9092'])
  assert.equal(source(all.settings, 'bootstrap.servers'), 'flag --brokers')

  const env = kafkaConfigFrom({ kafkaConfig: path }, { DAROOGHE_BROKERS: 'env:9092' }, warn)
  assert.deepEqual(env.connection.brokers, ['env:9092'])
  assert.equal(source(env.settings, 'bootstrap.servers'), 'env DAROOGHE_BROKERS')
  const legacy = kafkaConfigFrom({ kafkaConfig: path }, { KAFKA_BROKER_URL: 'PLAINTEXT://old:9092' }, warn)
  assert.deepEqual(legacy.connection.brokers, ['old:9092'])

  const fromFile = kafkaConfigFrom({ kafkaConfig: path }, {}, warn)
  assert.deepEqual(fromFile.connection.brokers, ['file:9092'])
  assert.equal(source(fromFile.settings, 'bootstrap.servers'), `${path}:2`)
  assert.equal(fromFile.named, true)

  const viaEnvFile = kafkaConfigFrom({}, { DAROOGHE_KAFKA_CONFIG: path }, warn)
  assert.deepEqual(viaEnvFile.connection.brokers, ['file:9092'])
  assert.equal(source(viaEnvFile.settings, 'kafka-config'), 'env DAROOGHE_KAFKA_CONFIG')
  // The flag names the file over the environment.
  const other = file('bootstrap.servers=other:1\n')
  assert.deepEqual(
    kafkaConfigFrom({ kafkaConfig: other }, { DAROOGHE_KAFKA_CONFIG: path }, warn).connection.brokers,
    ['other:1']
  )

  const none = kafkaConfigFrom({}, {}, warn)
  assert.deepEqual(none.connection, { brokers: ['127.0.0.1:9092'] })
  assert.equal(source(none.settings, 'bootstrap.servers'), 'default')
  assert.equal(none.named, false)
})

test('Confluent Cloud style: SASL_SSL PLAIN through sasl.jaas.config, system CAs, host names checked', () => {
  const path = file(
    [
      'bootstrap.servers=pkc-abc.eu-west-1.aws.confluent.cloud:9092',
      'security.protocol=sasl_ssl',
      'sasl.mechanisms=PLAIN',
      `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='x' \\`,
      `   username="APIKEY" password="${PASSWORD}";`,
      'session.timeout.ms=45000',
      'client.dns.lookup=use_all_dns_ips',
      'acks=all',
      'acks=1'
    ].join('\n')
  )
  const { warn, lines } = collect()
  const k = kafkaConfigFrom({ kafkaConfig: path }, {}, warn)
  assert.deepEqual(k.connection, {
    brokers: ['pkc-abc.eu-west-1.aws.confluent.cloud:9092'],
    tls: { checkHostname: true },
    sasl: { mechanism: 'PLAIN', username: 'APIKEY', password: PASSWORD }
  })
  assert.equal(source(k.settings, 'sasl.password'), `${path}:4 (sasl.jaas.config)`)
  // Each unknown key once, by name, however often it appears.
  assert.equal(lines.length, 3)
  assert.equal(lines.filter(l => l.includes("'acks'")).length, 1)
  assert.match(lines[0]!, /:6: ignoring property 'session\.timeout\.ms'/)
})

test('MSK style: SASL_SSL SCRAM-SHA-512 from sasl.jaas.config; explicit keys win over it', () => {
  const jaas = `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="msk" password="${PASSWORD}";`
  const path = file(
    `security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n${jaas}\nssl.truststore.location=/tmp/kafka.client.truststore.jks\n`
  )
  const { warn, lines } = collect()
  const k = kafkaConfigFrom({ brokers: 'b-1.msk:9096', kafkaConfig: path }, {}, warn)
  assert.deepEqual(k.connection.sasl, { mechanism: 'SCRAM-SHA-512', username: 'msk', password: PASSWORD })
  assert.match(
    lines[0]!,
    /'ssl\.truststore\.location' is ignored: Java keystores are not read; the system CAs are trusted/
  )
  const explicit = file(
    `security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-256\nsasl.username=other\n${jaas}\n`
  )
  assert.deepEqual(kafkaConfigFrom({ kafkaConfig: explicit }, {}, warn).connection.sasl, {
    mechanism: 'SCRAM-SHA-256',
    username: 'other',
    password: PASSWORD
  })
})

test('self-hosted SASL_SSL: CA, client certificate and key are read as PEM text; no host-name check', () => {
  const path = file(
    [
      'bootstrap.servers=kafka-1.internal:9093,kafka-2.internal:9093',
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-256',
      'sasl.username=darooghe',
      `sasl.password=${PASSWORD}`,
      `ssl.ca.location=${join(dir, 'ca.pem')}`,
      `ssl.certificate.location=${join(dir, 'client.pem')}`,
      `ssl.key.location=${join(dir, 'client.key')}`,
      'ssl.endpoint.identification.algorithm=',
      'client.id=fraud-team',
      'compression.type=zstd',
      'darooghe.kafka.data.path=library'
    ].join('\n')
  )
  const k = kafkaConfigFrom({ kafkaConfig: path }, {}, () => {})
  assert.deepEqual(k.connection, {
    brokers: ['kafka-1.internal:9093', 'kafka-2.internal:9093'],
    clientId: 'fraud-team',
    tls: { ca: CA, cert: CERT, key: KEY, checkHostname: false },
    sasl: { mechanism: 'SCRAM-SHA-256', username: 'darooghe', password: PASSWORD },
    compression: 'zstd',
    dataPath: 'library'
  })
  const shown = JSON.stringify(k.settings)
  assert.ok(!shown.includes(PASSWORD) && !shown.includes('fakeKEY') && !shown.includes('fakeCA'))
  assert.ok(shown.includes(join(dir, 'client.key')))
  assert.equal(k.settings.find(s => s.name === 'ssl.endpoint.identification.algorithm')?.value, 'none')
  // librdkafka's compression.codec and 'none' as the host-name algorithm.
  const codec = file(
    'compression.codec=LZ4\nsecurity.protocol=SSL\nssl.endpoint.identification.algorithm=none\n'
  )
  const c = kafkaConfigFrom({ kafkaConfig: codec }, {}, () => {})
  assert.equal(c.connection.compression, 'lz4')
  assert.deepEqual(c.connection.tls, { checkHostname: false })
})

test('SASL credentials from the environment win over the file', () => {
  const path = file('security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-256\nsasl.username=file-user\n')
  const k = kafkaConfigFrom(
    { kafkaConfig: path },
    { DAROOGHE_KAFKA_USERNAME: 'env-user', DAROOGHE_KAFKA_PASSWORD: PASSWORD },
    () => {}
  )
  assert.deepEqual(k.connection.sasl, {
    mechanism: 'SCRAM-SHA-256',
    username: 'env-user',
    password: PASSWORD
  })
  assert.equal(source(k.settings, 'sasl.username'), 'env DAROOGHE_KAFKA_USERNAME')
  assert.equal(source(k.settings, 'sasl.password'), 'env DAROOGHE_KAFKA_PASSWORD')
  const oauth = file('security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\n')
  assert.deepEqual(
    kafkaConfigFrom({ kafkaConfig: oauth }, { DAROOGHE_KAFKA_TOKEN: 'tok' }, () => {}).connection.sasl,
    {
      mechanism: 'OAUTHBEARER',
      token: 'tok'
    }
  )
  const plain = file('bootstrap.servers=h:1\n')
  assert.throws(
    () => kafkaConfigFrom({ kafkaConfig: plain }, { DAROOGHE_KAFKA_PASSWORD: PASSWORD }, () => {}),
    (e: Error) =>
      e.message ===
      `kafka config ${plain}: DAROOGHE_KAFKA_PASSWORD is set but security.protocol=PLAINTEXT does not use SASL: set security.protocol=SASL_SSL (or SASL_PLAINTEXT), or unset DAROOGHE_KAFKA_PASSWORD`
  )
  assert.throws(
    () => kafkaConfigFrom({}, { DAROOGHE_KAFKA_PASSWORD: PASSWORD }, () => {}),
    /no --kafka-config/
  )
})

/** Asserts the configuration is refused with exactly this one-line message. */
function refused(text: string, message: string | RegExp, flags: Record<string, string> = {}): void {
  const path = file(text, 'client.properties')
  assert.throws(
    () => kafkaConfigFrom({ kafkaConfig: path, ...flags }, {}, () => {}),
    (e: unknown) => {
      assert.ok(e instanceof DaroogheError)
      assert.ok(!e.message.includes('\n'), e.message)
      assert.ok(!e.message.includes(PASSWORD), e.message)
      if (typeof message === 'string') assert.equal(e.message, message.replaceAll('F:', `${path}:`))
      else assert.match(e.message, message)
      return true
    }
  )
}

test('a key two edits from a known one is an error naming the line and the likely key', () => {
  refused(
    `bootstrap.servers=h:1\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.pasword=${PASSWORD}\n`,
    "kafka config F:4: unknown property 'sasl.pasword': did you mean 'sasl.password'?"
  )
  refused(
    'bootstrap.server=h:1\n',
    "kafka config F:1: unknown property 'bootstrap.server': did you mean 'bootstrap.servers'?"
  )
  refused('Security.Protocol=SSL\n', /did you mean 'security\.protocol'\?/)
  // A real librdkafka key close to one of ours is not a typo.
  const { warn, lines } = collect()
  kafkaConfigFrom({ kafkaConfig: file('ssl.crl.location=/x\n') }, {}, warn)
  assert.match(lines[0]!, /ignoring property 'ssl\.crl\.location'/)
})

test('invalid combinations are one-line errors with the fix', () => {
  refused(
    'security.protocol=SASL_SSL\n',
    'kafka config F:1: security.protocol=SASL_SSL needs sasl.mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER)'
  )
  refused(
    'security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=u\n',
    'kafka config F:2: sasl.mechanism=PLAIN needs a password: set sasl.password (or password="..." in sasl.jaas.config)'
  )
  refused(
    `security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.password=${PASSWORD}\n`,
    /needs a user name/
  )
  refused(
    `sasl.mechanism=PLAIN\nsasl.username=u\nsasl.password=${PASSWORD}\n`,
    'kafka config F:1: sasl.mechanism is set but security.protocol=PLAINTEXT does not use SASL: set security.protocol=SASL_SSL (or SASL_PLAINTEXT)'
  )
  refused(
    `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.username=u\nsasl.password=${PASSWORD}\nssl.ca.location=${join(dir, 'ca.pem')}\n`,
    'kafka config F:5: ssl.ca.location is set but security.protocol=SASL_PLAINTEXT does not use TLS: set security.protocol=SSL or SASL_SSL'
  )
  refused(
    'security.protocol=TLS\n',
    "kafka config F:1: security.protocol must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL (got 'TLS')"
  )
  refused('security.protocol=SASL_SSL\nsasl.mechanism=GSSAPI\n', /GSSAPI \(Kerberos\) is not supported/)
  refused(
    'security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\n',
    /needs darooghe\.sasl\.oauthbearer\.token/
  )
  refused(
    'compression.type=brotli\n',
    /compression\.type must be one of none, gzip, snappy, lz4, zstd \(got 'brotli'\)/
  )
  refused('darooghe.kafka.data.path=fast\n', /must be one of direct, library/)
  refused(
    `security.protocol=SSL\nssl.certificate.location=${join(dir, 'client.pem')}\n`,
    /needs ssl\.key\.location too/
  )
  refused(
    `security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="${PASSWORD}";\n`,
    'kafka config F:3: sasl.jaas.config uses the PLAIN login module but sasl.mechanism is SCRAM-SHA-512: make them agree'
  )
  refused(
    `security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.jaas.config=PlainLoginModule required username="u" password="${PASSWORD};\n`,
    /sasl\.jaas\.config cannot be read: an option is not name="value"/
  )
  refused(
    'bootstrap.servers=nohostport\n',
    "kafka config F:1: bootstrap.servers: broker 'nohostport' is not host:port (e.g. 127.0.0.1:9092)"
  )
  refused('bootstrap.servers=ok:1\n', "--brokers: broker 'bad' is not host:port (e.g. 127.0.0.1:9092)", {
    brokers: 'bad'
  })
})

test('certificate files: a missing or non-PEM file names the property, the path and the fix', () => {
  refused(
    'security.protocol=SSL\nssl.ca.location=/nonexistent/ca.pem\n',
    "kafka config F:2: ssl.ca.location: cannot read '/nonexistent/ca.pem' (ENOENT): give the path of a readable CA certificate PEM file"
  )
  refused(
    `security.protocol=SSL\nssl.ca.location=${join(dir, 'ca.der')}\n`,
    /ssl\.ca\.location: '.*ca\.der' is not PEM \(no -----BEGIN line\): convert it, e\.g\. openssl x509 -inform der/
  )
  refused('security.protocol=SSL\nssl.ca.location=\n', /ssl\.ca\.location is empty/)
})

test('redis: rediss:// with --redis-ca (or DAROOGHE_REDIS_CA) reads the CA; the password is masked', () => {
  const url = `rediss://darooghe:${PASSWORD}@redis.internal:6380`
  const r = redisConfigFrom({ redis: url, redisCa: join(dir, 'ca.pem') }, {})
  assert.deepEqual(r.connection, { url, ca: CA })
  assert.deepEqual(r.settings, [
    { name: 'url', value: 'rediss://darooghe:***@redis.internal:6380', source: 'flag --redis' },
    { name: 'ca', value: join(dir, 'ca.pem'), source: 'flag --redis-ca' }
  ])
  const fromEnv = redisConfigFrom({}, { DAROOGHE_REDIS: url, DAROOGHE_REDIS_CA: join(dir, 'ca.pem') })
  assert.equal(fromEnv.connection.ca, CA)
  assert.equal(fromEnv.settings[1]!.source, 'env DAROOGHE_REDIS_CA')
  assert.throws(
    () => redisConfigFrom({ redis: url, redisCa: '/nonexistent/ca.pem' }, {}),
    /^DaroogheError: --redis-ca: cannot read '\/nonexistent\/ca\.pem' \(ENOENT\): give the PEM file of the CA/
  )
  assert.throws(
    () => redisConfigFrom({ redis: `redis://u:${PASSWORD}@h:6379`, redisCa: join(dir, 'ca.pem') }, {}),
    (e: Error) => e.message === "--redis-ca is for TLS: give a rediss:// URL (got 'redis://u:***@h:6379')"
  )
  assert.throws(
    () => redisConfigFrom({ redis: `http://u:${PASSWORD}@h` }, {}),
    (e: Error) => e.message === "--redis must be a URL like redis://127.0.0.1:6379 (got 'http://u:***@h')"
  )
})

test('mongo: the driver options pass through untouched; the password is masked in what is shown', () => {
  const url = `mongodb+srv://app:${PASSWORD}@cluster0.example.net/darooghe?tls=true&tlsCAFile=/etc/ca.pem&authSource=admin&replicaSet=rs0`
  const m = mongoConfigFrom({}, { DAROOGHE_MONGO: url })
  assert.equal(m.url, url)
  assert.deepEqual(m.settings, [
    {
      name: 'url',
      value:
        'mongodb+srv://app:***@cluster0.example.net/darooghe?tls=true&tlsCAFile=/etc/ca.pem&authSource=admin&replicaSet=rs0',
      source: 'env DAROOGHE_MONGO'
    }
  ])
})

test('loadConfig: one deeply frozen configuration; the report masks every secret', () => {
  const path = file(
    `bootstrap.servers=h:9093\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=u\nsasl.password=${PASSWORD}\nssl.key.location=${join(dir, 'client.key')}\nssl.certificate.location=${join(dir, 'client.pem')}\n`
  )
  const config = loadConfig(
    {
      kafkaConfig: path,
      redis: `rediss://u:${PASSWORD}@r:6380`,
      mongo: `mongodb://u:${PASSWORD}@m:27017/?authSource=admin`,
      retryFor: '30s'
    },
    { LOG_LEVEL: 'debug' },
    ['kafka', 'redis', 'mongo'],
    () => {}
  )
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.kafka!.connection.sasl))
  assert.ok(
    Object.isFrozen(config.kafka!.connection.brokers) && Object.isFrozen(config.kafka!.connection.tls)
  )
  assert.throws(() => {
    ;(config.kafka!.connection.brokers as string[]).push('x:1')
  }, TypeError)
  assert.equal(config.logLevel, 'debug')
  assert.equal(config.retry.retryForMs, 30_000)
  assert.deepEqual(config.settings, [
    { name: 'log-level', value: 'debug', source: 'env LOG_LEVEL' },
    { name: 'retry-for', value: '30s', source: 'flag --retry-for' }
  ])
  const report = configReport(config, null)
  for (const out of [reportJson(report), reportText(report)]) {
    assert.ok(!out.includes(PASSWORD), out)
    assert.ok(!out.includes('fakeKEY'), out)
    assert.match(out, /\*\*\*/)
  }
  assert.equal(JSON.parse(reportJson(report)).connections.kafka['sasl.password'].value, '***')
  // Services a command does not use are absent.
  assert.deepEqual(Object.keys(loadConfig({}, {}, ['kafka'], () => {})), [
    'kafka',
    'logLevel',
    'retry',
    'settings'
  ])
})

test('a Java truststore beside ssl.ca.location says nothing; alone, it is warned about with the fix', () => {
  const shared = collect()
  const ca = join(dir, 'ca.pem')
  kafkaConfigFrom(
    {
      kafkaConfig: file(
        `security.protocol=SSL\nssl.ca.location=${ca}\n#\rssl.truststore.type=PEM\n#\rssl.truststore.location=${ca}\n`
      )
    },
    {},
    shared.warn
  )
  assert.deepEqual(shared.lines, [])
  const alone = collect()
  kafkaConfigFrom(
    { kafkaConfig: file(`security.protocol=SSL\nssl.truststore.location=${ca}\n`) },
    {},
    alone.warn
  )
  assert.equal(alone.lines.length, 1)
  assert.match(alone.lines[0]!, /'ssl\.truststore\.location' is ignored: .*set ssl\.ca\.location/)
})
