import {
  compatibilityPartitioner,
  type Consumer,
  type Message,
  ProduceAcks,
  Producer,
  stringSerializer
} from '@platformatic/kafka'
import { DaroogheError } from '../../errors.ts'
import type { LogProducer, OutRecord, RecordAck } from '../../ports/log.ts'
import { baseOptions, type KafkaConnection } from './options.ts'
import { toKafkaMessage } from './records.ts'

export interface KafkaProducerOptions extends KafkaConnection {
  /** Idempotent producer (no duplicates on retry). Default true; forces acks=all. */
  readonly idempotent?: boolean
  /** 'all' (-1), 'leader' (1) or 'none' (0). Default 'all'. */
  readonly acks?: 'all' | 'leader' | 'none'
  /** Compression of record batches. Default 'none' (loopback: CPU costs more than bytes). */
  readonly compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  /**
   * Exactly-once mode: every `send` joins an open Kafka transaction, which the consumer
   * commits together with its offsets (`commitTransaction`). Unique per running instance.
   */
  readonly transactionalId?: string
}

type KafkaTransaction = Awaited<ReturnType<Producer<Buffer, Buffer, string, string>['beginTransaction']>>

const acksValue = { all: ProduceAcks.ALL, leader: ProduceAcks.LEADER, none: ProduceAcks.NO_RESPONSE } as const
const PARTITION_COUNT_MAX_AGE_MS = 60_000

/**
 * LogProducer on @platformatic/kafka. Partitions are chosen here, with the Java client's
 * murmur2 (the library's default partitioner masks differently, which would split a
 * customer's events across partitions when another client produces too), so each record's
 * offset is known from the partition's base offset in the produce response.
 *
 * A failed `send` leaves the producer's sequence numbers unchanged: sending the SAME records
 * again is deduplicated by the broker (idempotence), which is how callers must retry.
 */
export class KafkaLogProducer implements LogProducer {
  #producer: Producer<Buffer, Buffer, string, string>
  readonly #makeProducer: () => Producer<Buffer, Buffer, string, string>
  readonly #acks: number
  readonly #partitionCounts = new Map<string, { count: number; at: number }>()
  readonly #progress = new WeakMap<readonly OutRecord[], { done: number; offsets: ProducedOffset[] }>()
  #closed = false

  constructor(options: KafkaProducerOptions) {
    const idempotent = options.idempotent ?? true
    this.#acks = idempotent ? ProduceAcks.ALL : acksValue[options.acks ?? 'all']
    this.#makeProducer = () =>
      new Producer({
        ...baseOptions(options, 'producer'),
        idempotent,
        acks: this.#acks,
        compression: options.compression ?? 'none',
        autocreateTopics: true,
        serializers: { headerKey: stringSerializer, headerValue: stringSerializer },
        ...(options.transactionalId ? { transactionalId: options.transactionalId } : {})
      })
    this.#producer = this.#makeProducer()
    this.#transactional = options.transactionalId !== undefined
    this.#timeoutMs = options.timeoutMs ?? 30_000
  }

  readonly #transactional: boolean
  readonly #timeoutMs: number
  #tx: KafkaTransaction | null = null

