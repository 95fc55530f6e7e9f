import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { MemoryStateStore } from '../../src/adapters/memory/index.ts'
import { readLines } from '../../src/adapters/file/index.ts'
import { Backtest, loadRuleSet, seedProfiles } from '../../src/apps/processor/index.ts'
import { DaroogheError } from '../../src/errors.ts'
import { runCli } from '../helpers/cli.ts'
import { deepObject } from '../helpers/hostile.ts'

/**
 * The loaders (rule sets, the labels and profiles files, readLines under them) on hostile files:
 * each stops with one DaroogheError line naming the file (and the line, for NDJSON), or reads
 * on; none throws anything else, and the CLI shows that line without a stack trace.
 */

const dir = mkdtempSync(join(tmpdir(), 'darooghe-loaders-'))
function file(name: string, content: string | Buffer): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

const NOT_UTF8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d]) // {"a":"..."}
const PROFILE = '{"customer_id":"cust_1","avg_spend":50}'
const LABEL = '{"transaction_id":"tx-1","label":"velocity","scenario_id":"s-1"}'

async function failure(p: Promise<unknown> | (() => unknown)): Promise<DaroogheError> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (error) {
    assert.ok(error instanceof DaroogheError, `a DaroogheError, not ${String(error)}`)
    assert.ok(!error.message.includes('\n'), `one line: ${error.message}`)
    return error
  }
  assert.fail('expected a failure')
}

async function lines(path: string, maxLineBytes?: number): Promise<string[]> {
  const out: string[] = []
  for await (const l of readLines(path, maxLineBytes === undefined ? {} : { maxLineBytes })) out.push(l)
  return out
}

test('readLines: every line (empty ones too); a huge or non-UTF-8 line stops with file:line; missing is IO', async () => {
  assert.deepEqual(await lines(file('ok.ndjson', 'a\r\n\nb\nc')), ['a', '', 'b', 'c'])
  assert.deepEqual(await lines(file('empty.ndjson', '')), [])
  const huge = file('huge.ndjson', `a\n${'x'.repeat(200_000)}\nb\n`)
  let e = await failure(lines(huge))
  assert.equal(e.code, 'DAROOGHE_ERR_CONFIG')
  assert.equal(e.message, `${huge}:2: a line longer than 65536 bytes`)
  // Cut without reading the rest of the line into memory: no line break at all.
  e = await failure(lines(file('nolf.ndjson', 'y'.repeat(300_000)), 1_000))
  assert.match(e.message, /nolf\.ndjson:1: a line longer than 1000 bytes$/)
  const bad = file('bad-utf8.ndjson', Buffer.concat([Buffer.from('ok\n'), NOT_UTF8, Buffer.from('\n')]))
  e = await failure(lines(bad))
  assert.equal(e.message, `${bad}:2: not UTF-8 (invalid byte sequences)`)
  e = await failure(lines(join(dir, 'missing.ndjson')))
  assert.equal(e.code, 'DAROOGHE_ERR_IO')
  assert.match(e.message, /^cannot read .*missing\.ndjson: ENOENT/)
})

test('profiles: a bad, huge, deep or non-UTF-8 line stops with its file and line; an empty file seeds nothing', async () => {
  const seed = (path: string) => seedProfiles(new MemoryStateStore(), readLines(path), { source: path })
  assert.equal(await seed(file('p-ok.ndjson', `${PROFILE}\n\n`)), 1)
  assert.equal(await seed(file('p-empty.ndjson', '')), 0)
  const cases: [string, string | Buffer, RegExp][] = [
    ['p-bad.ndjson', `${PROFILE}\n{"customer_id":`, /p-bad\.ndjson:2: not valid JSON; expected/],
    ['p-array.ndjson', `${PROFILE}\n[1,2]`, /p-array\.ndjson:2: expected an object/],
    [
      'p-huge.ndjson',
      `${PROFILE}\n{"customer_id":"${'c'.repeat(70_000)}"}`,
      /p-huge\.ndjson:2: a line longer than/
    ],
    [
      'p-string.ndjson',
      `{"customer_id":"${'c'.repeat(10_000)}","avg_spend":5}`,
      /p-string\.ndjson:1: record exceeds --max-string-bytes/
    ],
    [
      'p-deep.ndjson',
      `${PROFILE}\n${deepObject(5_000).toString()}`,
      /p-deep\.ndjson:2: record exceeds --max-depth 32/
    ],
    ['p-utf8.ndjson', Buffer.concat([NOT_UTF8, Buffer.from('\n')]), /p-utf8\.ndjson:1: not UTF-8/],
    ['p-proto.ndjson', '{"__proto__":{"polluted":1}}', /p-proto\.ndjson:1: customer_id must be a string/]
  ]
  for (const [name, content, message] of cases) {
    const e = await failure(seed(file(name, content)))
    assert.match(e.message, message)
  }
  const e = await failure(seed(join(dir, 'p-missing.ndjson')))
  assert.match(e.message, /^cannot read .*p-missing\.ndjson/)
  assert.equal(({} as Record<string, unknown>).polluted, undefined)
})

