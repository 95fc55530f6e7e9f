/**
 * The other side of "retry through outages": a dependency that never comes back. Without
 * --retry-for a command waits (and says so, a few lines, not thousands); with it, the command
 * gives up after that long with one line naming the dependency and the fix. No service needed:
 * the addresses are ports nobody listens on.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { runCli, start } from '../helpers/cli.ts'
import { freePort } from '../helpers/chaos-pipeline.ts'
import { waitFor } from '../helpers/services.ts'

const SECRET = 'never-print-me'

test('--retry-for: each command gives up after that long with one line naming the dependency and the fix', async () => {
  const kafka = `127.0.0.1:${await freePort()}`
  const redis = `redis://default:${SECRET}@127.0.0.1:${await freePort()}`
  const mongo = `mongodb://127.0.0.1:${await freePort()}/x`
  const cases: [string, string[], RegExp][] = [
    [
      'detect',
      ['detect', '--brokers', kafka, '--redis', redis],
      /Redis .*redis unavailable for \d+ s, longer than --retry-for allows; check that Redis answers at --redis/
    ],
    [
      'detect',
      ['detect', '--brokers', kafka, '--memory-state'],
      /kafka unavailable for \d+ s, longer than --retry-for allows; check that Kafka answers at --brokers/
    ],
    [
      'produce',
      ['produce', '--brokers', kafka, '--count', '10'],
      /kafka unavailable for \d+ s, longer than --retry-for allows/
    ],
    ['dispatch', ['dispatch', '--brokers', kafka, '--redis', redis], /redis unavailable for \d+ s/],
    ['windows', ['windows', '--brokers', kafka, '--memory-state'], /kafka unavailable for \d+ s/],
    [
      'store',
      ['store', '--brokers', kafka, '--mongo', mongo],
      /mongo unavailable for \d+ s, longer than --retry-for allows; check that MongoDB answers at --mongo/
    ]
  ]
  await Promise.all(
    cases.map(async ([name, args, line]) => {
      const started = Date.now()
      const r = await runCli([...args, '--retry-for', '2s', '--log-level', 'warn'])
      const last = r.stderr.trim().split('\n').at(-1)!
      assert.equal(r.code, 1, `${name} exits 1:\n${r.stderr}`)
      assert.match(last, /^darooghe: /, `${name} ends with one line`)
      assert.match(last, line, name)
      assert.ok(!r.stderr.includes(SECRET), `${name} never prints the password`)
      assert.ok(Date.now() - started < 60_000, `${name} gave up in time`)
    })
  )
})

test('without --retry-for a command waits for its dependency, logging a few lines, not one per attempt', async t => {
  const kafka = `127.0.0.1:${await freePort()}`
  const p = start(['detect', '--brokers', kafka, '--memory-state', '--log-level', 'warn'])
  t.after(() => void p.child.kill('SIGKILL'))
  // Seven attempts or more take about 6 s of backoff (100 ms doubling to 5 s).
  await waitFor(() => p.stderr.split('\n').filter(l => l.includes('"attempt":5')).length > 0, {
    what: 'five attempts',
    timeoutMs: 60_000,
    intervalMs: 200
  })
  await waitFor(
    () => Number(/"attempt":(\d+)/g.exec(p.stderr.split('\n').filter(Boolean).at(-1) ?? '')?.[1]) >= 5,
    {
      what: 'the warnings',
      timeoutMs: 5_000
    }
  )
  assert.equal(p.child.exitCode, null, 'still running')
  const warnings = p.stderr.split('\n').filter(l => l.includes('"level":40'))
  assert.ok(warnings.length <= 6, `a few warnings, not one per retry (${warnings.length})`)
  assert.match(warnings.at(-1)!, /further retries logged every 30 s/)
})

test('--retry-for that is not a duration is a usage error', async () => {
  const r = await runCli(['store', '--retry-for', 'soon'])
  assert.equal(r.code, 2)
  assert.match(
    r.stderr,
    /--retry-for must be a duration such as 30s, 10m or 1h, or 'unlimited' \(got 'soon'\)/
  )
})

test('an error no retry passes stops the command at once, whatever --retry-for says: Redis refusing the password', async t => {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-redis-auth-'))
  const pidfile = join(dir, 'redis.pid')
  const r = await runCli(
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--requirepass',
      'right',
      '--save',
      '',
      '--daemonize',
      'yes',
      '--pidfile',
      pidfile,
      '--dir',
      dir
    ],
    { command: 'redis-server' }
  )
  assert.equal(r.code, 0, r.stderr)
  t.after(() => {
    // The server we started, by its pid.
    const pid = Number(readFileSync(pidfile, 'utf8'))
    if (pid > 0) process.kill(pid, 'SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  })
  await waitFor(() => existsSync(pidfile), { what: 'redis-server to start', timeoutMs: 10_000 })
  const started = Date.now()
  const run = await runCli([
    'detect',
    '--brokers',
    `127.0.0.1:${await freePort()}`,
    '--redis',
    `redis://default:${SECRET}@127.0.0.1:${port}`,
    '--log-level',
    'warn'
  ])
  assert.equal(run.code, 1)
  assert.match(
    run.stderr.trim().split('\n').at(-1)!,
    /^darooghe: Redis at redis:\/\/default:\*\*\*@127\.0\.0\.1:\d+ refused this client \(WRONGPASS\): fix the user and password in --redis/
  )
  assert.ok(!run.stderr.includes(SECRET))
  assert.ok(Date.now() - started < 30_000, 'at once, not after retries')
})
