import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DaroogheError } from '../../errors.ts'
import { parseRuleSet } from '../../domain/rules/rule-set.ts'
import type { RuleSet } from '../../domain/rules/types.ts'

/** The shipped rule sets: `rules/*.json` at the package root (same path from src/ and dist/). */
export const RULES_DIR = fileURLToPath(new URL('../../../rules/', import.meta.url))

const NAME = /^[a-z0-9][a-z0-9_-]*$/i

/** Names of the shipped rule sets, e.g. default, redis-feature-store, baag-hum-baag, kafka-mini. */
export function shippedRuleSets(): string[] {
  try {
    return readdirSync(RULES_DIR)
      .filter(f => f.endsWith('.json'))
      .map(f => f.slice(0, -5))
      .sort()
  } catch {
    return []
  }
}

/**
 * Loads a rule set by shipped name (`default`) or by path (`./my-rules.json`), validated.
 * Only JSON is read: YAML would need a dependency the project does not carry.
 */
export function loadRuleSet(nameOrPath: string): RuleSet {
  let path: string
  let source: string
  if (NAME.test(nameOrPath) && !existsSync(nameOrPath)) {
    path = join(RULES_DIR, `${nameOrPath}.json`)
    source = `rules/${nameOrPath}.json`
    if (!existsSync(path)) {
      throw new DaroogheError(
        'RULES',
        `no rule set named '${nameOrPath}': use one of ${shippedRuleSets().join(', ')} or a path to a .json file`
      )
    }
  } else {
    path = nameOrPath
    source = nameOrPath
  }
  const ext = extname(path).toLowerCase()
  if (ext === '.yaml' || ext === '.yml') {
    throw new DaroogheError(
      'RULES',
      `${source}: YAML rule sets are not supported; write the same fields as JSON`
    )
  }
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new DaroogheError('RULES', `cannot read rule set ${source}: ${(cause as Error).message}`, { cause })
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (cause) {
    throw new DaroogheError('RULES', `${source}: not valid JSON (${(cause as Error).message})`, { cause })
  }
  return parseRuleSet(doc, source)
}
