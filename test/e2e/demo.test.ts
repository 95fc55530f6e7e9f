import assert from 'node:assert/strict'
import { test } from 'node:test'
import { start } from '../helpers/cli.ts'
import { waitFor } from '../helpers/services.ts'

test('darooghe demo runs the embedded pipeline and stops cleanly on Ctrl-C', async t => {
  const demo = start(['demo', '--rate', '200', '--seed', '7', '--fraud-rate', '0.05'])
  t.after(() => demo.child.kill('SIGKILL'))
  // Alerts are printed as they are raised, with the numbers behind each rule.
  await waitFor(() => /ALERT \w+ cust_\d+ [0-9a-f-]{36} risk \d+: \w+ \{/.test(demo.stdout), {
    what: 'an alert line from the demo',
    timeoutMs: 60_000
  })
  demo.child.kill('SIGINT')
  assert.equal(await demo.exited, 0, demo.stderr)
  const summary = /events (\d+) .*approved (\d+)\s+fraud (\d+)\s+alerts (\d+)/.exec(demo.stdout)
  assert.ok(summary, demo.stdout.slice(-500))
  const [events, approved, fraud, alerts] = summary.slice(1).map(Number) as [number, number, number, number]
  assert.ok(events > 0 && approved > 0 && fraud > 0)
  assert.ok(alerts >= fraud, 'every fraud decision raised an alert')
  assert.match(demo.stdout, /stopped cleanly/)
})
