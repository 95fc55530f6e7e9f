import {
  type ClusterMetadata,
  type Connection,
  kGetApi,
  kGetConnection,
  ProduceAcks,
  type Producer
} from '@platformatic/kafka'
import { setTimeout as delay } from 'node:timers/promises'
import { DaroogheError } from '../../errors.ts'
import type { OutRecord, RecordAck } from '../../ports/log.ts'
import { chunkBounds, PartitionSlots } from './chunks.ts'
import type { Codec } from './compression.ts'
import { kafkaCodeName } from './errors.ts'
import {
  encodeProduceRequest,
  type PartitionBatch,
  type PartitionResult,
  parseProduceResponse,
  type ProducerIdentity,
  RequestScratch
} from './produce-request.ts'
import { Delivery, type SequencedBatch, Sequencer, Throttle } from './produce-state.ts'

type KafkaProducer = Producer<Buffer, Buffer, string, string>

export interface DirectSenderOptions {
  /** The library client of the moment (replaced on reconnect): metadata, connections, producer id. */
  readonly client: () => KafkaProducer
  readonly idempotent: boolean
  readonly acks: number
  readonly timeoutMs: number
  readonly retries: number
  readonly retryDelayMs: number
  /** `compression.type` of the record batches. */
  readonly codec: Codec
  readonly closed: () => boolean
}

/**
 * The `direct` data path of the producer: our own Produce requests (produce-request.ts), one
 * per partition leader and chunk, each partition's records in one record batch. The
 * bookkeeping (sequence numbers, what a response means, backoff, throttling) is the pure state
 * machine of produce-state.ts; this class does the I/O.
 *
 * With idempotence each batch gets its sequence numbers once, when first sent; a retry, here
 * or by the caller with the same records array, sends the batches not yet acknowledged again
 * with the same numbers, so the broker writes each at most once. Errors that the broker may
 * heal (a leader moving, a broker restarting) are retried here with backoff before they surface.
 */
export class DirectSender {
  readonly #o: DirectSenderOptions
  readonly #chunks = new WeakMap<readonly OutRecord[], SequencedBatch[][]>()
  readonly #sequencer = new Sequencer()
  readonly #throttle = new Throttle()
  /** Request bodies are written here: each is copied before the next is encoded. */
  readonly #scratch = new RequestScratch()
  #identityPromise: Promise<ProducerIdentity> | null = null
  #version: Promise<number> | null = null

  constructor(options: DirectSenderOptions) {
    this.#o = options
  }

  async send(records: readonly OutRecord[], partitions: readonly number[]): Promise<RecordAck[]> {
    let chunks = this.#chunks.get(records)
    if (!chunks) {
      chunks = partitionBatches(records, partitions)
      this.#chunks.set(records, chunks)
    }
    if (chunks.length > 1 && chunks.every(c => c.every(b => !b.done && b.identity === null))) {
      // A send that takes several requests (a partition's records are capped per request) has
      // them all in flight at once: in order on the leader's connection, so the broker appends
      // them in sequence, without a round trip between them. Sequences are reserved in chunk
      // order first. Whatever this first round does not get written is retried below, chunk
      // by chunk, with the same sequence numbers.
      if (this.#o.idempotent) {
        await this.#identity()
        for (const chunk of chunks) for (const b of chunk) this.#sequencer.number(b)
      }
      await Promise.all(chunks.map(chunk => this.#attempt(records, this.#delivery(chunk), false)))
    }
    for (const chunk of chunks) await this.#deliver(records, chunk)
    this.#chunks.delete(records)
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

  #delivery(chunk: readonly SequencedBatch[]): Delivery {
    return new Delivery(chunk, this.#sequencer, this.#o.retries, this.#o.retryDelayMs)
  }

  async #deliver(records: readonly OutRecord[], chunk: readonly SequencedBatch[]): Promise<void> {
    const delivery = this.#delivery(chunk)
    for (;;) {
      const backoff = delivery.nextAttempt()
      if (backoff === null) return
      if (backoff > 0) await delay(backoff)
      if (this.#o.closed()) throw new DaroogheError('CLOSED', 'producer is closed')
      await this.#attempt(records, delivery, true)
    }
  }

  /**
   * One produce of a chunk's pending batches; the delivery marks what the brokers wrote as done
   * and notes why the rest was not. A lost sequence starts a new producer id only when
   * `renumber`. Rejects only with a fatal error.
   */
  async #attempt(records: readonly OutRecord[], delivery: Delivery, renumber: boolean): Promise<void> {
    const pending = delivery.pending()
    const topics = [...new Set(pending.map(b => b.topic))]
    try {
      const identity = this.#o.idempotent ? await this.#identity() : null
      const metadata = await this.#o.client().metadata({
        topics,
        autocreateTopics: true,
        forceUpdate: delivery.stale
      })
      const byLeader = delivery.plan(
        (topic, partition) => metadata.topics.get(topic)?.partitions[partition]?.leader ?? -1
      )
      const sends = [...byLeader].map(([leader, batches]) =>
        this.#produce(metadata, leader, records, batches, identity)
      )
      for (const outcome of await Promise.allSettled(sends)) {
        if (outcome.status === 'rejected') {
          delivery.requestFailed(outcome.reason)
          continue
        }
        for (const { batch, result } of outcome.value) {
          const kind = delivery.result(
            batch,
            result.errorCode,
            result.baseOffset,
            () => produceError(batch, result),
            renumber
          )
          // The broker no longer knows this producer's sequences (its state expired or was
          // lost): start again as a new producer id; pending batches get new numbers.
          if (kind === 'sequence-lost' && renumber) this.#identityPromise = null
        }
      }
    } catch (cause) {
      if (cause instanceof DaroogheError && cause.kind === 'KAFKA_FATAL') throw cause
      delivery.requestFailed(cause)
    }
  }

