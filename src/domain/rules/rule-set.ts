import { DaroogheError } from '../../errors.ts'
import { PARAMS } from './params.ts'
import { RULE_TYPES, type ParamValue, type RuleSet, type RuleSpec, type RuleType } from './types.ts'

const TOP_KEYS = new Set(['$schema', 'name', 'description', 'rules'])
const RULE_KEYS = new Set(['id', 'type', 'params', 'fraud', 'weight', 'description'])
/**
 * Ids start with a letter: an id like "1" would be an integer-like key, which JavaScript
 * orders first in objects, and the order of a decision's trace must follow the rule set.
 */
const ID = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/

/**
 * Validates a parsed rule-set document and fills in defaults. Every problem is reported as
 * one line naming the file, the JSON path and what is expected, e.g.
 * `rules/foo.json: rules[1].params.windowSeconds must be a positive number`.
 */
export function parseRuleSet(doc: unknown, source: string): RuleSet {
  const fail = (path: string, what: string): never => {
    throw new DaroogheError('RULES', `${source}: ${path} ${what}`)
  }
  if (!isObject(doc)) return fail('the document', 'must be a JSON object with name, description and rules')
  for (const k of Object.keys(doc))
    if (!TOP_KEYS.has(k)) fail(k, `is not a rule-set field (expected ${[...TOP_KEYS].join(', ')})`)
  if (typeof doc.name !== 'string' || doc.name.length === 0) fail('name', 'must be a non-empty string')
  if (doc.description !== undefined && typeof doc.description !== 'string')
    fail('description', 'must be a string')
  if (!Array.isArray(doc.rules) || doc.rules.length === 0) fail('rules', 'must be a non-empty array')
  const rules: RuleSpec[] = []
  const ids = new Set<string>()
  ;(doc.rules as unknown[]).forEach((r, i) => {
    const spec = parseRule(r, `rules[${i}]`, fail)
    if (ids.has(spec.id))
      fail(`rules[${i}].id`, `'${spec.id}' is used by an earlier rule; ids must be unique`)
    ids.add(spec.id)
    rules.push(spec)
  })
  return Object.freeze({
    name: doc.name as string,
    description: (doc.description as string | undefined) ?? '',
    rules: Object.freeze(rules),
    source
  })
}

function parseRule(r: unknown, at: string, fail: (path: string, what: string) => never): RuleSpec {
  if (!isObject(r)) return fail(at, 'must be an object with id, type and params')
  for (const k of Object.keys(r))
    if (!RULE_KEYS.has(k)) fail(`${at}.${k}`, `is not a rule field (expected ${[...RULE_KEYS].join(', ')})`)
  if (typeof r.id !== 'string' || !ID.test(r.id)) {
    fail(`${at}.id`, 'must be a string of letters, digits, _ . - starting with a letter')
  }
  if (typeof r.type !== 'string' || !(RULE_TYPES as readonly string[]).includes(r.type)) {
    fail(`${at}.type`, `must be one of ${RULE_TYPES.join(', ')}`)
  }
  const type = r.type as RuleType
  if (r.fraud !== undefined && typeof r.fraud !== 'boolean') fail(`${at}.fraud`, 'must be true or false')
  const fraud = (r.fraud as boolean | undefined) ?? true
  if (
    r.weight !== undefined &&
    !(typeof r.weight === 'number' && Number.isFinite(r.weight) && r.weight >= 0)
  ) {
    fail(`${at}.weight`, 'must be a number >= 0')
  }
  if (r.description !== undefined && typeof r.description !== 'string')
    fail(`${at}.description`, 'must be a string')
  if (r.params !== undefined && !isObject(r.params)) fail(`${at}.params`, 'must be an object')
  const given = (r.params ?? {}) as Record<string, unknown>
  const schema = PARAMS[type]
  for (const k of Object.keys(given)) {
    if (!Object.hasOwn(schema, k))
      fail(`${at}.params.${k}`, `is not a parameter of ${type} (expected ${Object.keys(schema).join(', ')})`)
  }
  const params: Record<string, ParamValue> = {}
  for (const [name, p] of Object.entries(schema)) {
    const v = given[name]
    if (v === undefined) params[name] = p.default
    else if (p.check(v)) params[name] = v as ParamValue
    else fail(`${at}.params.${name}`, `must be ${p.what}`)
  }
  return Object.freeze({
    id: r.id as string,
    type,
    params: Object.freeze(params),
    fraud,
    weight: (r.weight as number | undefined) ?? (fraud ? 25 : 10),
    description: (r.description as string | undefined) ?? ''
  })
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}
