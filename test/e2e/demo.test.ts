import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, start } from '../helpers/cli.ts'
import { waitFor } from '../helpers/services.ts'

test('darooghe demo runs the embedded pipeline and stops cleanly on Ctrl-C', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-demo-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const alertsFile = join(dir, 'alerts.log')
  const demo = start([
    'demo',
    '--rate',
    '200',
    '--seed',
    '7',
    '--fraud-rate',
    '0.05',
    '--port',
    '0',
    '--alerts-file',
    alertsFile
  ])
  t.after(() => demo.child.kill('SIGKILL'))
  assert.match(
    await waitFor(() => /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(demo.stdout)?.[1], {
      what: 'the dashboard URL'
    }),
    /^http/
  )
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
  // The dispatcher's file sink got every alert once (dedupe by alert id), as whole NDJSON lines.
  const lines = readFileSync(alertsFile, 'utf8').split('\n').filter(Boolean)
  const ids = lines.map(l => (JSON.parse(l) as { alert_id: string }).alert_id)
  assert.ok(ids.length > 0)
  assert.equal(new Set(ids).size, ids.length)
})

test('darooghe demo on a port in use fails with one line naming --port', async t => {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const { port } = server.address() as AddressInfo
  const r = await runCli([
    'demo',
    '--port',
    String(port),
    '--alerts-file',
    join(tmpdir(), 'unused-alerts.log')
  ])
  assert.equal(r.code, 1)
  assert.match(r.stderr, new RegExp(`^darooghe: .*port ${port} .*in use.*--port`))
  assert.equal(r.stderr.trim().split('\n').length, 1)
})
