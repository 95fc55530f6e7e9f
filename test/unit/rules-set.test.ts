import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadRuleSet, shippedRuleSets } from '../../src/apps/processor/load-rules.ts'
import { parseRuleSet } from '../../src/domain/rules/rule-set.ts'
import { DaroogheError } from '../../src/errors.ts'

const rejects = (doc: unknown, message: string): void => {
  assert.throws(
    () => parseRuleSet(doc, 'rules/foo.json'),
    (e: unknown) => e instanceof DaroogheError && e.kind === 'RULES' && e.message === message
  )
}

test('the shipped rule sets load and the default one is exactly SPEC 5.3', () => {
  assert.deepEqual(shippedRuleSets(), ['baag-hum-baag', 'default', 'kafka-mini', 'redis-feature-store'])
  for (const name of shippedRuleSets()) assert.equal(loadRuleSet(name).name, name)
  const d = loadRuleSet('default')
  assert.equal(d.source, 'rules/default.json')
  assert.deepEqual(
    d.rules.map(r => [r.id, r.type, r.params, r.fraud]),
    [
      ['velocity', 'velocity', { maxCount: 5, windowSeconds: 120 }, true],
      ['impossible_travel', 'impossible_travel', { minKm: 50, maxMinutes: 5 }, true],
      ['amount_anomaly', 'amount_anomaly', { multiplier: 10, minHistory: 3, averageSource: 'history' }, true]
    ]
  )
  assert.deepEqual(loadRuleSet('kafka-mini').rules[0]!.params, { amount: 900 })
  assert.equal(loadRuleSet('redis-feature-store').rules[0]!.params.averageSource, 'profile')
})

test('missing parameters take the documented defaults; weight defaults by fraud flag', () => {
  const s = parseRuleSet(
    {
      name: 'x',
      rules: [
        { id: 'v', type: 'velocity' },
        { id: 'a', type: 'amount_threshold', fraud: false }
      ]
    },
    'x'
  )
  assert.deepEqual(s.rules[0]!.params, { maxCount: 5, windowSeconds: 120 })
  assert.equal(s.rules[0]!.fraud, true)
  assert.equal(s.rules[0]!.weight, 25)
  assert.equal(s.rules[1]!.weight, 10)
})

test('invalid rule sets fail with one precise line naming file, path and expectation', () => {
  const v = (params: unknown): unknown => ({
    name: 'x',
    rules: [
      { id: 'a', type: 'amount_threshold' },
      { id: 'v', type: 'velocity', params }
    ]
  })
  rejects(v({ windowSeconds: 0 }), 'rules/foo.json: rules[1].params.windowSeconds must be a positive number')
  rejects(
    v({ windowSeconds: '120' }),
    'rules/foo.json: rules[1].params.windowSeconds must be a positive number'
  )
  rejects(v({ maxCount: 2.5 }), 'rules/foo.json: rules[1].params.maxCount must be an integer >= 0')
  rejects(
    v({ window: 1 }),
    'rules/foo.json: rules[1].params.window is not a parameter of velocity (expected maxCount, windowSeconds)'
  )
  // Names every object inherits are not parameters either.
  rejects(
    v(JSON.parse('{"constructor": 1}')),
    'rules/foo.json: rules[1].params.constructor is not a parameter of velocity (expected maxCount, windowSeconds)'
  )
  rejects([], 'rules/foo.json: the document must be a JSON object with name, description and rules')
  rejects({ name: 'x', rules: [] }, 'rules/foo.json: rules must be a non-empty array')
  rejects({ rules: [{ id: 'a', type: 'velocity' }] }, 'rules/foo.json: name must be a non-empty string')
  rejects(
    { name: 'x', rules: [{ id: 'a', type: 'teleport' }] },
    'rules/foo.json: rules[0].type must be one of velocity, impossible_travel, amount_anomaly, location_change, new_location_amount, amount_threshold'
  )
  rejects(
    { name: 'x', rules: [{ id: '1', type: 'velocity' }] },
    'rules/foo.json: rules[0].id must be a string of letters, digits, _ . - starting with a letter'
  )
  rejects(
    {
      name: 'x',
      rules: [
        { id: 'a', type: 'velocity' },
        { id: 'a', type: 'velocity' }
      ]
    },
    "rules/foo.json: rules[1].id 'a' is used by an earlier rule; ids must be unique"
  )
  rejects(
    { name: 'x', rules: [{ id: 'a', type: 'velocity', fraud: 'yes' }] },
    'rules/foo.json: rules[0].fraud must be true or false'
  )
  rejects(
    { name: 'x', rules: [{ id: 'a', type: 'velocity', weight: -1 }] },
    'rules/foo.json: rules[0].weight must be a number >= 0'
  )
  rejects(
    { name: 'x', rules: [{ id: 'a', type: 'velocity', parms: {} }] },
    'rules/foo.json: rules[0].parms is not a rule field (expected id, type, params, fraud, weight, description)'
  )
  rejects(
    { name: 'x', rules: [{ id: 'a', type: 'amount_anomaly', params: { averageSource: 'redis' } }] },
    "rules/foo.json: rules[0].params.averageSource must be one of 'history', 'profile'"
  )
})

test('loadRuleSet reads a path, and explains unknown names, bad JSON and YAML', () => {
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-rules-'))
  const good = join(dir, 'mine.json')
  writeFileSync(
    good,
    JSON.stringify({ name: 'mine', rules: [{ id: 'big', type: 'amount_threshold', params: { amount: 5 } }] })
  )
  assert.equal(loadRuleSet(good).rules[0]!.id, 'big')
  const bad = join(dir, 'bad.json')
  writeFileSync(bad, '{ "name": ')
  assert.throws(() => loadRuleSet(bad), /bad\.json: not valid JSON/)
  assert.throws(
    () => loadRuleSet('nope'),
    /no rule set named 'nope': use one of baag-hum-baag, default, kafka-mini, redis-feature-store or a path/
  )
  assert.throws(
    () => loadRuleSet(join(dir, 'x.yaml')),
    /YAML rule sets are not supported; write the same fields as JSON/
  )
  assert.throws(() => loadRuleSet(join(dir, 'missing.json')), /cannot read rule set .*missing\.json/)
})
