import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  checkDecisionAccess,
  decisionSettingsFrom,
  decisionsFrom,
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
  assert.ok(isLoopback('127.0.0.1') && isLoopback('localhost') && isLoopback('::1'))
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('10.0.0.5'))
  assert.throws(() => checkDecisionAccess({}, {}, '0.0.0.0'), /--token \(or --insecure/)
  checkDecisionAccess({}, {}, '127.0.0.1')
  assert.throws(
    () => decisionSettingsFrom({ replyTopic: 'no spaces' }, {}),
    /--reply-topic must be a topic name/
  )
  assert.throws(() => decisionSettingsFrom({ decisionTimeout: 'soon' }, {}), /--decision-timeout/)
  assert.equal(decisionSettingsFrom({}, { TRANSACTIONS_TOPIC: 'tx' }).topic, 'tx')
  for (const flags of [{ token: 's' }, { insecure: true }]) {
    checkDecisionAccess(flags, {}, '0.0.0.0')
    const settings = decisionSettingsFrom(flags, {})
    const d = await decisionsFrom(settings, {
      kafka: { brokers: ['127.0.0.1:1'] },
      redis: null,
      log: silentLogger,
      resilience: { policy: {}, log: silentLogger }
    })
    assert.match(d.describe, /darooghe\.transactions.*darooghe\.decisions\.replies.*2000 ms.*in this process/)
    await d.service.close()
  }
})