  async #produce(
    metadata: ClusterMetadata,
    leader: number,
    records: readonly OutRecord[],
    batches: SequencedBatch[],
    identity: ProducerIdentity | null
  ): Promise<{ batch: SequencedBatch; result: PartitionResult }[]> {
    const broker = metadata.brokers.get(leader)
    if (!broker) throw new DaroogheError('KAFKA', `no address for broker ${leader}`)
    const client = this.#o.client()
    const connection = await callback<Connection>(cb => client[kGetConnection](broker, cb))
    const version = await this.#produceVersion()
    const wait = this.#throttle.delay(leader, Date.now())
    if (wait > 0) await delay(wait)
    const request = encodeProduceRequest(
      records,
      batches,
      this.#o.acks,
      this.#o.timeoutMs,
      identity,
      Date.now(),
      this.#scratch,
      this.#o.codec
    )
    if (this.#o.acks === ProduceAcks.NO_RESPONSE) request.context.noResponse = true
    const results = await callback<ReturnType<typeof parseProduceResponse> | undefined>(cb =>
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
    this.#throttle.note(leader, results.throttleTimeMs ?? 0, Date.now())
    const byKey = new Map(batches.map(b => [`${b.topic}:${b.partition}`, b]))
    return results.flatMap(result => {
      const batch = byKey.get(`${result.topic}:${result.partition}`)
      return batch ? [{ batch, result }] : []
    })
  }

  #produceVersion(): Promise<number> {
    return (this.#version ??= callback<{ version: number }>(cb =>
      this.#o.client()[kGetApi]('Produce', cb)
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

  /** The idempotent producer's id and epoch, asked of the broker once (and again after a loss). */
  #identity(): Promise<ProducerIdentity> {
    if (this.#identityPromise === null) {
      const asked = this.#o
        .client()
        .initIdempotentProducer({})
        .then(info => {
          const identity = { producerId: info.producerId, producerEpoch: info.producerEpoch }
          this.#sequencer.adopt(identity)
          return identity
        })
      asked.catch(() => {
        if (this.#identityPromise === asked) this.#identityPromise = null
      })
      this.#identityPromise = asked
    }
    return this.#identityPromise
  }
}

/**
 * The records grouped into chunks (see chunkBounds) and, within a chunk, into one batch per
 * partition in record order.
 */
function partitionBatches(records: readonly OutRecord[], partitions: readonly number[]): SequencedBatch[][] {
  const bounds = chunkBounds(records, partitions)
  const slots = new PartitionSlots()
  const chunks: SequencedBatch[][] = []
  for (let c = 0; c + 1 < bounds.length; c++) {
    const bySlot: (SequencedBatch & { indexes: number[] })[] = []
    const batches: SequencedBatch[] = []
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
