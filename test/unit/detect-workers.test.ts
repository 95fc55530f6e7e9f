import assert from 'node:assert/strict'
import { test } from 'node:test'
import { childArgs, workerCount, workerExecArgv } from '../../src/cli/commands/detect-workers.ts'
import { parseSize } from '../../src/config/units.ts'

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

test('workers get a 64 MiB young generation unless the user set one', () => {
  assert.deepEqual(workerExecArgv(['--import', 'tsx'], undefined), [
    '--import',
    'tsx',
    '--max-semi-space-size=64'
  ])
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=16'], undefined), ['--max-semi-space-size=16'])
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=4096 --max-semi-space-size=32'), [])
})

test('--state-journal takes bytes, KiB or MiB up to 256MiB, and names the fix otherwise', () => {
  assert.equal(parseSize('4MiB', '--state-journal'), 4 << 20)
  assert.equal(parseSize('512KiB', '--state-journal'), 512 << 10)
  assert.equal(parseSize('0', '--state-journal'), 0)
  assert.equal(parseSize('1.5 MiB', '--state-journal'), 1_572_864)
  for (const bad of ['5GB', '-1', '300MiB', 'big', ''])
    assert.throws(() => parseSize(bad, '--state-journal'), /--state-journal must be a size from 0 to 256MiB/)
})
