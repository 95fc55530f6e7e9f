import {
  type Consumer,
  type Message,
  type MessageToProduce,
  ProduceAcks,
  type ProduceResult,
  Producer,
  stringSerializer
} from '@platformatic/kafka'
import { DaroogheError } from '../../errors.ts'
import { silentLogger } from '../../logger.ts'
import { Outage, retryOptions, type Resilience } from '../../retry.ts'
import { kafkaFailure, timedOut } from './errors.ts'
import type { LogProducer, OutRecord, RecordAck } from '../../ports/log.ts'
import { compressionCodec } from './compression.ts'
import { murmur2 } from './murmur2.ts'
import { baseOptions, type KafkaConnection } from './options.ts'
import { chunkBounds } from './chunks.ts'
import { DirectSender } from './producer-direct.ts'
import { toKafkaMessage } from './records.ts'

export { chunkBounds } from './chunks.ts'

export interface KafkaProducerOptions extends KafkaConnection {
  /** Idempotent producer (no duplicates on retry). Default true; forces acks=all. */
  readonly idempotent?: boolean
  /** 'all' (-1), 'leader' (1) or 'none' (0). Default 'all'. */
  readonly acks?: 'all' | 'leader' | 'none'
  /**
   * Exactly-once mode: every `send` joins an open Kafka transaction, which the consumer
   * commits together with its offsets (`commitTransaction`). Unique per running instance.
   */
  readonly transactionalId?: string
  /**
   * How long `send` retries through a Kafka outage (a broker restarting, the network cut),
   * where it logs and which health tracker it tells. Without it, `send` makes one attempt
   * (with its quick retries, `retries`) and a retriable error is the caller's to retry, as
   * `darooghe produce` does. Transactional sends are never retried here: the caller runs the
   * batch again in a new transaction.
   */
  readonly resilience?: Resilience
}

/**
 * The last consumed record of a partition, as a transaction commits its offset (+ 1) for the
 * consumer's group: the group's generation and coordinator travel with it.
 */
