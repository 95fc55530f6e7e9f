import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { runCli } from '../helpers/cli.ts'

const PASSWORD = 'Hunter2-sekret!'
const dir = mkdtempSync(join(tmpdir(), 'darooghe-config-cli-'))
const CA = join(dir, 'ca.pem')
const KEY = join(dir, 'client.key')
const CERT = join(dir, 'client.pem')
writeFileSync(CA, '-----BEGIN CERTIFICATE-----\nMIIBfakeCA\n-----END CERTIFICATE-----\n')
writeFileSync(CERT, '-----BEGIN CERTIFICATE-----\nMIIBfakeCERT\n-----END CERTIFICATE-----\n')
writeFileSync(KEY, '-----BEGIN PRIVATE KEY-----\nMIIBfakeKEYbytes\n-----END PRIVATE KEY-----\n')
const PROPS = join(dir, 'client.properties')
writeFileSync(
  PROPS,
  [
    '# a self-hosted cluster',
    'bootstrap.servers=127.0.0.1:1',
    'security.protocol=SASL_SSL',
    'sasl.mechanism=SCRAM-SHA-512',
    'sasl.username=darooghe',
    `sasl.password=${PASSWORD}`,
    `ssl.ca.location=${CA}`,
    `ssl.certificate.location=${CERT}`,
    `ssl.key.location=${KEY}`,
    'acks=all',
    'linger.ms=5',
    'acks=1'
  ].join('\n')
)
// Only the Kafka settings of the environment: the test must not depend on the caller's.
const ENV = {
  DAROOGHE_BROKERS: '',
  KAFKA_BROKER_URL: '',
  DAROOGHE_KAFKA_CONFIG: '',
  DAROOGHE_REDIS: '',
  REDIS_URL: ''
}

function noSecret(out: string): void {
  assert.ok(!out.includes(PASSWORD), `the password leaked:\n${out}`)
  assert.ok(!out.includes('fakeKEY'), `the key leaked:\n${out}`)
}

test('config print --kafka-config F --json: values, sources, masking; each unknown key warned once', async () => {
  const r = await runCli(['config', 'print', '--kafka-config', PROPS, '--json'], { env: ENV })
  assert.equal(r.code, 0, r.stderr)
  noSecret(r.stdout + r.stderr)
  const report = JSON.parse(r.stdout)
  assert.equal(report.command, null)
  const kafka = report.connections.kafka
  assert.deepEqual(kafka['bootstrap.servers'], { value: '127.0.0.1:1', source: `${PROPS}:2` })
  assert.deepEqual(kafka['security.protocol'], { value: 'SASL_SSL', source: `${PROPS}:3` })
  assert.deepEqual(kafka['sasl.password'], { value: '***', source: `${PROPS}:6` })
  assert.deepEqual(kafka['ssl.key.location'], { value: KEY, source: `${PROPS}:9` })
  assert.deepEqual(kafka['kafka-config'], { value: PROPS, source: 'flag --kafka-config' })
  assert.deepEqual(report.connections.redis.url, { value: 'redis://127.0.0.1:6379', source: 'default' })
  const warnings = r.stderr.trim().split('\n')
  assert.deepEqual(warnings, [
    `darooghe: warning: kafka config ${PROPS}:10: ignoring property 'acks' (Darooghe does not use it)`,
    `darooghe: warning: kafka config ${PROPS}:11: ignoring property 'linger.ms' (Darooghe does not use it)`
  ])
})

test('config print COMMAND: flags over env over the file, and the command settings with sources', async () => {
  const r = await runCli(
    [
      'config',
      'print',
      'detect',
      '--kafka-config',
      PROPS,
      '--redis',
      `rediss://u:${PASSWORD}@127.0.0.1:6380`,
      '--redis-ca',
      CA,
      '--alert-threshold',
      '70'
    ],
    { env: { ...ENV, DAROOGHE_BROKERS: 'env-broker:9092', LOG_LEVEL: 'warn' } }
  )
  assert.equal(r.code, 0, r.stderr)
  noSecret(r.stdout + r.stderr)
  const line = (name: string) =>
    r.stdout
      .split('\n')
      .find(l => l.trim().startsWith(`${name} `))
      ?.trim()
  assert.match(line('bootstrap.servers')!, /^bootstrap\.servers\s+env-broker:9092\s+env DAROOGHE_BROKERS$/)
  assert.match(line('sasl.password')!, new RegExp(`^sasl\\.password\\s+\\*\\*\\*\\s+${PROPS}:6$`))
  assert.match(line('url')!, /^url\s+rediss:\/\/u:\*\*\*@127\.0\.0\.1:6380\s+flag --redis$/)
  assert.match(line('log-level')!, /^log-level\s+warn\s+env LOG_LEVEL$/)
  assert.match(line('--alert-threshold')!, /^--alert-threshold\s+70\s+flag --alert-threshold$/)
  assert.match(line('--allowed-lateness')!, /^--allowed-lateness\s+30s\s+default$/)
  assert.match(r.stdout, /^detect$/m)
})

test('a mistyped property stops the start with one line naming the file, the line and the key', async () => {
  const typo = join(dir, 'typo.properties')
  writeFileSync(
    typo,
    `security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=u\nsasl.pasword=${PASSWORD}\n`
  )
  for (const args of [
    ['config', 'print', '--kafka-config', typo],
    ['produce', '--kafka-config', typo]
  ]) {
    const r = await runCli(args, { env: ENV })
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '')
    assert.equal(
      r.stderr,
      `darooghe: kafka config ${typo}:4: unknown property 'sasl.pasword': did you mean 'sasl.password'?\n`
    )
  }
})

test('secrets stay out of every output of a failing connection attempt', async () => {
  const [kafka, redis] = await Promise.all([
    runCli(
      ['produce', '--kafka-config', PROPS, '--retry-for', '1s', '--count', '1', '--log-level', 'debug'],
      {
        env: ENV
      }
    ),
    runCli(
      [
        'detect',
        '--kafka-config',
        PROPS,
        '--redis',
        `rediss://darooghe:${PASSWORD}@127.0.0.1:1`,
        '--redis-ca',
        CA,
        '--retry-for',
        '1s',
        '--log-level',
        'debug'
      ],
      { env: ENV }
    )
  ])
  assert.equal(kafka.code, 1)
  assert.match(kafka.stderr, /darooghe: .*kafka unavailable/)
  assert.equal(redis.code, 1)
  assert.match(
    redis.stderr,
    /darooghe: connect to Redis at rediss:\/\/darooghe:\*\*\*@127\.0\.0\.1:1: redis unavailable/
  )
  for (const r of [kafka, redis]) noSecret(r.stdout + r.stderr)
})
