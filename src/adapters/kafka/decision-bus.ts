import { randomUUID } from 'node:crypto'
import { Consumer, stringDeserializer } from '@platformatic/kafka'
import { DaroogheError } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import type { DecisionBus } from '../../ports/decision-bus.ts'
import type { LogRecord, OutRecord } from '../../ports/log.ts'
import { Outage, retryOptions, type Resilience } from '../../retry.ts'
import { KafkaLogAdmin } from './admin.ts'
import { kafkaFailure } from './errors.ts'
import { KafkaFetcher } from './fetcher.ts'
import { murmur2 } from './murmur2.ts'
import { baseOptions, type KafkaConnection } from './options.ts'
import { KafkaLogProducer } from './producer.ts'

export interface KafkaDecisionBusOptions extends KafkaConnection {
  readonly input: string
  readonly replies: string
  /** Partitions of a topic `start` creates. Default 6. */
  readonly partitions?: number
  readonly log: Logger
  /** Where the reply reader's retries are reported (/health). */
  readonly resilience?: Resilience
  /** Longest a fetch of replies waits on the broker when there is none, ms. Default 500. */
  readonly maxWaitMs?: number
}

/**
 * DecisionBus on Kafka. Sends: the idempotent producer, at most one send in flight per
 * partition of the input topic, so a partition's records are written in call order
 * (concurrent sends to one partition could reach the broker out of order, and their sequence
 * numbers with them). No linger: the records of every partition with none in flight go out
 * together at the end of the event-loop turn they arrived in (one produce request, not one per
 * partition: a syscall is dear on a small machine); a busy partition's records go as soon as
 * its send is acknowledged. Partitions never wait for each other's acknowledgements.
 * Replies: our fetcher (fetcher.ts) on every partition of the reply topic from its end, never
 * joining a group: fetches wait on the broker until a reply arrives (no polling interval),
 * read_committed (an exactly-once detector's aborted replies are never read).
 */
export class KafkaDecisionBus implements DecisionBus {
  readonly #o: KafkaDecisionBusOptions
  readonly #producer: KafkaLogProducer
  /** Records waiting, per partition. */
  readonly #waiting = new Map<number, Waiting[]>()
  /** Partitions with a send in flight. */
  readonly #busy = new Set<number>()
  #scheduled = false
  #roundRobin = 0
  #count = 0
  #countAt = 0
  #consumer: Consumer<Buffer, Buffer, string, string> | null = null
  #fetcher: KafkaFetcher | null = null
  #reading: Promise<void> | null = null
  #closed = false