export interface TransactionOffset {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly metadata: {
    readonly consumer: { groupId: string; memberId: string; generationId: number; coordinatorId: number }
  }
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
 * The records travel by the data path of the connection (`dataPath`, chosen once): `direct`
 * (producer-direct.ts, our Produce requests) or `library` (the client's own `send`); in
 * exactly-once mode always the library's transaction API.
 *
 * Idempotence (direct): each partition batch takes its sequence numbers when first sent, and a
 * retry of the SAME records array (here, or by the caller after a failed `send`) sends the
 * batches not yet acknowledged with the same numbers, so the broker writes each at most once.
 * New records after an abandoned send leave a gap in the numbers; the broker answers
 * OUT_OF_ORDER_SEQUENCE and the producer starts over under a new producer id (produce-state.ts).
 */
export class KafkaLogProducer implements LogProducer {
  #producer: Producer<Buffer, Buffer, string, string>
  readonly #makeProducer: () => Producer<Buffer, Buffer, string, string>
  readonly #acks: number
  readonly #partitionCounts = new Map<string, { count: number; at: number }>()
  readonly #progress = new WeakMap<readonly OutRecord[], { done: number; offsets: ProducedOffset[] }>()
  readonly #resilience: Resilience | undefined
  #closed = false
  readonly #conn: KafkaConnection

  constructor(options: KafkaProducerOptions) {
    this.#conn = options
    const idempotent = options.idempotent ?? true
    this.#resilience = options.resilience
    this.#acks = idempotent ? ProduceAcks.ALL : acksValue[options.acks ?? 'all']
    this.#makeProducer = () =>
      new Producer({
        ...baseOptions(options, 'producer'),
        idempotent,
        acks: this.#acks,
        // The library's own sends (library path, transactions) compress as the connection says.
        compression: options.compression ?? 'none',
        autocreateTopics: true,
        serializers: { headerKey: stringSerializer, headerValue: stringSerializer },
        ...(options.transactionalId ? { transactionalId: options.transactionalId } : {})
      })
    this.#producer = this.#makeProducer()
    this.#transactional = options.transactionalId !== undefined
    this.#timeoutMs = options.timeoutMs ?? 30_000
    // The data path is chosen once: transactions always go through the library's transaction
    // API; otherwise our own Produce requests (direct) or the library's send (library).
    this.#sendRecords = this.#transactional
      ? (records, partitions) =>
          this.#sendInChunks(records, partitions, async messages => {
            this.#tx ??= await this.#begin()
            return this.#tx.send({ messages, acks: this.#acks })
          })
      : options.dataPath === 'library'
        ? (records, partitions) =>
            this.#sendInChunks(records, partitions, messages =>
              this.#producer.send({ messages, acks: this.#acks })
            )
        : this.#directSender(options, idempotent)
  }

  #directSender(options: KafkaProducerOptions, idempotent: boolean): DirectSender['send'] {
    const sender = new DirectSender({
      client: () => this.#producer,
      idempotent,
      acks: this.#acks,
      timeoutMs: this.#timeoutMs,
      retries: options.retries ?? 5,
      retryDelayMs: options.retryDelayMs ?? 250,
      codec: compressionCodec(options.compression),
      closed: () => this.#closed
    })
    return (records, partitions) => sender.send(records, partitions)
  }

  readonly #sendRecords: (
    records: readonly OutRecord[],
    partitions: readonly number[]
  ) => Promise<RecordAck[]>

  readonly #transactional: boolean
  readonly #timeoutMs: number
  /** Records are copied into produce requests; nothing of theirs is kept once `send` settled. */
  readonly copiesRecords = true
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

  /** A new client (new connections); the producer id and sequence numbers stay ours. */
  #reconnect(): void {
    const old = this.#producer
    this.#producer = this.#makeProducer()
    old.close(true, () => {})
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
    lastMessages: readonly TransactionOffset[]
  ): Promise<void> {
    const tx = this.#tx ?? (await this.#begin())
    this.#tx = null
    try {
      await tx.addConsumer(consumer)
      for (const m of lastMessages)
        await tx.addOffset(m as unknown as Message<Buffer, Buffer, string, string>)
      await tx.commit()
    } catch (cause) {
      await tx.abort().catch(() => {})
      // Retriable (a broker restarting): the consumer reads the batch again for a new
      // transaction. Fatal (fenced, not authorized): the command stops.
      const what = 'transaction commit (the outputs of the batch were aborted)'
      const fenced = (cause as { findBy?: (k: string, v: unknown) => unknown }).findBy?.(
        'producerFenced',
        true
      )
      if (fenced) throw new DaroogheError('KAFKA_FATAL', `${what}: this producer was fenced`, { cause })
      throw await kafkaFailure(what, cause, this.#conn)
    }
  }

  /** Partitions of `topic` (cached for a minute), as `send` routes keyed records by. */
  async partitionCount(topic: string): Promise<number> {
    const cached = this.#partitionCounts.get(topic)
    if (cached && Date.now() - cached.at < PARTITION_COUNT_MAX_AGE_MS) return cached.count
    const md = await this.#producer.metadata({ topics: [topic], autocreateTopics: true })
    const count = md.topics.get(topic)?.partitionsCount ?? 0
    if (count <= 0) throw new DaroogheError('KAFKA', `topic '${topic}' has no partitions`)
    this.#partitionCounts.set(topic, { count, at: Date.now() })
    return count
  }

  /**
   * Sends and waits for every acknowledgement. Each attempt retries what the brokers did not
   * write a few times at once (a leader moving); an outage beyond that (a broker restarting,
   * the network cut) is retried with backoff for as long as the retry policy allows, sending
   * the batches still pending again with the same sequence numbers, so nothing is written
   * twice. Errors no retry passes (authorization, a record too large) surface at once.
   */
  async send(records: readonly OutRecord[]): Promise<RecordAck[]> {
    if (this.#closed) throw new DaroogheError('CLOSED', 'producer is closed')
    if (records.length === 0) return []
    const what = `produce of ${records.length} records`
    const outage = new Outage(what, this.#resilience?.log ?? silentLogger, {
      ...retryOptions(this.#resilience),
      ...(this.#resilience ? {} : { attempts: 1 }),
      dependency: 'kafka'
    })
    try {
      for (;;) {
        try {
          const partitions = await this.#partitionsOf(records)
          const acks = await this.#sendRecords(records, partitions)
          outage.succeeded()
          return acks
        } catch (cause) {
          const error = cause instanceof DaroogheError ? cause : await kafkaFailure(what, cause, this.#conn)
          if (this.#closed || this.#transactional || error.kind === 'CLOSED') throw error
          // A request timed out: its connection may be half-open, and the client keeps it.
          if (timedOut(error)) this.#reconnect()
          await outage.failed(error, error.retriable)
        }
      }
    } finally {
      outage.end()
    }
  }

  /** Each record's partition: its own, murmur2 of its key, or round-robin without a key. */
  async #partitionsOf(records: readonly OutRecord[]): Promise<number[]> {
    // One metadata look-up per topic of the batch, not one await per record.
    const counts = new Map<string, number>()
    for (const r of records) {
      if (r.partition === undefined && !counts.has(r.topic)) counts.set(r.topic, 0)
    }
    for (const topic of counts.keys()) counts.set(topic, await this.partitionCount(topic))
    const partitions = new Array<number>(records.length)
    const roundRobin = new Map<string, number>()
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      if (r.partition !== undefined) partitions[i] = r.partition
      else if (r.key != null) partitions[i] = murmur2(r.key) % counts.get(r.topic)!
      else {
        const count = counts.get(r.topic)!
        const next = roundRobin.get(r.topic) ?? Math.floor(Math.random() * count)
        partitions[i] = next % count
        roundRobin.set(r.topic, next + 1)
      }
    }
    return partitions
  }

  /**
   * Through the client library's send: its transactional send in exactly-once mode (the
   * batches join the open transaction), else its producer's (the `library` data path, where
   * the library keeps the idempotent sequence numbers). A broker refuses record batches above
   * message.max.bytes (1 MiB by default), so a large send goes out in chunks; progress is
   * remembered per records array, and a retry with the same array sends only the chunks not yet
   * acknowledged. (A chunk that failed is sent again by the library under new sequence
   * numbers: unlike the direct path, a chunk written before its acknowledgement was lost may
   * be written twice. The library's public API has no way to resend with the same numbers.)
   */
  async #sendInChunks(
    records: readonly OutRecord[],
    partitions: readonly number[],
    sendChunk: (messages: MessageToProduce<Buffer, Buffer, string, string>[]) => Promise<ProduceResult>
  ): Promise<RecordAck[]> {
    const messages = records.map((r, i) => {
      const m = toKafkaMessage(r)
      m.partition = partitions[i]!
      return m
    })
    const chunks = chunkBounds(records, partitions)
    const progress = this.#progress.get(records) ?? { done: 0, offsets: [] }
    this.#progress.set(records, progress)
    for (let c = progress.done; c < chunks.length - 1; c++) {
      const result = await sendChunk(messages.slice(chunks[c], chunks[c + 1]))
      progress.offsets.push(...(result.offsets ?? []))
      progress.done = c + 1
    }
    this.#progress.delete(records)
    return acksFor(records, partitions, progress.offsets)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#tx) await this.#tx.abort().catch(() => {})
    await this.#producer.close()
  }
}

type ProducedOffset = { topic: string; partition: number; offset: bigint }

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
