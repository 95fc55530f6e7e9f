import {
  type ClusterMetadata,
  type Connection,
  type Consumer,
  kGetApi,
  kGetConnection,
  type Message,
  ProduceAcks,
  Producer,
  stringSerializer
} from '@platformatic/kafka'
import { DaroogheError } from '../../errors.ts'
import { silentLogger } from '../../logger.ts'
import { Outage, retryOptions, type Resilience } from '../../retry.ts'
import { fatalCodeReason, kafkaCode, kafkaCodeName, kafkaError, timedOut } from './errors.ts'
import type { LogProducer, OutRecord, RecordAck } from '../../ports/log.ts'
import { type Codec, compressionCodec } from './compression.ts'
import { murmur2 } from './murmur2.ts'
import { baseOptions, type KafkaConnection } from './options.ts'
import {
  encodeProduceRequest,
  RequestScratch,
  type PartitionBatch,
  type PartitionResult,
  parseProduceResponse,
  type ProducerIdentity
} from './produce-request.ts'
import { toKafkaMessage } from './records.ts'

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
 * Idempotence: each partition batch takes its sequence numbers when first sent, and a retry of
 * the SAME records array (here, or by the caller after a failed `send`) sends the batches not
 * yet acknowledged with the same numbers, so the broker writes each at most once. New records
 * after an abandoned send leave a gap in the numbers; the broker answers OUT_OF_ORDER_SEQUENCE
 * and the producer starts over under a new producer id.
 */
export class KafkaLogProducer implements LogProducer {
  #producer: Producer<Buffer, Buffer, string, string>
  readonly #makeProducer: () => Producer<Buffer, Buffer, string, string>
  readonly #acks: number
  readonly #partitionCounts = new Map<string, { count: number; at: number }>()
  readonly #progress = new WeakMap<readonly OutRecord[], { done: number; offsets: ProducedOffset[] }>()
  readonly #direct = new WeakMap<readonly OutRecord[], DirectBatch[][]>()
  readonly #sequences = new Map<string, number>()
  readonly #idempotent: boolean
  readonly #resilience: Resilience | undefined
  readonly #retries: number
  readonly #retryDelayMs: number
  /** `compression.type` of the direct path's record batches. */
  readonly #codec: Codec
  #identityPromise: Promise<ProducerIdentity> | null = null
  #version: Promise<number> | null = null
  #closed = false