  constructor(options: KafkaDecisionBusOptions) {
    this.#o = options
    this.#producer = new KafkaLogProducer({
      ...options,
      clientId: `${options.clientId ?? 'darooghe'}-decisions`,
      // A send that fails answers 503 soon; the client retries the request (it is idempotent).
      retries: options.retries ?? 2
    })
  }

  async start(onReply: (replies: readonly LogRecord[]) => void): Promise<void> {
    if (this.#closed) throw new DaroogheError('CLOSED', 'the decision bus is closed')
    const { input, replies } = this.#o
    const admin = new KafkaLogAdmin({ ...this.#o, retries: 0, timeoutMs: 5_000 })
    try {
      const partitions = this.#o.partitions ?? 6
      await admin.createTopics([input, replies].map(name => ({ name, partitions })))
    } catch (cause) {
      throw await kafkaFailure(`cannot create the topics '${input}' and '${replies}'`, cause, this.#o)
    } finally {
      await admin.close().catch(() => {})
    }
    this.#count = await this.#producer.partitionCount(input)
    this.#countAt = Date.now()
    // The client needs a group id to be built; it is never joined (fetches name partitions).
    const consumer = new Consumer<Buffer, Buffer, string, string>({
      ...baseOptions(this.#o, 'replies'),
      groupId: `darooghe-replies-unused-${randomUUID()}`,
      deserializers: { headerKey: stringDeserializer, headerValue: stringDeserializer }
    })
    this.#consumer = consumer
    const fetcher = new KafkaFetcher(consumer, {
      maxWaitMs: this.#o.maxWaitMs ?? 500,
      readCommitted: true,
      fromBeginning: false
    })
    this.#fetcher = fetcher
    try {
      const md = await consumer.metadata({ topics: [replies] })
      const count = md.topics.get(replies)?.partitionsCount ?? 0
      if (count <= 0) throw new DaroogheError('KAFKA', `topic '${replies}' has no partitions`)
      // No committed offsets (the group is never used): every partition starts at its end.
      await fetcher.seek(Array.from({ length: count }, (_, partition) => ({ topic: replies, partition })))
    } catch (cause) {
      // Left as before the call: start may be called again.
      this.#fetcher = null
      this.#consumer = null
      await fetcher.close()
      await new Promise<void>(resolve => consumer.close(true, () => resolve()))
      throw cause instanceof DaroogheError
        ? cause
        : await kafkaFailure(`cannot read the end of '${replies}'`, cause, this.#o)
    }
    this.#reading = this.#read(fetcher, onReply)
  }

  async #read(fetcher: KafkaFetcher, onReply: (replies: readonly LogRecord[]) => void): Promise<void> {
    const outage = new Outage(
      `read the replies on '${this.#o.replies}'`,
      this.#o.resilience?.log ?? this.#o.log,
      retryOptions(this.#o.resilience, { dependency: 'kafka', retryForMs: Number.POSITIVE_INFINITY })
    )
    while (!this.#closed) {
      let records: LogRecord[]
      try {
        records = await fetcher.fetch()
        outage.succeeded()
      } catch (error) {
        if (this.#closed) break
        // Nothing stops the reader but close(): the API answers 504 meanwhile.
        await outage.failed(error, true).catch(() => {})
        continue
      }
      if (records.length > 0) onReply(records)
    }
    outage.end()
  }

  send(record: OutRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new DaroogheError('CLOSED', 'the decision bus is closed'))
    if (record.topic !== this.#o.input)
      return Promise.reject(
        new DaroogheError('INTERNAL', `the decision bus sends to '${this.#o.input}' only`)
      )
    // Synchronous up to the queue, so that records are queued in call order.
    const count = this.#partitionCount()
    if (count === 0)
      return Promise.reject(new DaroogheError('UNAVAILABLE', 'the decision bus is not started'))
    const key = record.key
    const partition = key == null ? this.#roundRobin++ % count : murmur2(key) % count
    let list = this.#waiting.get(partition)
    if (list === undefined) this.#waiting.set(partition, (list = []))
    const queued = list
    return new Promise<void>((resolve, reject) => {
      queued.push({ record: { ...record, partition }, resolve, reject })
      this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.#flush()
    })
  }

  /** One send of everything waiting on the partitions with nothing in flight. */
  #flush(): void {
    const batch: Waiting[] = []
    const partitions: number[] = []
    for (const [partition, list] of this.#waiting) {
      if (list.length === 0 || this.#busy.has(partition)) continue
      this.#busy.add(partition)
      partitions.push(partition)
      for (const w of list) batch.push(w)
      this.#waiting.set(partition, [])
    }
    if (batch.length === 0) return
    this.#producer.send(batch.map(w => w.record)).then(
      () => this.#sent(batch, partitions, null),
      (error: unknown) => this.#sent(batch, partitions, error)
    )
  }

  #sent(batch: readonly Waiting[], partitions: readonly number[], error: unknown): void {
    for (const p of partitions) this.#busy.delete(p)
    for (const w of batch) {
      if (error === null) w.resolve()
      else w.reject(error)
    }
    if (partitions.some(p => (this.#waiting.get(p)?.length ?? 0) > 0)) this.#schedule()
  }

  /** The input's partition count read at start, refreshed in the background every minute. */
  #partitionCount(): number {
    const now = Date.now()
    if (now - this.#countAt > 60_000) {
      this.#countAt = now
      this.#producer.partitionCount(this.#o.input).then(
        n => (this.#count = n),
        () => {}
      )
    }
    return this.#count
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const closed = new DaroogheError('CLOSED', 'the decision bus is closed')
    for (const list of this.#waiting.values()) for (const w of list) w.reject(closed)
    this.#waiting.clear()
    await this.#fetcher?.close()
    await this.#reading
    const consumer = this.#consumer
    if (consumer) await new Promise<void>(resolve => consumer.close(true, () => resolve()))
    await this.#producer.close().catch(() => {})
  }
}

interface Waiting {
  readonly record: OutRecord
  resolve(): void
  reject(error: unknown): void
}
