import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import avro from 'avsc'

const BIN = fileURLToPath(new URL('../../bin/darooghe.js', import.meta.url))
const START = '2025-04-26T08:00:00Z'
const schema = avro.Type.forSchema(
  JSON.parse(
    readFileSync(new URL('../../schemas/payment_event.avsc', import.meta.url), 'utf8')
  ) as avro.Schema
)
const dir = mkdtempSync(join(tmpdir(), 'darooghe-generate-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `darooghe generate …` with a clean environment (no DarooghePulse aliases leaking in). */
function generate(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) =>
          !/^(EVENT_RATE|PEAK_FACTOR|FRAUD_RATE|DECLINED_RATE|MERCHANT_COUNT|CUSTOMER_COUNT|TRANSACTIONS_PER_SECOND)$/.test(
            k
          )
      )
    )
    const child = spawn(process.execPath, [BIN, 'generate', ...args], { env: { ...clean, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', code => resolve({ code, stdout, stderr }))
  })
}

const VALID = new Set([
  'legit',
  'velocity',
  'impossible_travel',
  'amount_anomaly',
  'new_location_large_amount'
])

/** The intended defect of an invalid line; `near` is the event time of the preceding valid line. */
function assertDefect(label: string, raw: string, near: number): void {
  if (label === 'malformed_json') {
    assert.throws(() => JSON.parse(raw), SyntaxError)
    return
  }
  const e = JSON.parse(raw) as {
    amount: number
    vat_amount: number
    commission_amount: number
    total_amount: number
    timestamp: string
    payment_method: string
    device_info: { os?: string }
  }
  if (label === 'invalid_schema') {
    assert.ok(!schema.isValid(e), `schema-valid: ${raw}`)
    return
  }
  assert.ok(schema.isValid(e), raw)
  const skew = Date.parse(e.timestamp) - near
  switch (label) {
    case 'invalid_amount':
      assert.ok(Math.abs(e.total_amount - (e.amount + e.vat_amount + e.commission_amount)) >= 1, raw)
      break
    case 'invalid_time_future':
      assert.ok(skew > 3_000_000, raw)
      break
    case 'invalid_time_old':
      assert.ok(skew < -86_400_000, raw)
      break
    case 'invalid_device':
      assert.equal(e.payment_method, 'mobile')
      assert.ok(e.device_info.os !== 'iOS' && e.device_info.os !== 'Android', raw)
      break
    default:
      assert.fail(`unexpected label ${label}`)
  }
}

const lines = (text: string) => text.split('\n').filter(l => l.length > 0)

