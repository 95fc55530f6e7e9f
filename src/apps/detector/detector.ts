import type { Logger } from '../../logger.ts'
import type { LogConsumer, LogProducer, TopicPartition } from '../../ports/log.ts'
import { withRetry } from '../../retry.ts'
import type { BatchStats, Processor } from '../processor/index.ts'

export interface DetectorDeps {
  readonly consumer: LogConsumer
  readonly producer: LogProducer
  readonly processor: Processor
  readonly log: Logger
  /** Stops the retry loops on shutdown. */
  readonly signal?: AbortSignal
  /** Called after each batch is durable, produced and about to be committed (metrics, status). */
  readonly onBatch?: (stats: BatchStats, records: number, outputs: number) => void
  /** Called after each partition assignment (the first one: the detector joined its group). */
  readonly onAssignment?: (assigned: readonly TopicPartition[]) => void
}

/**
 * The processor on a log: for every poll batch, evaluate it (state written atomically to the
 * store), produce its outputs and wait for their acknowledgement; the consumer commits the
 * batch's offsets only after this resolved (at-least-once). A failed state write or produce
 * is retried for the same batch with backoff: the state write is all-or-nothing and the
 * producer is idempotent, so a retry never double-counts nor duplicates.
 */
export async function runDetector(deps: DetectorDeps): Promise<void> {
  const { consumer, producer, processor, log } = deps
  const retry = { initialMs: 100, maxMs: 5_000, signal: deps.signal }
  await consumer.run({
    onAssignment: assigned => {
      processor.onAssignment(assigned)
      deps.onAssignment?.(assigned)
      log.info({ partitions: assigned.map(p => `${p.topic}:${p.partition}`) }, 'partitions assigned')
    },
    onBatch: async records => {
      const receivedAt = Date.now()
      const result = await withRetry(
        'state store',
        () => processor.processBatch(records, receivedAt),
        log,
        retry
      )
      await withRetry('producing outputs', () => producer.send(result.outputs), log, retry)
      deps.onBatch?.(result.stats, records.length, result.outputs.length)
    }
  })
}
