import assert from 'node:assert/strict'
import { test } from 'node:test'
import { childArgs, workerCount } from '../../src/cli/commands/detect-workers.ts'

test('each worker gets the command line without --workers and its own metrics port', () => {
  const argv = ['detect', '--workers', '3', '--brokers', 'k:9092', '--metrics-port', '9464', '--workers=3']
  assert.deepEqual(childArgs(argv, 0), ['detect', '--brokers', 'k:9092', '--metrics-port', '9464'])
  assert.deepEqual(childArgs(argv, 2), ['detect', '--brokers', 'k:9092', '--metrics-port', '9466'])
})

test('--workers must be an integer from 1 to 16', () => {
  assert.equal(workerCount(undefined), 1)
  assert.equal(workerCount('2'), 2)
  for (const bad of ['0', '17', '1.5', 'two'])
    assert.throws(() => workerCount(bad), /--workers must be an integer from 1 to 16/)
})
