import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  decisionsFromFlags,
  decisionTimeoutFrom,
  decisionTtlFrom,
  isLoopback
} from '../../src/cli/commands/serve-decisions.ts'
import { silentLogger } from '../../src/logger.ts'

test('--decision-timeout is a duration from 1 ms to 5 minutes, 2 s by default', () => {
  assert.equal(decisionTimeoutFrom(undefined), 2_000)
  assert.equal(decisionTimeoutFrom('500ms'), 500)
  assert.equal(decisionTimeoutFrom('3s'), 3_000)
  for (const bad of ['abc', '0', '10m', '-1s', ''])
    assert.throws(() => decisionTimeoutFrom(bad), /--decision-timeout/, bad)
  assert.equal(decisionTtlFrom(undefined), 3_600_000)
  assert.throws(() => decisionTtlFrom('10ms'), /--decision-ttl/)
})

test('decisions beyond loopback need --token or --insecure; bad topic names are refused', async () => {
  const o = {
    brokers: ['127.0.0.1:1'],
    redisUrl: null,
    log: silentLogger,
    resilience: { policy: {}, log: silentLogger }
  }
  assert.ok(isLoopback('127.0.0.1') && isLoopback('localhost') && isLoopback('::1'))
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('10.0.0.5'))
  await assert.rejects(decisionsFromFlags({}, {}, { ...o, host: '0.0.0.0' }), /--token \(or --insecure/)
  await assert.rejects(
    decisionsFromFlags({ replyTopic: 'no spaces' }, {}, { ...o, host: '127.0.0.1' }),
    /--reply-topic must be a topic name/
  )
  for (const flags of [{ token: 's' }, { insecure: true }]) {
    const d = await decisionsFromFlags(flags, {}, { ...o, host: '0.0.0.0' })
    assert.match(d.describe, /darooghe\.transactions.*darooghe\.decisions\.replies.*2000 ms.*in this process/)
    await d.service.close()
  }
})
