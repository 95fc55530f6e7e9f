import {
  Consumer,
  FetchIsolationLevels,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  stringDeserializer
} from '@platformatic/kafka'
import { DaroogheError } from '../../errors.ts'
import type {
  BatchHandler,
  ConsumerOptions,
  LogConsumer,
  LogRecord,
  TopicPartition
} from '../../ports/log.ts'
import { baseOptions, type KafkaConnection } from './options.ts'
import type { KafkaLogProducer } from './producer.ts'
import { toLogRecord } from './records.ts'

type Stream = MessagesStream<Buffer, Buffer, string, string>
type RawMessage = Parameters<typeof toLogRecord>[0]

export interface KafkaConsumerOptions extends KafkaConnection, ConsumerOptions {
  /** Session timeout of the group member, ms. Default 10 000. */
  readonly sessionTimeoutMs?: number
  /** Heartbeat interval, ms. Default 1 000. */
  readonly heartbeatIntervalMs?: number
  /**
   * Exactly-once: commit each batch's offsets inside this producer's transaction (with the
   * batch's outputs) instead of a plain offset commit.
   */
  readonly transactionalProducer?: KafkaLogProducer
}

/**
 * Batch-shaped consumer on @platformatic/kafka. The client's stream is drained into batches
 * of up to `maxBatchRecords`; each batch is handed to `onBatch`, and its offsets (last + 1 per
 * partition) are committed only once `onBatch` resolved. Records of partitions that a rebalance
 * took away while they sat in the buffer are dropped here: their new owner reads them again
 * from the committed offset.
 */
export class KafkaLogConsumer implements LogConsumer {
  readonly #consumer: Consumer<Buffer, Buffer, string, string>
  readonly #options: KafkaConsumerOptions
  #stream: Stream | null = null
  #assignment: TopicPartition[] = []
  #owned = new Set<string>()
  #assignmentChanged = false
  #closing = false
  #wake: (() => void) | null = null
  /** The commit of the last handed-out batch (in flight while the next one is processed). */
  #committing: Promise<void> = Promise.resolve()

