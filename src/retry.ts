import { setTimeout as delay } from 'node:timers/promises'
import { backoffDelay, type BackoffOptions } from './apps/producer/backoff.ts'
import { DaroogheError, describeError, isRetriable, redactSecrets, type ErrorKind } from './errors.ts'
import type { Logger } from './logger.ts'
import type { Dependency, DependencyHealth } from './observability/dependencies.ts'

/**
 * How long a command keeps retrying a dependency that fails: the `--retry-for` flag, parsed
 * once by the CLI (src/cli/commands/retry-flag.ts) and passed down with the logger and the
 * health tracker.
 */
export interface RetryPolicy extends BackoffOptions {
  /**
   * Give up once one operation has been failing for this long, ms (from its first failure of
   * the current run of failures). Default Infinity: retry through any outage.
   */
  readonly retryForMs?: number
}

/** A command's retry policy and where its retries are reported. */
export interface Resilience {
  readonly policy: RetryPolicy
  readonly log: Logger
  /** Marks a dependency down while an operation retries against it (/health, metrics). */
  readonly health?: DependencyHealth
}

export interface RetryOptions extends RetryPolicy {
  /** Give up after this many attempts. Default: never (only `retryForMs` limits). */
  readonly attempts?: number
  readonly signal?: AbortSignal
  readonly health?: DependencyHealth
  /** The dependency a failure is blamed on. Default: read from the error (`dependencyOf`). */
  readonly dependency?: Dependency
}

/** Warnings per run of failures: each of the first few attempts, then one every 30 s. */
export const LOG_EVERY_ATTEMPT_UP_TO = 5
export const LOG_INTERVAL_MS = 30_000

/** The retry options of a Resilience, with overrides. */
export function retryOptions(r: Resilience | undefined, extra: RetryOptions = {}): RetryOptions {
  return { ...r?.policy, ...(r?.health ? { health: r.health } : {}), ...extra }
}

/**
 * One operation's run of failures: backoff with jitter between attempts, a warning per retry
 * (rate-limited, so an outage of minutes logs a few lines, not thousands), the dependency
 * marked down in the health tracker until the operation succeeds, and the `retryForMs` limit.
 * Errors that no retry can pass (not retriable) are rethrown at once.
 */
export class Outage {
  readonly #what: string
  readonly #log: Logger
  readonly #o: RetryOptions
  #attempt = 0
  #startedAt = 0
  #lastLogAt = 0
  #token: number | undefined
  #lastError: unknown = null
  #dependency: Dependency | undefined

  constructor(what: string, log: Logger, options: RetryOptions = {}) {
    this.#what = what
    this.#log = log
    this.#o = options
  }

  /** Failures so far in this run. */
  get attempts(): number {
    return this.#attempt
  }

  /**
   * A failed attempt: resolves after the backoff delay, ready for the next attempt; rejects
   * when the error is not retriable, the limit is reached or the signal aborted.
   */
  async failed(error: unknown, retriable = isRetriable(error)): Promise<void> {
    const o = this.#o
    const now = Date.now()
    if (this.#attempt === 0) this.#startedAt = now
    this.#attempt++
    this.#lastError = error
    if (!retriable || o.signal?.aborted) {
      this.end()
      throw error
    }
    const limit = o.retryForMs ?? Number.POSITIVE_INFINITY
    const dependency = o.dependency ?? dependencyOf(error)
    this.#dependency = dependency
    if (now - this.#startedAt >= limit || (o.attempts !== undefined && this.#attempt >= o.attempts)) {
      this.end()
      if (o.attempts !== undefined && now - this.#startedAt < limit) throw error
      throw gaveUp(this.#what, dependency, now - this.#startedAt, error)
    }
    const text = redactSecrets(describeError(error))
    if (dependency && o.health) this.#token = o.health.failed(dependency, this.#what, text, this.#token)
    const ms = backoffDelay(this.#attempt, o)
    if (this.#attempt <= LOG_EVERY_ATTEMPT_UP_TO || now - this.#lastLogAt >= LOG_INTERVAL_MS) {
      this.#lastLogAt = now
      this.#log.warn(
        {
          attempt: this.#attempt,
          delayMs: ms,
          ...(dependency ? { dependency } : {}),
          failingForS: Math.round((now - this.#startedAt) / 1000),
          error: text
        },
        `${this.#what}: ${dependency ? `${dependency} unavailable` : 'failed'}, retrying with backoff` +
          (this.#attempt === LOG_EVERY_ATTEMPT_UP_TO ? ' (further retries logged every 30 s)' : '')
      )
    }
    try {
      await delay(ms, undefined, o.signal ? { signal: o.signal } : undefined)
    } catch {
      this.end()
      throw error
    }
  }

  /** The operation succeeded: logs the recovery (after failures) and marks the dependency up. */
  succeeded(): void {
    if (this.#attempt > 0) {
      this.#log.info(
        {
          attempts: this.#attempt,
          downForS: Math.round((Date.now() - this.#startedAt) / 100) / 10,
          ...(this.#dependency ? { dependency: this.#dependency } : {})
        },
        `${this.#what}: recovered`
      )
    }
    this.end()
    this.#attempt = 0
  }

  /** Stops reporting this run (success, giving up, or the caller abandoning it). */
  end(): void {
    this.#o.health?.recovered(this.#token)
    this.#token = undefined
  }

  get lastError(): unknown {
    return this.#lastError
  }
}

/**
 * Runs `op` until it succeeds, retrying retriable failures with capped exponential backoff and
 * jitter (see Outage). Non-retriable errors pass through at once.
 */
export async function withRetry<T>(
  what: string,
  op: () => Promise<T>,
  log: Logger,
  options: RetryOptions = {}
): Promise<T> {
  const outage = new Outage(what, log, options)
  try {
    for (;;) {
      try {
        const result = await op()
        outage.succeeded()
        return result
      } catch (error) {
        await outage.failed(error)
      }
    }
  } finally {
    outage.end()
  }
}

const DEPENDENCY_OF_KIND: Partial<Record<ErrorKind, Dependency>> = {
  KAFKA: 'kafka',
  KAFKA_FATAL: 'kafka',
  REDIS: 'redis',
  MONGO: 'mongo'
}

/** The dependency an error comes from, if it says (the first Darooghe error in its cause chain). */
export function dependencyOf(error: unknown): Dependency | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof DaroogheError) {
      const d = DEPENDENCY_OF_KIND[e.kind]
      if (d) return d
    }
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && code.startsWith('PLT_KFK_')) return 'kafka'
    if (e.name.startsWith('Mongo')) return 'mongo'
  }
  return undefined
}

const FIX: Record<Dependency, string> = {
  kafka: 'check that Kafka answers at --brokers (DAROOGHE_BROKERS)',
  redis: 'check that Redis answers at --redis (DAROOGHE_REDIS)',
  mongo: 'check that MongoDB answers at --mongo (DAROOGHE_MONGO)'
}

function gaveUp(what: string, dependency: Dependency | undefined, ms: number, cause: unknown): DaroogheError {
  const kind: ErrorKind = dependency === 'kafka' ? 'KAFKA' : dependency === 'redis' ? 'REDIS' : 'UNAVAILABLE'
  const name = dependency ?? 'a dependency'
  return new DaroogheError(
    dependency === 'mongo' ? 'MONGO' : kind,
    `${what}: ${name} unavailable for ${Math.round(ms / 1000)} s, longer than --retry-for allows; ` +
      `${dependency ? FIX[dependency] : 'see the cause'}, or raise --retry-for`,
    { cause, retriable: false }
  )
}
