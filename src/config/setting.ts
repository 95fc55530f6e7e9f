/**
 * One effective setting as `darooghe config print` shows it: its name, its value as it may
 * be shown (secrets already masked, files by path) and where it came from: `flag --brokers`,
 * `env DAROOGHE_BROKERS`, `client.properties:3` or `default`.
 */
export interface Setting {
  readonly name: string
  readonly value: string
  readonly source: string
}

export type Env = Readonly<Record<string, string | undefined>>

/** Where warnings about the configuration go (unknown properties); stderr in the CLI. */
export type Warn = (line: string) => void

/** Freezes an object and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value as object)) deepFreeze(v)
  }
  return value
}

/** What a masked secret shows. */
export const MASK = '***'
