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
}

/**
 * The processor on a log: for every poll batch, evaluate it, produce its outputs, wait for
 * their acknowledgement and complete it (state written atomically); the consumer commits the
 * batch's offsets only after this resolved (at-least-once). A failed state write or produce
 * runs the batch again with backoff: state writes are all-or-nothing, and a batch run again
 * emits the same bytes, so a retry never double-counts and its duplicates are identical.
 */
export async function runDetector(deps: DetectorDeps): Promise<void> {
  const { consumer, producer, processor, log } = deps
  const retry = retryOptions(deps.resilience, {
    initialMs: 100,
    maxMs: 5_000,
    ...(deps.signal ? { signal: deps.signal } : {})
  })
  await consumer.run({
    onAssignment: assigned => {
      processor.onAssignment(assigned)
      deps.onAssignment?.(assigned)
      log.info({ partitions: assigned.map(p => `${p.topic}:${p.partition}`) }, 'partitions assigned')
    },
    onBatch: async records => {
      const receivedAt = Date.now()
      // A failed step runs the whole batch again: its outputs come out identical, its state
      // is counted once (see Processor.processBatch).
      const result = await withRetry(
        'process a batch',
        async () => {
          const r = await processor.processBatch(records, receivedAt)
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
          await r.complete()
          // Produced and acknowledged: a producer that copied them lets their memory be reused.
          if (producer.copiesRecords === true) r.release()
          return r
        },
        log,
        retry
      )
      if (result.stats.unreported > 0) {
        log.error(
          { unreported: result.stats.unreported, partitions: [...new Set(records.map(r => r.partition))] },
          'records failed and not even their error records could be rendered: nothing was emitted for them (a bug; please report it)'
        )
      }
      deps.onBatch?.(result.stats, records.length, result.outputs.length)
    }
  })
}
