/**
 * Darooghe's Kafka adapters over the broker's SASL_SSL listener (scripts/services.sh), side by
 * side with kcat and the Java client reading the same client file; and the one-line fatal
 * errors of each way a secured connection can be set up wrong.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { connect as tlsConnect, rootCertificates } from 'node:tls'
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import { promisify } from 'node:util'
import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import type { KafkaConnection } from '../../src/adapters/kafka/options.ts'
import { tlsOptions } from '../../src/adapters/kafka/security.ts'
import { DaroogheError } from '../../src/errors.ts'
import { silentLogger } from '../../src/logger.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { javaSecureClient } from '../helpers/java-client.ts'
import {
  KAFKA_BROKERS,
  KAFKA_SASL_SSL,
  KAFKA_SASL_SSL_CLIENT_FILE,
  uniqueName,
  waitFor
} from '../helpers/services.ts'

const run = promisify(execFile)

/** The client file as Java's Properties reads it (a lone CR ends a line too). */
function clientFile(): Map<string, string> {
  if (!existsSync(KAFKA_SASL_SSL_CLIENT_FILE)) {
    throw new Error(
      `no ${KAFKA_SASL_SSL_CLIENT_FILE}: run scripts/services.sh up (it adds the SASL_SSL listener), ` +
        'or point KAFKA_SASL_SSL and KAFKA_SASL_SSL_CLIENT_FILE at another one'
    )
  }
  const props = new Map<string, string>()
  for (const line of readFileSync(KAFKA_SASL_SSL_CLIENT_FILE, 'utf8').split(/\r\n|\r|\n/)) {
    const m = /^\s*([^#!\s=][^=]*)=(.*)$/.exec(line)
    if (m) props.set(m[1]!.trim(), m[2]!)
  }
  return props
}

const FILE = clientFile()
const PASSWORD = FILE.get('sasl.password')!
const CA = readFileSync(FILE.get('ssl.ca.location')!, 'utf8')

/** What `--kafka-config` makes of the client file (its parser is tested on its own). */
const SECURE: KafkaConnection = Object.freeze({
  brokers: [KAFKA_SASL_SSL],
  clientId: 'security-test',
  tls: { ca: CA, checkHostname: true },
  sasl: { mechanism: 'SCRAM-SHA-512' as const, username: FILE.get('sasl.username')!, password: PASSWORD }
})

async function secureTopic(t: TestContext, prefix: string): Promise<string> {
  const name = uniqueName(`t-${prefix}`)
  const admin = new KafkaLogAdmin(SECURE)
  await admin.createTopics([{ name, partitions: 1 }])
  t.after(async () => {
    try {
      await admin.deleteTopics([name])
    } finally {
      await admin.close()
    }
  })
  return name
}

/** Reads `count` records of `topic` with our consumer, through `conn`, as key=value lines. */
async function readWithOurs(t: TestContext, topic: string, count: number): Promise<string[]> {
  const consumer = new KafkaLogConsumer({ ...SECURE, groupId: uniqueName('g-sec'), topics: [topic] })
  t.after(() => consumer.close())
  const seen: LogRecord[] = []
  const running = consumer.run({ onBatch: async records => void seen.push(...records) })
  await waitFor(() => seen.length >= count, { what: `${count} records of ${topic}`, timeoutMs: 60_000 })
  await consumer.close()
  await running
  return seen.map(r => `${r.key?.toString()}=${r.value?.toString()}`)
}

/**
 * librdkafka before 2.6.1 sends a SCRAM proof Kafka 4 rejects (confluentinc/librdkafka#4895):
 * with such a kcat the same file is used with PLAIN, which the listener also enables.
 */
async function kcatArgs(): Promise<string[]> {
  const { stdout } = await run('kcat', ['-V'])
  const [major, minor, patch] = (/librdkafka (\d+)\.(\d+)\.(\d+)/.exec(stdout) ?? []).slice(1).map(Number)
  const scramWorks = major! > 2 || (major === 2 && (minor! > 6 || (minor === 6 && patch! >= 1)))
  return ['-F', KAFKA_SASL_SSL_CLIENT_FILE, ...(scramWorks ? [] : ['-X', 'sasl.mechanism=PLAIN'])]
}

test('our producer and consumer group over SASL_SSL (SCRAM-SHA-512, the local CA)', async t => {
  const topic = await secureTopic(t, 'sec-ours')
  const producer = new KafkaLogProducer(SECURE)
  t.after(() => producer.close())
  const sent = Array.from({ length: 50 }, (_, i) => `k${i}=v${i}`)
  await producer.send(sent.map(kv => ({ topic, key: kv.split('=')[0]!, value: kv.split('=')[1]! })))
  assert.deepEqual(await readWithOurs(t, topic, sent.length), sent)
})

test('kcat -F on the client file reads what we wrote and writes what we read', async t => {
  const topic = await secureTopic(t, 'sec-kcat')
  const producer = new KafkaLogProducer(SECURE)
  t.after(() => producer.close())
  await producer.send([1, 2, 3].map(i => ({ topic, key: `ours${i}`, value: `from-darooghe-${i}` })))
  const args = await kcatArgs()
  const read = await run(
    'kcat',
    [...args, '-C', '-t', topic, '-o', 'beginning', '-c', '3', '-f', '%k=%s\n'],
    {
      timeout: 60_000
    }
  )
  assert.deepEqual(
    read.stdout.trim().split('\n'),
    [1, 2, 3].map(i => `ours${i}=from-darooghe-${i}`)
  )

  const child = execFile('kcat', [...args, '-P', '-t', topic, '-p', '0', '-K', '='], { timeout: 60_000 })
  const done = new Promise<void>((resolve, reject) =>
    child.on('exit', code => (code === 0 ? resolve() : reject(new Error(`kcat -P exited ${code}`))))
  )
  child.stdin!.end('kcat1=from-kcat-1\nkcat2=from-kcat-2\n')
  await done
  const all = await readWithOurs(t, topic, 5)
  assert.deepEqual(all.slice(3), ['kcat1=from-kcat-1', 'kcat2=from-kcat-2'])
})

test('the Java client on the same client file reads what we wrote and writes what we read', async t => {
  const topic = await secureTopic(t, 'sec-java')
  const producer = new KafkaLogProducer(SECURE)
  t.after(() => producer.close())
  await producer.send([1, 2].map(i => ({ topic, key: `ours${i}`, value: `from-darooghe-${i}` })))
  const read = await javaSecureClient(KAFKA_SASL_SSL_CLIENT_FILE, ['consume', topic, '2'])
  assert.deepEqual(read.trim().split('\n'), ['ours1=from-darooghe-1', 'ours2=from-darooghe-2'])

  await javaSecureClient(KAFKA_SASL_SSL_CLIENT_FILE, [
    'produce',
    topic,
    'java1=from-java-1',
    'java2=from-java-2'
  ])
  const all = await readWithOurs(t, topic, 4)
  assert.deepEqual(all.slice(2), ['java1=from-java-1', 'java2=from-java-2'])
})

test('checkHostname false skips the name check but still verifies the chain', async () => {
  const [host, port] = KAFKA_SASL_SSL.split(':') as [string, string]
  const handshake = (conn: KafkaConnection['tls']): Promise<string> =>
    new Promise(resolve => {
      // A name the broker's certificate does not list.
      const s = tlsConnect({
        ...tlsOptions(conn!),
        host,
        port: Number(port),
        servername: 'not-the-broker.example'
      })
      s.once('secureConnect', () => {
        s.destroy()
        resolve('ok')
      })
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
    })
  assert.equal(await handshake({ ca: CA }), 'ERR_TLS_CERT_ALTNAME_INVALID')
  assert.equal(await handshake({ ca: CA, checkHostname: false }), 'ok')
  assert.equal(
    await handshake({ ca: rootCertificates.join('\n'), checkHostname: false }),
    'SELF_SIGNED_CERT_IN_CHAIN'
  )
})

/** How each mistake must end: a KAFKA_FATAL error whose one line matches, within 20 s. */
const WRONG: readonly { name: string; conn: KafkaConnection; line: RegExp }[] = [
  {
    name: 'a wrong password',
    conn: { ...SECURE, sasl: { ...SECURE.sasl!, password: 'not-the-password' } },
    line: new RegExp(
      `SASL authentication failed at ${KAFKA_SASL_SSL} \\(SCRAM-SHA-512, user 'darooghe'\\).*sasl.password`
    )
  },
  {
    name: 'an untrusted CA',
    conn: { ...SECURE, tls: { ca: rootCertificates.join('\n') } },
    line: new RegExp(
      `TLS at ${KAFKA_SASL_SSL}: the broker's certificate chain is not trusted .*ssl.ca.location`
    )
  },
  {
    name: 'a plaintext SASL client on the TLS port',
    conn: { brokers: SECURE.brokers, sasl: SECURE.sasl! },
    line: new RegExp(
      `Kafka at ${KAFKA_SASL_SSL} speaks TLS, but security.protocol is SASL_PLAINTEXT.*SASL_SSL`
    )
  },
  {
    name: 'a plaintext client on the TLS port',
    conn: { brokers: SECURE.brokers },
    line: new RegExp(`Kafka at ${KAFKA_SASL_SSL} speaks TLS, but security.protocol is PLAINTEXT`)
  },
  {
    name: 'a TLS client on the plaintext port',
    conn: { ...SECURE, brokers: KAFKA_BROKERS },
    line: new RegExp(`Kafka at ${KAFKA_BROKERS[0]} does not speak TLS .*security.protocol is SASL_SSL`)
  },
  {
    name: 'a mechanism the broker does not enable',
    conn: { ...SECURE, sasl: { ...SECURE.sasl!, mechanism: 'SCRAM-SHA-256' } },
    line: new RegExp(
      `Kafka at ${KAFKA_SASL_SSL} does not enable the SASL mechanism SCRAM-SHA-256 \\(it offers SCRAM-SHA-512, PLAIN\\)`
    )
  }
]

for (const w of WRONG) {
  test(`${w.name}: one fatal line naming the listener and the fix, no endless retry`, async t => {
    // Retry for ever: only an error classified fatal ends the send.
    const producer = new KafkaLogProducer({
      ...w.conn,
      clientId: 'security-wrong',
      resilience: { policy: { retryForMs: Number.POSITIVE_INFINITY }, log: silentLogger }
    })
    t.after(() => producer.close())
    const started = Date.now()
    const outcome = await Promise.race([
      producer.send([{ topic: uniqueName('t-sec-wrong'), key: 'k', value: 'v' }]).then(
        () => new Error('the send succeeded'),
        (e: unknown) => e
      ),
      new Promise<Error>(resolve =>
        setTimeout(() => resolve(new Error('still retrying after 20 s')), 20_000).unref()
      )
    ])
    assert.ok(outcome instanceof DaroogheError, String(outcome))
    assert.equal(outcome.kind, 'KAFKA_FATAL', outcome.message)
    assert.match(outcome.message, w.line)
    assert.ok(!outcome.message.includes('\n'), 'one line')
    assert.ok(!outcome.message.includes(PASSWORD), 'the password never appears')
    assert.ok(Date.now() - started < 20_000)
  })
}

test('the consumer group ends on a refused password too, with the same line', async t => {
  const consumer = new KafkaLogConsumer({
    ...SECURE,
    sasl: { ...SECURE.sasl!, password: 'not-the-password' },
    groupId: uniqueName('g-sec-wrong'),
    topics: [uniqueName('t-sec-wrong')],
    resilience: { policy: { retryForMs: Number.POSITIVE_INFINITY }, log: silentLogger }
  })
  t.after(() => consumer.close())
  const outcome = await Promise.race([
    consumer.run({ onBatch: async () => {} }).then(
      () => new Error('the consumer ended without an error'),
      (e: unknown) => e
    ),
    new Promise<Error>(resolve =>
      setTimeout(() => resolve(new Error('still retrying after 20 s')), 20_000).unref()
    )
  ])
  assert.ok(outcome instanceof DaroogheError, String(outcome))
  assert.equal(outcome.kind, 'KAFKA_FATAL')
  assert.match(
    outcome.message,
    new RegExp(`SASL authentication failed at ${KAFKA_SASL_SSL} \\(SCRAM-SHA-512`)
  )
  assert.ok(!outcome.message.includes(PASSWORD))
})