  /**
   * Opens a transaction. Right after a crashed predecessor with the same transactional id,
   * the broker answers CONCURRENT_TRANSACTIONS while it aborts the old transaction; the client
   * is then left half-initialised, so it is replaced and the call retried with backoff.
   */
  async #begin(): Promise<KafkaTransaction> {
    const deadline = Date.now() + 3 * this.#timeoutMs
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#producer.beginTransaction()
      } catch (cause) {
        if (Date.now() > deadline || this.#closed) {
          throw new DaroogheError('KAFKA', 'cannot begin a Kafka transaction', { cause })
        }
        const old = this.#producer
        this.#producer = this.#makeProducer()
        old.close(true, () => {})
        await new Promise(r => setTimeout(r, Math.min(100 * 2 ** attempt, 2_000)))
      }
    }
  }

  get transactional(): boolean {
    return this.#transactional
  }

  /**
   * Commits the open transaction with the consumer's offsets (the next offset after each of
   * `lastMessages`): outputs and offsets become visible to read_committed readers atomically.
   */
  async commitTransaction(
    consumer: Consumer<Buffer, Buffer, string, string>,
    lastMessages: readonly Message<Buffer, Buffer, string, string>[]
  ): Promise<void> {
    const tx = this.#tx ?? (await this.#begin())
    this.#tx = null
    try {
      await tx.addConsumer(consumer)
      for (const m of lastMessages) await tx.addOffset(m)
      await tx.commit()
    } catch (cause) {
      await tx.abort().catch(() => {})
      throw new DaroogheError('KAFKA_FATAL', 'transaction commit failed; outputs of the batch were aborted', {
        cause
      })
    }
  }

  async #partitionCount(topic: string): Promise<number> {
    const cached = this.#partitionCounts.get(topic)
    if (cached && Date.now() - cached.at < PARTITION_COUNT_MAX_AGE_MS) return cached.count
    const md = await this.#producer.metadata({ topics: [topic], autocreateTopics: true })
    const count = md.topics.get(topic)?.partitionsCount ?? 0
    if (count <= 0) throw new DaroogheError('KAFKA', `topic '${topic}' has no partitions`)
    this.#partitionCounts.set(topic, { count, at: Date.now() })
    return count
  }

  async send(records: readonly OutRecord[]): Promise<RecordAck[]> {
    if (this.#closed) throw new DaroogheError('CLOSED', 'producer is closed')
    if (records.length === 0) return []
    const messages = new Array(records.length)
    const partitions = new Array<number>(records.length)
    const roundRobin = new Map<string, number>()
    try {
      // One metadata look-up per topic of the batch, not one await per record.
      const counts = new Map<string, number>()
      for (const r of records) {
        if (r.partition === undefined && !counts.has(r.topic)) counts.set(r.topic, 0)
      }
      for (const topic of counts.keys()) counts.set(topic, await this.#partitionCount(topic))
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!
        const m = toKafkaMessage(r)
        if (m.partition === undefined) {
          const count = counts.get(r.topic)!
          if (m.key) {
            m.partition = compatibilityPartitioner(m, m.key) % count
          } else {
            const next = roundRobin.get(r.topic) ?? Math.floor(Math.random() * count)
            m.partition = next % count
            roundRobin.set(r.topic, next + 1)
          }
        }
        partitions[i] = m.partition
        messages[i] = m
      }
      // A broker refuses record batches above message.max.bytes (1 MiB by default), so a large
      // send goes out in chunks. Progress is remembered per records array: the caller retries
      // with the same array and only the chunks not yet acknowledged are sent again, with the
      // same sequence numbers, so the idempotent producer never duplicates.
      const chunks = chunkBounds(messages)
      const progress = this.#progress.get(records) ?? { done: 0, offsets: [] }
      this.#progress.set(records, progress)
      for (let c = progress.done; c < chunks.length - 1; c++) {
        const slice = messages.slice(chunks[c], chunks[c + 1])
        let result
        if (this.#transactional) {
          this.#tx ??= await this.#begin()
          result = await this.#tx.send({ messages: slice, acks: this.#acks })
        } else {
          result = await this.#producer.send({ messages: slice, acks: this.#acks })
        }
        progress.offsets.push(...(result.offsets ?? []))
        progress.done = c + 1
      }
      this.#progress.delete(records)
      return acksFor(records, partitions, progress.offsets)
    } catch (cause) {
      if (cause instanceof DaroogheError) throw cause
      const retriable = kafkaRetriable(cause)
      throw new DaroogheError(
        retriable ? 'KAFKA' : 'KAFKA_FATAL',
        `produce of ${records.length} records failed`,
        {
          cause
        }
      )
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#tx) await this.#tx.abort().catch(() => {})
    await this.#producer.close()
  }
}

type ProducedOffset = { topic: string; partition: number; offset: bigint }

/**
 * Bytes of one partition's record batch in a produce request, well under the broker's default
 * message.max.bytes (1 MiB), which applies per record batch: a request may carry one such
 * batch for every partition, so a big send needs few round trips (it is sent chunk by chunk).
 */
const MAX_BATCH_BYTES = 768 * 1024

/**
 * Start indexes of the chunks, plus the end: [0, i1, i2, …, n]. A new chunk starts when a
 * record would take its partition's batch in the current chunk past MAX_BATCH_BYTES.
 */
export function chunkBounds(
  messages: readonly { topic: string; partition?: number; key?: Buffer; value?: Buffer }[]
): number[] {
  const bounds = [0]
  let bytes = new Map<string, number>()
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!
    const size = (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64
    const k = `${m.topic}\u0000${m.partition ?? -1}`
    const used = bytes.get(k) ?? 0
    if (used + size > MAX_BATCH_BYTES && i > bounds[bounds.length - 1]!) {
      bounds.push(i)
      bytes = new Map()
      bytes.set(k, size)
    } else bytes.set(k, used + size)
  }
  bounds.push(messages.length)
  return bounds
}

/** Record i's offset = its partition's base offset + its index among that partition's records. */
function acksFor(
  records: readonly OutRecord[],
  partitions: readonly number[],
  offsets: readonly ProducedOffset[]
): RecordAck[] {
  // Chunks of one send reach each partition in order, so a partition's records are
  // contiguous from the first chunk's base offset on.
  const base = new Map<string, number>()
  for (const o of offsets) {
    const k = `${o.topic}:${o.partition}`
    if (!base.has(k)) base.set(k, Number(o.offset))
  }
  const next = new Map<string, number>()
  const acks = new Array<RecordAck>(records.length)
  for (let i = 0; i < records.length; i++) {
    const k = `${records[i]!.topic}:${partitions[i]}`
    const idx = next.get(k) ?? 0
    next.set(k, idx + 1)
    const b = base.get(k)
    acks[i] = { partition: partitions[i]!, offset: b === undefined ? -1 : b + idx }
  }
  return acks
}

/**
 * The client marks each error in a chain with `canRetry`; a produce is worth retrying only
 * when none of them says no (e.g. an invalid timestamp or a too-large record never succeeds).
 */
export function kafkaRetriable(error: unknown): boolean {
  const e = error as { findBy?: (key: string, value: unknown) => unknown } | null
  if (e && typeof e.findBy === 'function') return !e.findBy('canRetry', false)
  return true
}
