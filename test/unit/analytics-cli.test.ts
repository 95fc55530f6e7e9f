import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { planAnalyze, type AnalyzeFlags } from '../../src/cli/commands/analyze.ts'
import { DaroogheError } from '../../src/errors.ts'
import { runCli } from '../helpers/cli.ts'
import { FIXTURE } from '../helpers/analytics-fixture.ts'

const NO_CHROMIUM = { CHROMIUM_PATH: '/nonexistent/chromium' }

function usage(flags: AnalyzeFlags, pattern: RegExp, env: Record<string, string> = {}): void {
  assert.throws(
    () => planAnalyze(flags, env),
    (e: unknown) =>
      e instanceof DaroogheError && e.kind === 'USAGE' && pattern.test(e.message) && !e.message.includes('\n')
  )
}

test('flags: exactly one source', () => {
  usage({}, /no source: give --input FILE, --topic NAME \(Kafka\) or --mongo/)
  usage({ input: 'package.json', topic: 't' }, /give one source/)
})

test('flags: a missing input file, bad times, options of another source', () => {
  usage({ input: '/nonexistent/events.ndjson' }, /--input: no such file '\/nonexistent\/events.ndjson'/)
  usage({ topic: 't', fromTimestamp: 'yesterday' }, /--from-timestamp must be an ISO-8601 time/)
  usage({ topic: 't', fromTimestamp: '2026-01-01T00:00:00Z', fromBeginning: true }, /not both/)
  usage({ mongo: true, from: '2026-13-45' }, /--from must be an ISO-8601 time/)
  usage(
    { mongo: true, from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' },
    /--from must be before --to/
  )
  usage({ input: 'package.json', from: '2026-01-01T00:00:00Z' }, /--from\/--to bound the MongoDB source/)
  usage({ input: 'package.json', fromBeginning: true }, /apply to a Kafka --topic only/)
  usage({ mongo: 'http://x' }, /--mongo must be a URL/)
  usage({ topic: 't', brokers: 'nohost' }, /not host:port/)
  usage({ input: 'package.json', runId: 'a/b' }, /--run-id/)
  usage(
    { input: 'package.json', out: 'dir' },
    /no Chromium at \/nonexistent\/chromium: set CHROMIUM_PATH, or pass --no-png/,
    NO_CHROMIUM
  )
})

test('flags: a valid plan is frozen and names its source', () => {
  const plan = planAnalyze({ mongo: true, from: '2026-01-01T00:00:00Z', out: 'r', png: false }, {})
  assert.ok(Object.isFrozen(plan))
  assert.deepEqual(plan.source, { kind: 'mongo', from: new Date('2026-01-01T00:00:00Z') })
  assert.equal(plan.mongo?.url, 'mongodb://127.0.0.1:27017')
  assert.equal(plan.chromiumPath, null)
  const kafka = planAnalyze(
    { topic: 'tx', fromTimestamp: '2026-01-01T00:00:00Z' },
    { DAROOGHE_BROKERS: 'h:1' }
  )
  assert.deepEqual(kafka.source, {
    kind: 'kafka',
    connection: { brokers: ['h:1'] },
    topic: 'tx',
    fromTimestampMs: Date.parse('2026-01-01T00:00:00Z')
  })
  assert.equal(kafka.mongo, null)
})

test('CLI: a bad flag is one line on stderr and exit code 2', async () => {
  const r = await runCli(['analyze', '--input', '/nonexistent/events.ndjson'])
  assert.equal(r.code, 2)
  assert.equal(r.stderr, "darooghe: --input: no such file '/nonexistent/events.ndjson'\n")
  assert.equal(r.stdout, '')
})

test('CLI: analyze a file with --no-png: summary on stdout, report.json with the numbers', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'darooghe-analyze-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const input = join(dir, 'events.ndjson')
  await writeFile(input, FIXTURE.map(e => JSON.stringify(e)).join('\n') + '\nnot json\n')
  const out = join(dir, 'report')
  const r = await runCli(['analyze', '--input', input, '--out', out, '--no-png', '--run-id', 'cli-test'], {
    env: NO_CHROMIUM
  })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^analyzed 7 transactions from file .* \(skipped 1: not_json 1\)$/m)
  assert.match(
    r.stdout,
    /total value 1,260,000 Rial · average 180,000 Rial · commission 21,600 Rial · fraud rate 28\.57 %/
  )
  assert.match(r.stdout, /top merchant by count merch_1 \(3\), by commission merch_1 \(11,000 Rial\)/)
  assert.match(r.stdout, new RegExp(`wrote ${join(out, 'report.html')}`))
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'))
  assert.equal(report.run.id, 'cli-test')
  assert.deepEqual(report.run.source, { kind: 'file', name: input })
  assert.equal(report.run.rows, 7)
  assert.equal(report.results.summary.total_value, 1_260_000)
  assert.equal(report.results.fraud.fraud, 2)
  const html = await readFile(join(out, 'report.html'), 'utf8')
  assert.match(html, /<canvas id="canvas-fraud-rate">/)
  assert.ok(!/<script[^>]+src=/.test(html), 'no external script: the page is self-contained')
})