  constructor(options: KafkaProducerOptions) {
    const idempotent = options.idempotent ?? true
    this.#idempotent = idempotent
    this.#resilience = options.resilience
    this.#retries = options.retries ?? 5
    this.#retryDelayMs = options.retryDelayMs ?? 250
    this.#acks = idempotent ? ProduceAcks.ALL : acksValue[options.acks ?? 'all']
    this.#codec = compressionCodec(options.compression)
    this.#makeProducer = () =>
      new Producer({
        ...baseOptions(options, 'producer'),
        idempotent,
        acks: this.#acks,
        compression: this.#codec.name,
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
  /** Records are copied into produce requests; nothing of theirs is kept once `send` settled. */
  readonly copiesRecords = true
  /** Request bodies are written here: `send` copies them before the next is encoded. */
  readonly #scratch = new RequestScratch()
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
      throw kafkaError(what, cause)
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
          const acks = this.#transactional
            ? await this.#sendInTransaction(records, partitions)
            : await this.#sendDirect(records, partitions)
          outage.succeeded()
          return acks
        } catch (cause) {
          const error = cause instanceof DaroogheError ? cause : kafkaError(what, cause)
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
   * Exactly-once mode: the client library's transactional send (its batches join the open
   * transaction). A broker refuses record batches above message.max.bytes (1 MiB by default),
   * so a large send goes out in chunks; progress is remembered per records array, and a retry
   * with the same array sends only the chunks not yet acknowledged.
   */
  async #sendInTransaction(
    records: readonly OutRecord[],
    partitions: readonly number[]
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
      this.#tx ??= await this.#begin()
      const result = await this.#tx.send({
        messages: messages.slice(chunks[c], chunks[c + 1]),
        acks: this.#acks
      })
      progress.offsets.push(...(result.offsets ?? []))
      progress.done = c + 1
    }
    this.#progress.delete(records)
    return acksFor(records, partitions, progress.offsets)
  }

  /**
   * The default path: our own Produce requests (produce-request.ts), one per partition leader
   * and chunk, each partition's records in one record batch. With idempotence each batch gets
   * its sequence numbers once, when first sent; a retry, here or by the caller with the same
   * records array, sends the batches not yet acknowledged again with the same numbers, so the
   * broker writes each at most once. Errors that the broker may heal (a leader moving, a
   * broker restarting) are retried here with backoff before they surface.
   */
  async #sendDirect(records: readonly OutRecord[], partitions: readonly number[]): Promise<RecordAck[]> {
    let chunks = this.#direct.get(records)
    if (!chunks) {
      chunks = partitionBatches(records, partitions)
      this.#direct.set(records, chunks)
    }
    if (chunks.length > 1 && chunks.every(c => c.every(b => !b.done && b.identity === null))) {
      // A send that takes several requests (a partition's records are capped per request) has
      // them all in flight at once: in order on the leader's connection, so the broker appends
      // them in sequence, without a round trip between them. Sequences are reserved in chunk
      // order first. Whatever this first round does not get written is retried below, chunk
      // by chunk, with the same sequence numbers.
      const identity = this.#idempotent ? await this.#identity() : null
      if (identity !== null) {
        for (const chunk of chunks) {
          for (const b of chunk) {
            b.baseSequence = this.#reserveSequences(b)
            b.identity = identity
          }
        }
      }
      await Promise.all(
        chunks.map(chunk => this.#attempt(records, chunk, false, { stale: false, error: null }))
      )
    }
    for (const chunk of chunks) await this.#deliver(records, chunk)
    this.#direct.delete(records)
    const acks = new Array<RecordAck>(records.length)
    for (const chunk of chunks) {
      for (const b of chunk) {
        for (let j = 0; j < b.indexes.length; j++) {
          acks[b.indexes[j]!] = { partition: b.partition, offset: b.baseOffset < 0 ? -1 : b.baseOffset + j }
        }
      }
    }
    return acks
  }

  async #deliver(records: readonly OutRecord[], chunk: readonly DirectBatch[]): Promise<void> {
    const last: AttemptState = { stale: false, error: null }
    for (let attempt = 0; ; attempt++) {
      const pending = chunk.filter(b => !b.done)
      if (pending.length === 0) return
      if (attempt > this.#retries) {
        throw new DaroogheError(
          'KAFKA',
          `produce to ${pending.map(b => `${b.topic}:${b.partition}`).join(', ')} failed after ${attempt} attempts`,
          { cause: last.error }
        )
      }
      if (attempt > 0)
        await new Promise(r => setTimeout(r, Math.min(this.#retryDelayMs * 2 ** (attempt - 1), 4_000)))
      if (this.#closed) throw new DaroogheError('CLOSED', 'producer is closed')
      await this.#attempt(records, chunk, true, last)
    }
  }

  /**
   * One produce of a chunk's pending batches; marks what the brokers wrote as done and notes in
   * `last` why the rest was not. A lost sequence (the broker forgot this producer, or a batch
   * came before its predecessor) starts a new producer id only when `renumber`: the concurrent
   * first round of a multi-request send leaves that to the retries, which go in order.
   * Rejects only with a fatal error.
   */
  async #attempt(
    records: readonly OutRecord[],
    chunk: readonly DirectBatch[],
    renumber: boolean,
    last: AttemptState
  ): Promise<void> {
    const pending = chunk.filter(b => !b.done)
    const topics = [...new Set(pending.map(b => b.topic))]
    try {
      const identity = this.#idempotent ? await this.#identity() : null
      for (const b of pending) {
        if (identity !== null && b.identity !== identity) {
          b.baseSequence = this.#reserveSequences(b)
          b.identity = identity
        }
      }
      const metadata = await this.#producer.metadata({
        topics,
        autocreateTopics: true,
        forceUpdate: last.stale
      })
      last.stale = false
      const byLeader = new Map<number, DirectBatch[]>()
      for (const b of pending) {
        const leader = metadata.topics.get(b.topic)?.partitions[b.partition]?.leader ?? -1
        if (leader < 0) {
          last.stale = true
          continue
        }
        const list = byLeader.get(leader)
        if (list) list.push(b)
        else byLeader.set(leader, [b])
      }
      const sends = [...byLeader].map(([leader, batches]) =>
        this.#produce(metadata, leader, records, batches, identity)
      )
      for (const outcome of await Promise.allSettled(sends)) {
        if (outcome.status === 'rejected') {
          last.error = outcome.reason
          last.stale = true
          continue
        }
        for (const { batch, result } of outcome.value) {
          const code = result.errorCode
          if (code === 0 || code === DUPLICATE_SEQUENCE_NUMBER) {
            batch.done = true
            batch.baseOffset = result.baseOffset
          } else if (SEQUENCE_LOST.has(code)) {
            // The broker no longer knows this producer's sequences (its state expired or was
            // lost): start again as a new producer id; pending batches get new numbers.
            last.error = produceError(batch, result)
            if (renumber) this.#identityPromise = null
          } else if (FATAL_PRODUCE.has(code)) {
            const reason = fatalCodeReason(code) ?? `Kafka ${kafkaCodeName(code)} (${code})`
            throw new DaroogheError(
              'KAFKA_FATAL',
              `produce to ${batch.topic}:${batch.partition} refused: ${reason}`,
              { cause: produceError(batch, result) }
            )
          } else {
            // Leaders moving, a broker restarting, or a code this client does not know: sent
            // again (same sequence numbers) a bounded number of times, then it surfaces.
            last.error = produceError(batch, result)
            last.stale = true
          }
        }
      }
    } catch (cause) {
      if (cause instanceof DaroogheError && cause.kind === 'KAFKA_FATAL') throw cause
      last.error = cause
      last.stale = true
    }
  }

  async #produce(
    metadata: ClusterMetadata,
    leader: number,
    records: readonly OutRecord[],
    batches: DirectBatch[],
    identity: ProducerIdentity | null
  ): Promise<{ batch: DirectBatch; result: PartitionResult }[]> {
    const broker = metadata.brokers.get(leader)
    if (!broker) throw new DaroogheError('KAFKA', `no address for broker ${leader}`)
    const connection = await callback<Connection>(cb => this.#producer[kGetConnection](broker, cb))
    const version = await this.#produceVersion()
    const request = encodeProduceRequest(
      records,
      batches,
      this.#acks,
      this.#timeoutMs,
      identity,
      Date.now(),
      this.#scratch,
      this.#codec
    )
    if (this.#acks === ProduceAcks.NO_RESPONSE) request.context.noResponse = true
    const results = await callback<PartitionResult[] | undefined>(cb =>
      connection.send(0, version, () => request, parseProduceResponse, true, true, cb)
    )
    if (results === undefined) {
      // acks=none: the broker answers nothing; the records count as written, offsets unknown.
      return batches.map(batch => ({
        batch,
        result: {
          topic: batch.topic,
          partition: batch.partition,
          errorCode: 0,
          baseOffset: -1,
          errorMessage: null
        }
      }))
    }
    const byKey = new Map(batches.map(b => [`${b.topic}:${b.partition}`, b]))
    return results.flatMap(result => {
      const batch = byKey.get(`${result.topic}:${result.partition}`)
      return batch ? [{ batch, result }] : []
    })
  }

  #produceVersion(): Promise<number> {
    return (this.#version ??= callback<{ version: number }>(cb =>
      this.#producer[kGetApi]('Produce', cb)
    ).then(api => {
      if (api.version < 9) {
        throw new DaroogheError(
          'KAFKA_FATAL',
          `the broker offers Produce v${api.version}; Kafka >= 2.8 is needed`
        )
      }
      return api.version
    }))
  }

  /** The idempotent producer's id and epoch, asked of the broker once (and again after a reset). */
  #identity(): Promise<ProducerIdentity> {
    if (this.#identityPromise === null) {
      const asked = this.#producer.initIdempotentProducer({}).then(info => {
        this.#sequences.clear()
        return { producerId: info.producerId, producerEpoch: info.producerEpoch }
      })
      asked.catch(() => {
        if (this.#identityPromise === asked) this.#identityPromise = null
      })
      this.#identityPromise = asked
    }
    return this.#identityPromise
  }

  /** The next sequence numbers of a batch's partition, taken for good (they wrap at 2^31). */
  #reserveSequences(b: DirectBatch): number {
    const key = `${b.topic}:${b.partition}`
    const first = this.#sequences.get(key) ?? 0
    this.#sequences.set(key, (first + b.indexes.length) % 2 ** 31)
    return first
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#tx) await this.#tx.abort().catch(() => {})
    await this.#producer.close()
  }
}

