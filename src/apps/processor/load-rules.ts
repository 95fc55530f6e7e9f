import { isUtf8 } from 'node:buffer'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseJsonWithin, recordLimits, type RecordLimits } from '../../domain/limits.ts'
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
  let bytes: Buffer
  try {
    // Its size first: a rule set is a few KB, and a huge file is never read into memory whole.
    const size = statSync(path).size
    if (size > RULES_LIMITS.maxEventBytes) {
      throw new DaroogheError(
        'RULES',
        `rule set ${source} has ${size} bytes; a rule set may have at most ${RULES_LIMITS.maxEventBytes}`
      )
    }
    bytes = readFileSync(path)
  } catch (cause) {
    if (cause instanceof DaroogheError) throw cause
    throw new DaroogheError('RULES', `cannot read rule set ${source}: ${(cause as Error).message}`, { cause })
  }
  if (!isUtf8(bytes)) throw new DaroogheError('RULES', `${source}: not UTF-8 (invalid byte sequences)`)
  const parsed = parseJsonWithin(bytes, RULES_LIMITS)
  if (!parsed.ok) {
    const why =
      parsed.limit === null
        ? `not valid JSON (${oneLine(parsed.error.replace(/^not JSON: /, ''))})`
        : parsed.error
    throw new DaroogheError('RULES', `${source}: ${why}`)
  }
  return parseRuleSet(parsed.value, source)
}

/**
 * Limits of a rule-set file: parsed behind them like any record this project did not write
 * (a rule set is a few KB, two or three levels deep).
 */
export const RULES_LIMITS: RecordLimits = recordLimits({
  maxEventBytes: 1 << 20,
  maxDepth: 16,
  maxStringBytes: 8 * 1024,
  maxFields: 10_000
})

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ')
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}
