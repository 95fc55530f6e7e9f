import { randomBytes } from 'node:crypto'
import type { StateValue } from '../ports/state-store.ts'
import { metaKey } from './keyed-state.ts'
import type { PartitionState } from './partition-state.ts'

/**
 * Fencing of state writes. Every write of a partition's state rewrites its progress key
 * (`p:<topic>:<partition>`) and is guarded by the value this instance last read or wrote
 * there (`PartitionState.stored`): once a successor wrote it after a rebalance, the zombie's
 * write fails as a whole (`STATE_CONFLICT`) instead of overwriting the successor's state.
 */

/**
 * Partition metadata as stored: `{"v":1,"o":<processed offset>,"t":<stream time or null>}`, plus
 * `"w":"<write id>"` when it is rewritten without progress (to fence the emitted-times write).
 */
export function encodeMeta(processedOffset: number, streamTimeMs: number, writeId?: string): string {
  const t = Number.isFinite(streamTimeMs) ? streamTimeMs : 'null'
  return writeId === undefined
    ? `{"v":1,"o":${processedOffset},"t":${t}}`
    : `{"v":1,"o":${processedOffset},"t":${t},"w":"${writeId}"}`
}

export function decodeMeta(raw: string | null): { processedOffset: number; streamTimeMs: number } {
  if (raw === null) return { processedOffset: -1, streamTimeMs: Number.NEGATIVE_INFINITY }
  const m = JSON.parse(raw) as { v?: unknown; o?: unknown; t?: unknown }
  if (m.v !== 1 || typeof m.o !== 'number' || (m.t !== null && typeof m.t !== 'number')) {
    throw new Error('not a version-1 partition record')
  }
  return { processedOffset: m.o, streamTimeMs: m.t === null ? Number.NEGATIVE_INFINITY : (m.t as number) }
}

/**
 * Pushes the partition's progress put (its value becomes `pending`, to be `stored` once the
 * write is durable): the progress in memory, or with `writeId` the stored progress rewritten
 * with a new write id, so that whoever else wrote in between fails its next guard.
 */
export function pushProgress(
  prefix: string,
  p: PartitionState,
  puts: [string, StateValue][],
  writeId?: string
): void {
  p.pending =
    writeId === undefined
      ? encodeMeta(p.processedOffset, p.streamTimeMs)
      : encodeMeta(p.storedOffset, p.storedStreamTimeMs, writeId)
  puts.push([metaKey(prefix, p.topic, p.partition), p.pending])
}

/** Each written partition's progress key must still hold what this instance knows of it. */
export function guards(prefix: string, touched: readonly PartitionState[]): [string, string | null][] {
  const out: [string, string | null][] = []
  for (const p of touched) if (p.dirty) out.push([metaKey(prefix, p.topic, p.partition), p.stored])
  return out
}

/** Write ids of progress rewrites without progress: this instance, then a counter. */
export class WriteIds {
  readonly #instance = randomBytes(4).toString('hex')
  #writes = 0
  next(): string {
    return `${this.#instance}.${++this.#writes}`
  }
}
