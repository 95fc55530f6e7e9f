/** Runs the processor as the Kafka detector does, and the shared plumbing of a target batch. */
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import type { Processor, ProcessorOptions } from '../../src/apps/processor/index.ts'
import { createProcessor, loadRuleSet, processorOptions } from '../../src/apps/processor/index.ts'
import type { LogRecord, OutRecord } from '../../src/ports/log.ts'
import type { StateStore } from '../../src/ports/state-store.ts'
import { fixedClock } from '../../src/stream/clock.ts'
import { parseOutput, type Out } from './checks.ts'

export interface Run {
  readonly outs: Out[]
  readonly duplicates: number
  readonly duplicateOffsets: Set<number>
  /** What processBatch, complete or prepareAhead threw, if anything did. */
  readonly error: Error | null
}

export const RULES = loadRuleSet('default')
export const KAFKA_OPTIONS: ProcessorOptions = processorOptions({ collectOutcomes: true })

/** The Kafka detector's processor: outputs-first delivery over a fresh in-memory store. */
export function kafkaProcessor(nowMs: number, store: StateStore = new MemoryStateStore()): Processor {
  return createProcessor({
    store,
    ruleSet: RULES,
    clock: fixedClock(nowMs),
    options: KAFKA_OPTIONS,
    delivery: 'outputs-first'
  })
}

/**
 * The detector's sequence (src/apps/detector/detector.ts) over poll batches: processBatch,
 * stage, prepareAhead of the next poll, complete, release. Outputs are parsed before release
 * (their bytes may be reused after it).
 */
export async function drivePolls(
  processor: Processor,
  polls: readonly (readonly LogRecord[])[],
  light = false
): Promise<Run> {
  const outs: Out[] = []
  const duplicateOffsets = new Set<number>()
  let duplicates = 0
  try {
    for (let i = 0; i < polls.length; i++) {
      const r = await processor.processBatch(polls[i]!)
      for (const o of r.outputs) outs.push(parseOutput(o.topic, o.value, light))
      duplicates += r.stats.duplicateTransactionIds
      for (const o of r.outcomes) if (o.outcome === 'duplicate') duplicateOffsets.add(o.offset)
      r.stage()
      const next = polls[i + 1]
      if (next) processor.prepareAhead(next)
      await r.complete()
      r.release()
    }
  } catch (error) {
    return { outs, duplicates, duplicateOffsets, error: error as Error }
  }
  return { outs, duplicates, duplicateOffsets, error: null }
}

/** First line of an error and where it was thrown: no full stack in a one-line finding. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e)
  const at =
    e.stack
      ?.split('\n')
      .find(l => l.trim().startsWith('at '))
      ?.trim() ?? ''
  return `${e.name}: ${e.message.slice(0, 200)} ${at}`
}

/** An output as produced: what "the same bytes on redelivery" compares. */
function wire(o: OutRecord): string {
  const text = (v: Buffer | string | null | undefined): string =>
    v == null ? '<null>' : typeof v === 'string' ? v : v.toString('latin1')
  return `${o.topic}\u0000${text(o.key)}\u0000${text(o.value)}\u0000${o.timestamp}\u0000${JSON.stringify(o.headers)}`
}

/**
 * At-least-once with hostile records: a poll processed by a detector that crashed before its
 * state write (outputs out, complete() never called) is run again by a new instance on the same
 * store, and must emit the same bytes. Returns where they differ, or null.
 */
export async function redelivery(poll: readonly LogRecord[], nowMs: number): Promise<string | null> {
  const store = new MemoryStateStore()
  let first: string[]
  try {
    first = (await kafkaProcessor(nowMs, store).processBatch(poll)).outputs.map(wire)
  } catch {
    return null // reported by the run of the whole batch
  }
  let again: string[]
  try {
    again = (await kafkaProcessor(nowMs, store).processBatch(poll)).outputs.map(wire)
  } catch (error) {
    return `the run again threw: ${describeError(error)}`
  }
  if (again.length !== first.length) return `${first.length} outputs, then ${again.length}`
  const i = again.findIndex((w, j) => w !== first[j])
  return i < 0 ? null : `output ${i} differs: ${first[i]!.slice(0, 100)} | ${again[i]!.slice(0, 100)}`
}