  constructor(options: KafkaConsumerOptions) {
    this.#options = options
    this.#consumer = new Consumer({
      ...baseOptions(options, 'consumer'),
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 1_000,
      rebalanceTimeout: 30_000,
      deserializers: { headerKey: stringDeserializer, headerValue: stringDeserializer }
    })
    this.#consumer.on('consumer:group:join', payload => {
      const assigned: TopicPartition[] = []
      for (const a of payload.assignments ?? []) {
        for (const partition of a.partitions) assigned.push({ topic: a.topic, partition })
      }
      this.#assignment = assigned
      this.#owned = new Set(assigned.map(tp => `${tp.topic}:${tp.partition}`))
      this.#assignmentChanged = true
    })
  }

  assignment(): readonly TopicPartition[] {
    return this.#assignment
  }

  async run(handler: BatchHandler): Promise<void> {
    const o = this.#options
    const max = o.maxBatchRecords ?? 5_000
    let stream: Stream | null = null
    // Members joining at the same moment (`detect --workers N`, a rolling restart) can exhaust
    // the client's join retries while the group rebalances: keep trying, with backoff.
    for (let attempt = 1; stream === null; attempt++) {
      try {
        stream = await this.#join(max)
      } catch (cause) {
        // Closed while joining (Ctrl-C at start-up): nothing was consumed, nothing to report.
        if (this.#closing) return
        if (attempt >= 8) {
          throw new DaroogheError('KAFKA', `could not join group '${o.groupId}' on ${o.topics.join(', ')}`, {
            cause
          })
        }
        await new Promise(r => setTimeout(r, Math.min(250 * 2 ** attempt, 4_000)))
      }
    }
    this.#stream = stream
    await this.#loop(stream, handler, max)
  }

  #join(max: number): Promise<Stream> {
    const o = this.#options
    return this.#consumer.consume({
      topics: [...o.topics],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode:
        (o.fromBeginning ?? true) ? MessagesStreamFallbackModes.EARLIEST : MessagesStreamFallbackModes.LATEST,
      autocommit: false,
      maxWaitTime: o.maxWaitMs ?? 100,
      isolationLevel:
        (o.readCommitted ?? true)
          ? FetchIsolationLevels.READ_COMMITTED
          : FetchIsolationLevels.READ_UNCOMMITTED,
      highWaterMark: Math.max(1024, max * 2)
    })
  }

  async #loop(stream: Stream, handler: BatchHandler, max: number): Promise<void> {
    let failure: unknown = null
    let ended = false
    const wake = (): void => {
      const w = this.#wake
      this.#wake = null
      w?.()
    }
    stream.on('readable', wake)
    stream.on('error', err => {
      failure = err
      wake()
    })
    stream.on('end', () => {
      ended = true
      wake()
    })
    stream.on('close', () => {
      ended = true
      wake()
    })

    const batch: LogRecord[] = []
    const last = new Map<string, RawMessage>()
    while (!this.#closing) {
      if (failure) throw new DaroogheError('KAFKA', 'consumer stream failed', { cause: failure })
      if (this.#assignmentChanged) {
        this.#assignmentChanged = false
        await handler.onAssignment?.(this.#assignment)
      }
      batch.length = 0
      last.clear()
      let m = stream.read() as RawMessage | null
      while (m !== null) {
        const k = `${m.topic}:${m.partition}`
        if (this.#owned.has(k)) {
          batch.push(toLogRecord(m))
          last.set(k, m)
        }
        if (batch.length >= max) break
        m = stream.read() as RawMessage | null
      }
      if (batch.length === 0) {
        if (ended) break
        await new Promise<void>(resolve => {
          this.#wake = resolve
          // The stream may have become readable between read() returning null and now.
          if (stream.readableLength > 0 || failure || ended || this.#closing) wake()
        })
        continue
      }
      await handler.onBatch(batch.slice())
      const tx = this.#options.transactionalProducer
      if (tx) await tx.commitTransaction(this.#consumer, [...last.values()])
      else {
        // This batch's commit overlaps the processing of the next one; commits stay in order,
        // and a failed one surfaces here at the next batch (or when the loop ends).
        const offsets = this.#offsetsOf(batch)
        await this.#committing
        this.#committing = this.#commit(offsets)
        this.#committing.catch(() => {})
      }
    }
    await this.#committing
  }

  #offsetsOf(batch: readonly LogRecord[]): CommitOffset[] {
    const next = new Map<string, { topic: string; partition: number; offset: number }>()
    for (const r of batch) {
      const k = `${r.topic}:${r.partition}`
      const cur = next.get(k)
      if (!cur || r.offset + 1 > cur.offset)
        next.set(k, { topic: r.topic, partition: r.partition, offset: r.offset + 1 })
    }
    return [...next.values()]
      .filter(o => this.#owned.has(`${o.topic}:${o.partition}`))
      .map(o => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 }))
  }

  async #commit(offsets: CommitOffset[]): Promise<void> {
    if (offsets.length === 0) return
    try {
      await this.#consumer.commit({ offsets })
    } catch (cause) {
      // A rebalance between processing and commit makes the commit fail; the new owner
      // re-reads from the last committed offset and the processor's dedupe absorbs it.
      if (this.#closing) return
      if (isRebalanceError(cause)) return
      throw new DaroogheError('KAFKA', 'offset commit failed', { cause })
    }
  }

  async close(): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    this.#wake?.()
    // The last batch's commit may still be in flight: let it land before the client goes.
    await this.#committing.catch(() => {})
    try {
      await this.#stream?.close()
    } finally {
      await this.#consumer.close(true)
    }
  }
}

interface CommitOffset {
  topic: string
  partition: number
  offset: bigint
  leaderEpoch: number
}

function isRebalanceError(error: unknown): boolean {
  const text =
    String((error as Error)?.message ?? '') + JSON.stringify((error as { errors?: unknown })?.errors ?? '')
  return /REBALANCE_IN_PROGRESS|ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID|FENCED|rebalanc/i.test(text)
}
