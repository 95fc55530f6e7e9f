import { createWriteStream, type WriteStream } from 'node:fs'
import { PerformanceObserver, constants } from 'node:perf_hooks'
import type { BatchStages } from './detector.ts'

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb'
}

/**
 * The stage timeline of a detector (`detect --stage-log <file>`): one JSON line per batch (where
 * its time went, see BatchStages) and one per garbage collection, on one wall clock, so that a
 * latency spike under paced load can be pinned on a stage. `scripts/stage-report.ts` sums it up.
 */
export class StageLog {
  readonly #out: WriteStream
  readonly #gc: PerformanceObserver
  readonly #origin = Date.now() - performance.now()

  constructor(path: string) {
    this.#out = createWriteStream(path, { flags: 'w' })
    this.#gc = new PerformanceObserver(list => {
      for (const e of list.getEntries()) {
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1
        this.#write({
          gc: GC_KINDS[kind] ?? String(kind),
          at: Math.round(this.#origin + e.startTime),
          ms: round(e.duration)
        })
      }
    })
    this.#gc.observe({ entryTypes: ['gc'] })
  }

  batch(s: BatchStages): void {
    this.#write({
      batch: s.records,
      at: s.at,
      outputs: s.outputs,
      age: round(s.ageMs),
      gap: round(s.gapMs),
      process: round(s.processMs),
      produce: round(s.produceMs),
      complete: round(s.completeMs),
      ...(s.attempts > 1 ? { attempts: s.attempts } : {})
    })
  }

  #write(row: Record<string, unknown>): void {
    this.#out.write(JSON.stringify(row) + '\n')
  }

  async close(): Promise<void> {
    this.#gc.disconnect()
    await new Promise<void>(resolve => this.#out.end(resolve))
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