describe('darooghe generate', () => {
  it('--count 1000 --seed 1: valid lines fit the Avro schema, invalid lines have their defect, labels align', async () => {
    const labelsFile = join(dir, 'labels.ndjson')
    const base = [
      '--count',
      '1000',
      '--seed',
      '1',
      '--rate',
      'max',
      '--start',
      START,
      '--invalid-rate',
      '0.05'
    ]
    const { code, stdout, stderr } = await generate([...base, '--labels', labelsFile])
    assert.equal(stderr, '')
    assert.equal(code, 0)
    const events = lines(stdout)
    const labels = lines(readFileSync(labelsFile, 'utf8')).map(
      l => JSON.parse(l) as { transaction_id: string; label: string; scenario_id: string | null }
    )
    assert.equal(events.length, 1000)
    assert.equal(labels.length, 1000)
    const kinds = new Set<string>()
    let lastTime = Date.parse(START)
    events.forEach((raw, i) => {
      const label = labels[i] as (typeof labels)[number]
      assert.deepEqual(Object.keys(label), ['transaction_id', 'label', 'scenario_id'])
      assert.ok(raw.includes(label.transaction_id), `line ${i} does not carry ${label.transaction_id}`)
      assert.ok(
        !raw.includes(label.label === 'legit' ? '"label"' : label.label),
        `label leaked into line ${i}`
      )
      kinds.add(label.label)
      if (VALID.has(label.label)) {
        assert.ok(schema.isValid(JSON.parse(raw)), `line ${i} is not a valid event: ${raw}`)
        lastTime = Date.parse((JSON.parse(raw) as { timestamp: string }).timestamp)
      } else {
        assertDefect(label.label, raw, lastTime)
      }
    })
    assert.ok(kinds.size >= 8, [...kinds].join(','))
  })

  it('--seed with --start gives identical output; another seed does not', async () => {
    const args = ['--count', '300', '--rate', 'max', '--start', START]
    const [a, b, c] = await Promise.all([
      generate([...args, '--seed', 'x']),
      generate([...args, '--seed', 'x']),
      generate([...args, '--seed', 'y'])
    ])
    assert.equal(a.code, 0)
    assert.equal(a.stdout, b.stdout)
    assert.notEqual(a.stdout, c.stdout)
  })

  it('writes history first and honours --out, env aliases and flags over env', async () => {
    const out = join(dir, 'events.ndjson')
    const r = await generate(
      ['--count', '20', '--history', '30', '--rate', 'max', '--seed', '3', '--out', out, '--customers', '4'],
      {
        CUSTOMER_COUNT: '9',
        MERCHANT_COUNT: '2'
      }
    )
    assert.equal(r.code, 0)
    assert.equal(r.stdout, '')
    const events = lines(readFileSync(out, 'utf8')).map(
      l => JSON.parse(l) as { customer_id: string; merchant_id: string; timestamp: string }
    )
    assert.equal(events.length, 50)
    assert.ok(events.every(e => /^cust_[1-4]$/.test(e.customer_id)))
    assert.ok(events.every(e => /^merch_[12]$/.test(e.merchant_id)))
    assert.ok(
      Date.parse((events[29] as { timestamp: string }).timestamp) <
        Date.parse((events[30] as { timestamp: string }).timestamp)
    )
  })

  it('paces a constant rate on the wall clock', async () => {
    const started = Date.now()
    const r = await generate(['--count', '15', '--rate', '20', '--seed', '4'])
    const elapsed = Date.now() - started
    assert.equal(r.code, 0)
    assert.equal(lines(r.stdout).length, 15)
    assert.ok(elapsed >= 700, `15 events at 20/s took only ${elapsed} ms`)
  })

  it('stops quietly when the reader goes away (EPIPE)', async () => {
    const child = spawn(process.execPath, [BIN, 'generate', '--rate', 'max', '--seed', '5'])
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    await new Promise<void>(resolve => child.stdout.once('data', () => resolve()))
    child.stdout.destroy()
    const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
    assert.equal(code, 0)
    assert.equal(stderr, '')
  })

  it('rejects bad values with one line on stderr and exit code 2', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--rate', 'abc'], {}, /^darooghe: --rate must be a positive number or 'max' \(got 'abc'\)$/],
      [['--rate', '0'], {}, /^darooghe: --rate must be a positive number or 'max' \(got '0'\)$/],
      [['--count', '-1'], {}, /^darooghe: --count must be a positive integer \(got '-1'\)$/],
      [['--count', '1.5'], {}, /^darooghe: --count must be a positive integer \(got '1.5'\)$/],
      [
        ['--duration', '5x'],
        {},
        /^darooghe: --duration must be a positive duration such as 30s, 5m or 1h \(got '5x'\)$/
      ],
      [['--fraud-rate', '2'], {}, /^darooghe: --fraud-rate must be a number from 0 to 0.25 \(got '2'\)$/],
      [
        ['--declined-rate', 'lots'],
        {},
        /^darooghe: --declined-rate must be a number from 0 to 1 \(got 'lots'\)$/
      ],
      [
        ['--start', 'yesterday'],
        {},
        /^darooghe: --start must be an ISO-8601 time such as .* \(got 'yesterday'\)$/
      ],
      [['--customers', '0'], {}, /^darooghe: --customers must be a positive integer \(got '0'\)$/],
      [['--history', '-3'], {}, /^darooghe: --history must be a non-negative integer \(got '-3'\)$/],
      [['--peak-factor', '0'], {}, /^darooghe: --peak-factor must be a positive number \(got '0'\)$/],
      [
        ['--count', '1'],
        { EVENT_RATE: 'fast' },
        /^darooghe: EVENT_RATE must be a positive number \(got 'fast'\)$/
      ]
    ]
    const results = await Promise.all(cases.map(([args, env]) => generate(args, env)))
    results.forEach((r, i) => {
      const [args, , message] = cases[i] as (typeof cases)[number]
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.equal(lines(r.stderr).length, 1, r.stderr)
      assert.match(r.stderr.trim(), message)
    })
  })
})