test('labels: a bad, huge, deep or non-UTF-8 line stops with its file and line; labels named like Object members are labels', async () => {
  const ruleSet = loadRuleSet('default')
  const load = async (path: string): Promise<Backtest> => {
    const b = new Backtest(ruleSet)
    let n = 0
    for await (const line of readLines(path)) b.addLabel(line, `${path}:${++n}`)
    return b
  }
  await load(file('l-empty.ndjson', ''))
  const cases: [string, string | Buffer, RegExp][] = [
    ['l-bad.ndjson', `${LABEL}\n{"transaction_id"`, /l-bad\.ndjson:2: not valid JSON; expected/],
    ['l-num.ndjson', '42', /l-num\.ndjson:1: expected an object/],
    ['l-huge.ndjson', `${LABEL}\n${LABEL}\n"${'z'.repeat(100_000)}"`, /l-huge\.ndjson:3: a line longer than/],
    ['l-deep.ndjson', deepObject(5_000), /l-deep\.ndjson:1: record exceeds --max-depth 32/],
    ['l-utf8.ndjson', Buffer.concat([Buffer.from(`${LABEL}\n`), NOT_UTF8]), /l-utf8\.ndjson:2: not UTF-8/]
  ]
  for (const [name, content, message] of cases) {
    const e = await failure(load(file(name, content)))
    assert.match(e.message, message)
  }
  // A label such as 'constructor' is an unknown label ('other'), not Object's constructor.
  const b = await load(
    file(
      'l-names.ndjson',
      ['constructor', '__proto__', 'toString']
        .map((label, i) => JSON.stringify({ transaction_id: `t${i}`, label }))
        .join('\n')
    )
  )
  b.observe(
    ['t0', 't1', 't2'].map((transactionId, offset) => ({
      transactionId,
      partition: 0,
      offset,
      outcome: 'fraud' as const,
      alert: true,
      rulesFired: ['velocity'],
      errorCodes: []
    }))
  )
  const report = b.report()
  assert.deepEqual(
    report.labels.map(l => [l.label, l.kind, l.events]),
    [
      ['__proto__', 'other', 1],
      ['constructor', 'other', 1],
      ['toString', 'other', 1]
    ]
  )
})

test('rule sets: too large, too deep, not UTF-8, empty or missing: one line naming the file', async () => {
  const rules = (name: string, content: string | Buffer) => () => loadRuleSet(file(name, content))
  const cases: [() => unknown, RegExp][] = [
    [rules('r-empty.json', ''), /r-empty\.json: not valid JSON \(empty payload\)$/],
    [rules('r-bad.json', '{"name": "x", "rules": ['), /r-bad\.json: not valid JSON \(/],
    [
      rules('r-huge.json', `{"name":"${'n'.repeat(2 << 20)}"}`),
      /rule set .*r-huge\.json has 2097163 bytes; a rule set may have at most 1048576$/
    ],
    [
      rules('r-deep.json', deepObject(5_000)),
      /r-deep\.json: record exceeds --max-depth 16: nesting reaches 17/
    ],
    [rules('r-utf8.json', NOT_UTF8), /r-utf8\.json: not UTF-8/],
    [rules('r-array.json', '[]'), /r-array\.json: the document must be a JSON object/],
    [() => loadRuleSet(join(dir, 'r-missing.json')), /cannot read rule set .*r-missing\.json: ENOENT/]
  ]
  for (const [load, message] of cases) {
    const e = await failure(load)
    assert.equal(e.code, 'DAROOGHE_ERR_RULES')
    assert.match(e.message, message)
  }
})

test('the CLI shows a loader failure as one line, never a stack trace', async () => {
  const events = file('events.ndjson', '')
  const runs = [
    [['--rules', file('c-deep.json', deepObject(5_000))], /c-deep\.json: record exceeds --max-depth 16/],
    [
      ['--profiles', file('c-prof.ndjson', `${PROFILE}\n${'{'.repeat(100)}`)],
      /c-prof\.ndjson:2: record exceeds --max-depth 32/
    ],
    [
      ['--labels', file('c-labels.ndjson', Buffer.concat([NOT_UTF8, Buffer.from('\n')]))],
      /c-labels\.ndjson:1: not UTF-8/
    ]
  ] as const
  for (const [flags, message] of runs) {
    const r = await runCli(['detect', '--input', events, '--output', join(dir, 'out.ndjson'), ...flags])
    assert.notEqual(r.code, 0)
    const stderr = r.stderr.trimEnd().split('\n')
    assert.equal(stderr.length, 1, r.stderr)
    assert.match(stderr[0]!, /^darooghe: /)
    assert.match(stderr[0]!, message)
  }
})
