import { appendFileSync } from 'node:fs'
import { describeError, isRetriable } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import type { Alert, AlertSink } from '../../ports/alert-sink.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { retryOptions, withRetry, type Resilience } from '../../retry.ts'
import { backoffDelay, type BackoffOptions } from '../producer/backoff.ts'

export interface DispatcherOptions {
  readonly sinks: readonly AlertSink[]
  /** Remembers which alert reached which sink, across restarts (Redis, or in memory). */
  readonly dedupe: StateStore
  readonly log: Logger
  /** Attempts per alert and sink before it is dead-lettered. Default 5. */
  readonly maxAttempts?: number
  readonly backoff?: BackoffOptions
  /** Deliveries in flight per sink. Default 8. */
  readonly concurrency?: number
  /** NDJSON file of alerts that exhausted their attempts (with sink and error). */
  readonly deadLetterPath?: string
  readonly sleep?: (ms: number) => Promise<void>
  /** Every outcome, and every failed attempt as 'failed' (metrics). */
  readonly onOutcome?: (sink: string, outcome: Outcome | 'failed') => void
  /**
   * Retry policy of the dedupe store's calls (a Redis outage is waited out, never dropped:
   * an alert is delivered once its dedupe key can be read). Default: retry for ever.
   */
  readonly resilience?: Resilience
}

export type Outcome = 'delivered' | 'duplicate' | 'dead_letter'

export interface DispatchCounts {
  /** sink → outcome → count */
  bySink: Record<string, Record<Outcome, number>>
  /** rule → alerts */
  byRule: Record<string, number>
  retries: number
}

/**
 * Delivers alert batches to every sink: each (sink, alert) at most once across restarts
 * (dedupe keys written after the batch's deliveries, before its offsets are committed),
 * retried with backoff on retriable failures, dead-lettered after `maxAttempts`.
 */
export class Dispatcher {
  // byRule is keyed by rule ids read from the alerts: no prototype a '__proto__' id could reach.
  readonly counts: DispatchCounts = {
    bySink: {},
    byRule: Object.create(null) as Record<string, number>,
    retries: 0
  }
  readonly #o: DispatcherOptions
  readonly #sleep: (ms: number) => Promise<void>

  constructor(options: DispatcherOptions) {
    this.#o = options
    this.#sleep = options.sleep ?? (ms => new Promise(r => setTimeout(r, ms)))
    for (const s of options.sinks) this.counts.bySink[s.name] = { delivered: 0, duplicate: 0, dead_letter: 0 }
  }

  async dispatchBatch(alerts: readonly Alert[]): Promise<void> {
    // The same alert can appear twice in a redelivered batch; keep the first.
    const unique = [...new Map(alerts.map(a => [a.alert_id, a])).values()]
    for (const a of unique) {
      if (!Array.isArray(a.rules_fired)) continue
      for (const r of a.rules_fired) this.counts.byRule[r] = (this.counts.byRule[r] ?? 0) + 1
    }
    const done: [string, string][] = []
    await Promise.all(this.#o.sinks.map(sink => this.#toSink(sink, unique, done)))
    await Promise.all(this.#o.sinks.map(s => s.flush?.()))
    // Delivered and flushed: the keys must be written before the offsets are committed, so a
    // Redis outage here is waited out (a crash instead would deliver the batch again, which
    // the file sink's tail dedupes).
    if (done.length > 0)
      await withRetry('write the dispatch dedupe keys', () => this.#o.dedupe.writeBatch(done), this.#log, {
        ...retryOptions(this.#o.resilience),
        dependency: 'redis'
      })
  }

  get #log(): Logger {
    return this.#o.resilience?.log ?? this.#o.log
  }

  async #toSink(sink: AlertSink, alerts: readonly Alert[], done: [string, string][]): Promise<void> {
    const keys = alerts.map(a => `dispatch:${sink.name}:${a.alert_id}`)
    const seen = await withRetry(
      'read the dispatch dedupe keys',
      () => this.#o.dedupe.getMany(keys),
      this.#log,
      {
        ...retryOptions(this.#o.resilience),
        dependency: 'redis'
      }
    )
    const todo: number[] = []
    seen.forEach((v, i) => {
      if (v === null) todo.push(i)
      else {
        this.counts.bySink[sink.name]!.duplicate++
        this.#o.onOutcome?.(sink.name, 'duplicate')
      }
    })
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const i = todo[next++]!
        const outcome = await this.#deliver(sink, alerts[i]!)
        this.counts.bySink[sink.name]![outcome]++
        this.#o.onOutcome?.(sink.name, outcome)
        done.push([keys[i]!, outcome])
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency ?? 8, todo.length) }, worker))
  }

  async #deliver(sink: AlertSink, alert: Alert): Promise<Outcome> {
    const max = this.#o.maxAttempts ?? 5
    for (let attempt = 1; ; attempt++) {
      try {
        await sink.deliver(alert)
        return 'delivered'
      } catch (error) {
        this.#o.onOutcome?.(sink.name, 'failed')
        if (!isRetriable(error) || attempt >= max) {
          this.#deadLetter(sink, alert, error, attempt)
          return 'dead_letter'
        }
        this.counts.retries++
        const ms = backoffDelay(attempt, this.#o.backoff)
        this.#o.log.warn(
          { sink: sink.name, alert: alert.alert_id, attempt, delayMs: ms, error: describeError(error) },
          'delivery failed, retrying'
        )
        await this.#sleep(ms)
      }
    }
  }

  #deadLetter(sink: AlertSink, alert: Alert, error: unknown, attempts: number): void {
    this.#o.log.error(
      { sink: sink.name, alert: alert.alert_id, attempts, error: describeError(error) },
      'alert dead-lettered'
    )
    if (this.#o.deadLetterPath) {
      const line = {
        sink: sink.name,
        attempts,
        error: describeError(error),
        dead_lettered_at: new Date().toISOString(),
        alert
      }
      appendFileSync(this.#o.deadLetterPath, `${JSON.stringify(line)}\n`)
    }
  }
}