/** Why the last attempt of a chunk left batches pending, for the next one. */
interface AttemptState {
  /** Look the leaders up again before the next attempt. */
  stale: boolean
  error: unknown
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
  messages: readonly {
    topic: string
    partition?: number
    key?: Buffer | string | null
    value?: Buffer | string | null
    headers?: Readonly<Record<string, string>>
  }[],
  partitions?: readonly number[]
): number[] {
  const slots = new PartitionSlots()
  const bounds = [0]
  let bytes: number[] = []
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!
    let size = byteLength(m.value) + byteLength(m.key) + 64
    if (m.headers) for (const name in m.headers) size += name.length + m.headers[name]!.length + 8
    const slot = slots.of(m.topic, partitions?.[i] ?? m.partition ?? -1)
    const used = bytes[slot] ?? 0
    if (used + size > MAX_BATCH_BYTES && i > bounds[bounds.length - 1]!) {
      bounds.push(i)
      bytes = []
      bytes[slot] = size
    } else bytes[slot] = used + size
  }
  bounds.push(messages.length)
  return bounds
}

/** Small integers for the (topic, partition) pairs of a send, so per-record look-ups index arrays. */
class PartitionSlots {
  readonly #topics = new Map<string, Map<number, number>>()
  #next = 0

  of(topic: string, partition: number): number {
    let byPartition = this.#topics.get(topic)
    if (byPartition === undefined) {
      byPartition = new Map()
      this.#topics.set(topic, byPartition)
    }
    let slot = byPartition.get(partition)
    if (slot === undefined) {
      slot = this.#next++
      byPartition.set(partition, slot)
    }
    return slot
  }
}

