import type { Pacer } from './arrivals.ts'
import type { GeneratedRecord } from './events.ts'
import type { Generator } from './generator.ts'
import type { NdjsonWriter } from './ndjson-writer.ts'

/** One line of the labels file: `{"transaction_id":…,"label":…,"scenario_id":…|null}`. */
export function labelLine(record: GeneratedRecord): string {
  const scenario = record.scenarioId === undefined ? 'null' : `"${record.scenarioId}"`
  return `{"transaction_id":"${record.transactionId}","label":"${record.label}","scenario_id":${scenario}}`
}

export interface RunOptions {
  generator: Generator
  out: NdjsonWriter
  /** Ground-truth labels, one line per event, same order. */
  labels?: NdjsonWriter | undefined
  pacer: Pacer
  /** Wall clock in epoch ms (injected so tests can drive time). */
  clock: () => number
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>
  /** Stops the run (e.g. on SIGINT); what was emitted is flushed. */
  signal?: AbortSignal | undefined
  /** Called about every 1,024 records and once at the end. */
  onProgress?: ((emitted: number) => void) | undefined
}

export interface RunResult {
  emitted: number
  /** done: count or duration reached; signal: stopped; closed: the reader went away. */
  reason: 'done' | 'signal' | 'closed'
}

/**
 * Writes the generator's records as NDJSON, on schedule: each record waits until its
 * wall-clock due time from the pacer (due times are absolute, so after a stall the run
 * catches up instead of drifting). Buffers are flushed before every wait so a paced
 * reader sees each event when it is due.
 */
export async function runGenerator(options: RunOptions): Promise<RunResult> {
  const { generator, out, labels, pacer, clock, sleep, signal, onProgress } = options
  let emitted = 0
  let reason: RunResult['reason'] = 'done'
  for (;;) {
    if (signal?.aborted) {
      reason = 'signal'
      break
    }
    if (out.closed || labels?.closed) {
      reason = 'closed'
      break
    }
    const record = generator.next()
    if (record === undefined) break
    const due = pacer.dueAt(record)
    if (due > clock()) {
      await out.flush()
      await labels?.flush()
      await sleep(due - clock(), signal)
      if (signal?.aborted) {
        reason = 'signal'
        break
      }
    }
    if (out.push(record.raw)) await out.flush()
    if (labels !== undefined && labels.push(labelLine(record))) await labels.flush()
    emitted++
    if ((emitted & 1023) === 0) onProgress?.(emitted)
  }
  await out.flush()
  await labels?.flush()
  if (reason === 'done' && (out.closed || labels?.closed)) reason = 'closed'
  onProgress?.(emitted)
  return { emitted, reason }
}
