import { setTimeout as delay } from 'node:timers/promises'
import { backoffDelay, type BackoffOptions } from './apps/producer/backoff.ts'
import { describeError, isRetriable } from './errors.ts'
import type { Logger } from './logger.ts'

export interface RetryOptions extends BackoffOptions {
  /** Give up after this many attempts. Default: never. */
  readonly attempts?: number
  readonly signal?: AbortSignal
}

/**
 * Runs `op` until it succeeds, retrying retriable failures with capped exponential backoff and
 * jitter, one warning per retry naming what is unavailable. Non-retriable errors pass through.
 */
export async function withRetry<T>(
  what: string,
  op: () => Promise<T>,
  log: Logger,
  options: RetryOptions = {}
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await op()
      if (attempt > 1) log.info({ attempt }, `${what}: succeeded after retries`)
      return result
    } catch (error) {
      if (!isRetriable(error) || (options.attempts !== undefined && attempt >= options.attempts)) throw error
      if (options.signal?.aborted) throw error
      const ms = backoffDelay(attempt, options)
      log.warn(
        { attempt, delayMs: ms, error: describeError(error) },
        `${what}: unavailable, retrying with backoff`
      )
      try {
        await delay(ms, undefined, options.signal ? { signal: options.signal } : undefined)
      } catch {
        throw error
      }
    }
  }
}