function byteLength(v: Buffer | string | null | undefined): number {
  return v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length
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

/** A partition's records of one chunk, with what the direct path learned sending them. */
interface DirectBatch extends PartitionBatch {
  /** The producer identity the sequence numbers were taken under. */
  identity: ProducerIdentity | null
  done: boolean
  baseOffset: number
}

/**
 * The records grouped into chunks (see chunkBounds) and, within a chunk, into one batch per
 * partition in record order.
 */
function partitionBatches(records: readonly OutRecord[], partitions: readonly number[]): DirectBatch[][] {
  const bounds = chunkBounds(records, partitions)
  const slots = new PartitionSlots()
  const chunks: DirectBatch[][] = []
  for (let c = 0; c + 1 < bounds.length; c++) {
    const bySlot: (DirectBatch & { indexes: number[] })[] = []
    const batches: DirectBatch[] = []
    for (let i = bounds[c]!; i < bounds[c + 1]!; i++) {
      const topic = records[i]!.topic
      const partition = partitions[i]!
      const slot = slots.of(topic, partition)
      let b = bySlot[slot]
      if (b === undefined) {
        b = { topic, partition, indexes: [], baseSequence: -1, identity: null, done: false, baseOffset: -1 }
        bySlot[slot] = b
        batches.push(b)
      }
      b.indexes.push(i)
    }
    chunks.push(batches)
  }
  return chunks
}

/**
 * Partition error codes of a produce that no later attempt gets past (the records or the
 * permissions are wrong); every other code is retried, as the leader-moving ones must be.
 */
const FATAL_PRODUCE = new Set(
  [
    'MESSAGE_TOO_LARGE',
    'INVALID_TOPIC_EXCEPTION',
    'RECORD_LIST_TOO_LARGE',
    'INVALID_REQUIRED_ACKS',
    'TOPIC_AUTHORIZATION_FAILED',
    'CLUSTER_AUTHORIZATION_FAILED',
    'INVALID_TIMESTAMP',
    'UNSUPPORTED_FOR_MESSAGE_FORMAT',
    'POLICY_VIOLATION',
    'INVALID_RECORD',
    // The broker does not take this compression.type (zstd before Kafka 2.1).
    'UNSUPPORTED_COMPRESSION_TYPE'
  ].map(kafkaCode)
)
/** The broker already holds this batch (a retry after a lost response): it counts as written. */
const DUPLICATE_SEQUENCE_NUMBER = kafkaCode('DUPLICATE_SEQUENCE_NUMBER')
const SEQUENCE_LOST = new Set(
  ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'INVALID_PRODUCER_EPOCH', 'UNKNOWN_PRODUCER_ID'].map(kafkaCode)
)

function produceError(b: PartitionBatch, r: PartitionResult): Error {
  return new Error(
    `produce to ${b.topic}:${b.partition} failed with Kafka ${kafkaCodeName(r.errorCode)} (${r.errorCode})${r.errorMessage ? ` (${r.errorMessage})` : ''}`
  )
}

function callback<T>(call: (cb: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    call((error, value) => (error ? reject(error) : resolve(value as T)))
  )
}
