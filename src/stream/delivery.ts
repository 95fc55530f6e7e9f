import type { OutRecord } from '../ports/log.ts'
import type { StateValue } from '../ports/state-store.ts'
import type { ByteSlab } from '../bytes/index.ts'
import { EmittedTimes, encodeEmittedTimes } from './emitted-times.ts'
import { pushProgress, WriteIds } from './fence.ts'
import { logKey, timesKey } from './keyed-state.ts'
import type { PartitionState } from './partition-state.ts'
import { EMPTY_LOG, encodeReplayLog, newLog } from './replay-log.ts'

/** The public name of a delivery order (`StreamTaskOptions.delivery`). */
export type DeliveryMode = 'state-first' | 'outputs-first'

/**
 * A delivery order (README: Delivery): what is written before a batch's outputs are handed out,
 * and how a record's outputs are remembered so that a redelivery emits the same bytes. The
 * task drives; the order decides.
 */
export interface Delivery {
  readonly mode: DeliveryMode
  /**
   * Whether the batch's state is written by `complete()`, after its outputs (then `earlyPuts`
   * is written before them); otherwise the state write itself goes before the outputs.
   */
  readonly stateAfterOutputs: boolean
  /**
   * One record handled: `outputs[start..]` are its outputs, rendered at `now`; `fresh` if it was
   * processed now rather than re-emitted from the replay log.
   */
  handled(
    part: PartitionState,
    offset: number,
    fresh: boolean,
    now: number,
    outputs: OutRecord[],
    start: number
  ): void
  /** In a dirty partition's state write, after its progress key: what this order stores beside. */
  statePuts(p: PartitionState, puts: [string, StateValue][], slab: ByteSlab): void
  /** That state write is durable. */
  stateWritten(p: PartitionState): void
  /** `stateAfterOutputs`: the fenced write before the outputs, of the dirty partitions. */
  earlyPuts(touched: readonly PartitionState[], slab: ByteSlab): [string, StateValue][]
  /** That write is durable (the state is still to be written). */
  earlyWritten(touched: readonly PartitionState[]): void
}

export function deliveryFor(mode: DeliveryMode, keyPrefix: string): Delivery {
  return mode === 'outputs-first' ? new OutputsFirst(keyPrefix) : new StateFirst(keyPrefix)
}

/**
 * State, progress and replay log in one write before the outputs (replay-log.ts; exactly-once
 * needs it). A redelivered record re-emits its stored outputs; the log of a batch covers its
 * re-emitted records too.
 */
export class StateFirst implements Delivery {
  readonly mode = 'state-first'
  readonly stateAfterOutputs = false
  constructor(readonly keyPrefix: string) {}

  handled(
    part: PartitionState,
    offset: number,
    _fresh: boolean,
    _now: number,
    outputs: OutRecord[],
    start: number
  ): void {
    if (outputs.length === start) return
    const next = (part.next ??= newLog())
    next.offsets.push(offset)
    for (let j = start; j < outputs.length; j++) next.records.push(outputs[j]!)
    next.starts.push(next.records.length)
  }

  statePuts(p: PartitionState, puts: [string, StateValue][], slab: ByteSlab): void {
    puts.push([logKey(this.keyPrefix, p.topic, p.partition), encodeReplayLog(p.next ?? EMPTY_LOG, slab)])
  }

  stateWritten(p: PartitionState): void {
    p.log = p.next ?? EMPTY_LOG
  }

  earlyPuts(): [string, StateValue][] {
    return []
  }

  earlyWritten(): void {}
}

/**
 * Processing times before the outputs (emitted-times.ts), state after them (`complete()`). A
 * record processed again before its state is durable gets its stored time, so its outputs come
 * out byte for byte as the first time.
 */
export class OutputsFirst implements Delivery {
  readonly mode = 'outputs-first'
  readonly stateAfterOutputs = true
  readonly #writeIds = new WriteIds()
  constructor(readonly keyPrefix: string) {}

  handled(
    part: PartitionState,
    offset: number,
    fresh: boolean,
    now: number,
    _outputs: OutRecord[],
    _start: number
  ): void {
    if (fresh) (part.nextTimes ??= new EmittedTimes()).push(offset, now)
  }

  statePuts(): void {}

  stateWritten(): void {}

  /**
   * Each dirty partition's emitted times, and its progress key rewritten unchanged but for a
   * new write id, so that the next write of whoever else wrote in between fails its guard.
   */
  earlyPuts(touched: readonly PartitionState[], slab: ByteSlab): [string, StateValue][] {
    const puts: [string, StateValue][] = []
    const writeId = this.#writeIds.next()
    for (const p of touched) {
      if (!p.dirty) continue
      p.emitted = EmittedTimes.merge(p.times, p.nextTimes)
      pushProgress(this.keyPrefix, p, puts, writeId)
      puts.push([timesKey(this.keyPrefix, p.topic, p.partition), encodeEmittedTimes(p.emitted, slab)])
    }
    return puts
  }

  earlyWritten(touched: readonly PartitionState[]): void {
    for (const p of touched) {
      if (!p.dirty) continue
      p.stored = p.pending
      p.times = p.emitted ?? p.times
      p.pending = null
      p.emitted = null
      p.nextTimes = null
    }
  }
}
