import type { Logger } from '../../logger.ts'
import type { LogConsumer, LogProducer, TopicPartition } from '../../ports/log.ts'
import { retryOptions, withRetry, type Resilience } from '../../retry.ts'
import type { BatchStats, Processor } from '../processor/index.ts'

export interface DetectorDeps {
  readonly consumer: LogConsumer
  readonly producer: LogProducer
  readonly processor: Processor
  readonly log: Logger
  /** Stops the retry loops on shutdown. */
  readonly signal?: AbortSignal
  /** Retry policy (--retry-for), health tracker. Default: retry for ever. */
  readonly resilience?: Resilience
  /** Called after each batch is durable, produced and about to be committed (metrics, status). */
  readonly onBatch?: (stats: BatchStats, records: number, outputs: number) => void
  /** Called after each partition assignment (the first one: the detector joined its group). */
  readonly onAssignment?: (assigned: readonly TopicPartition[]) => void
  /** Optional: the stage times of each batch (`detect --stage-log`), for latency analysis. */
  readonly onStages?: (stages: BatchStages) => void
}

/** Where one batch's time went, in ms (performance.now based), for the stage timeline. */
export interface BatchStages {
  /** Wall clock when the batch was handed to the detector. */
  readonly at: number
  readonly records: number
  readonly outputs: number
  /** The oldest record's age when handed over (now − its timestamp): fetch + queueing. */
  readonly ageMs: number
  /** Since the previous batch was done: the loop fetching, committing or idle. */
  readonly gapMs: number
  /** processBatch: evaluation, state load, and (outputs-first) the emitted-times write. */
  readonly processMs: number
  /** From handing the outputs to the producer to their acknowledgement. */
  readonly produceMs: number
  /** complete(): the state write after the acknowledgement (in flight while the next batch runs). */
  readonly completeMs: number
  /** Attempts the batch took (1 unless a step failed and it ran again). */
  readonly attempts: number
}

/**
 * The processor on a log, pipelined: for every poll batch, evaluate it (its processing times
 * durable first, see outputs-first), produce its outputs and wait for their acknowledgement;
 * then its state write goes out and the next batch is taken at once, while that write is in
 * flight. The consumer commits a batch's offsets only once its state write resolved
 * (at-least-once). A failed evaluation or produce runs the batch again with backoff: state
 * writes are all-or-nothing, and a batch run again emits the same bytes, so a retry never
 * double-counts and its duplicates are identical. A failed state write rewinds the consumer to
 * the committed offsets: every batch since runs again on the durable state and emits the same
 * bytes again.
 */
export async function runDetector(deps: DetectorDeps): Promise<void> {
  const { consumer, producer, processor, log } = deps
  const retry = retryOptions(deps.resilience, {
    initialMs: 100,
    maxMs: 5_000,
    ...(deps.signal ? { signal: deps.signal } : {})
  })
  // Set when a state write in flight failed: the batches after it are not processed (the
  // consumer rewinds and delivers them again), until the rewind's assignment.
  let failure: unknown = null
  let lastDone = performance.now()
  await consumer.run({
    onAssignment: assigned => {
      failure = null
      processor.onAssignment(assigned)
      deps.onAssignment?.(assigned)
      log.info({ partitions: assigned.map(p => `${p.topic}:${p.partition}`) }, 'partitions assigned')
    },
    onBatch: async records => {
      const receivedAt = Date.now()
      const t0 = performance.now()
      let t1 = t0
      let t2 = t0
      let attempts = 0
      const result = await withRetry(
        'process a batch',
        async () => {
          if (failure !== null || processor.failure() !== null) return null
          attempts++
          const r = await processor.processBatch(records, receivedAt)
          t1 = performance.now()
          const sending = producer.send(r.outputs)
          sending.catch(() => {}) // awaited below; this only keeps it from counting as unhandled
          // Once the produce request is on its way, the state write is encoded while the broker
          // appends: CPU that would otherwise wait for the acknowledgement.
          await new Promise(resolve => setImmediate(resolve))
          r.stage()
          // And the next batch, when already fetched, is decoded while this one's I/O runs.
          const upcoming = consumer.peekNext?.()
          if (upcoming) processor.prepareAhead(upcoming)
          await sending
          t2 = performance.now()
          // Produced and acknowledged: a producer that copied them lets their memory be reused.
          if (producer.copiesRecords === true) r.release()
          return r
        },
        log,
        retry
      ).catch((error: unknown) => {
        // The batch met the failure of a write before it: the rewind delivers it again.
        if (failure !== null || processor.failure() !== null) return null
        throw error
      })
      if (result === null) {
        const durable = Promise.reject(failure ?? processor.failure())
        durable.catch(() => {})
        return { durable }
      }
      // The state write goes out now; the next batch runs while it is in flight.
      const durable = result.complete().catch((error: unknown) => {
        failure ??= error
        throw error
      })
      durable.catch(() => {})
      if (result.stats.unreported > 0) {
        log.error(
          { unreported: result.stats.unreported, partitions: [...new Set(records.map(r => r.partition))] },
          'records failed and not even their error records could be rendered: nothing was emitted for them (a bug; please report it)'
        )
      }
      deps.onBatch?.(result.stats, records.length, result.outputs.length)
      if (deps.onStages) {
        const t3 = performance.now()
        let oldest = receivedAt
        for (const r of records) if (r.timestamp < oldest) oldest = r.timestamp
        const stages = {
          at: receivedAt,
          records: records.length,
          outputs: result.outputs.length,
          ageMs: receivedAt - oldest,
          gapMs: t0 - lastDone,
          processMs: t1 - t0,
          produceMs: t2 - t1,
          attempts
        }
        lastDone = t3
        void durable.then(
          () => deps.onStages?.({ ...stages, completeMs: performance.now() - t3 }),
          () => {}
        )
      }
      return { durable }
    }
  })
}
