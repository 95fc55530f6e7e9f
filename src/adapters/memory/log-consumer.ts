import { DaroogheError } from '../../errors.ts'
import type {
  BatchHandler,
  ConsumerOptions,
  LogConsumer,
  LogRecord,
  PartitionOffset,
  TopicPartition
} from '../../ports/log.ts'
import type { GroupMember } from './log-group.ts'
import type { MemoryLog } from './log.ts'

export interface MemoryConsumerOptions extends ConsumerOptions {
  /** Prefix of the group member id. Default 'darooghe'. */
  readonly clientId?: string
}

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`

/**
 * LogConsumer on the embedded log, with the Kafka adapter's semantics: `run` joins the group,
 * `onAssignment` is called before the first batch and after every rebalance (between
 * batches), a newly owned partition starts at the group's committed offset (else earliest or
 * latest per `fromBeginning`), batches of up to `maxBatchRecords` are delivered one at a time
 * and committed (last + 1 per partition) once `onBatch` resolved (and its `durable`, when it
 * returned one: a failed one rewinds every partition to its committed offset). Waiting for records is an
 * event from the log, not a poll. `maxWaitMs` and `readCommitted` have nothing to tune here
 * (records are visible as soon as they are appended; there are no transactions).
 *
 * `close()` leaves the group at once, like the Kafka adapter: a batch still in `onBatch` is
 * not committed (its partitions moved) and is delivered again to the next owner.
 * If `onBatch` or `onAssignment` throws, the member leaves the group and `run` rejects.
 */
export class MemoryLogConsumer implements LogConsumer {
  readonly #log: MemoryLog
  readonly #options: MemoryConsumerOptions
  #member: GroupMember | null = null
  #running = false
  #closing = false
  #signalled = false
  #wake: (() => void) | null = null

  constructor(log: MemoryLog, options: MemoryConsumerOptions) {
    if (options.topics.length === 0) throw new DaroogheError('CONFIG', 'a consumer needs at least one topic')
    const max = options.maxBatchRecords ?? 5_000
    if (!Number.isInteger(max) || max < 1) {
      throw new DaroogheError('CONFIG', `maxBatchRecords must be a positive integer, not ${max}`)
    }
    this.#log = log
    this.#options = options
  }

  assignment(): readonly TopicPartition[] {
    return this.#member?.assignment ?? []
  }

  async run(handler: BatchHandler): Promise<void> {
    if (this.#closing) throw new DaroogheError('CLOSED', 'consumer is closed')
    if (this.#running) throw new DaroogheError('INTERNAL', 'consumer is already running')
    this.#running = true
    const o = this.#options
    const notify = (): void => {
      this.#signalled = true
      const w = this.#wake
      this.#wake = null
      w?.()
    }
    const unsubscribe = o.topics.map(t => this.#log.onAppend(t, notify))
    const member = this.#log.joinGroup(o.groupId, o.topics, o.clientId ?? 'darooghe', notify)
    this.#member = member
    try {
      await this.#loop(member, handler)
    } finally {
      for (const off of unsubscribe) off()
      member.leave()
      this.#running = false
    }
  }

  async #loop(member: GroupMember, handler: BatchHandler): Promise<void> {
    const max = this.#options.maxBatchRecords ?? 5_000
    let positions = new Map<string, number>()
    let owned: readonly TopicPartition[] = []
    let seen = -1
    let turn = 0
    // Pipelined batches (onBatch returned `durable`): each one's offsets are committed once it
    // and every batch before it are durable; a failure rewinds to the committed offsets.
    let durable: Promise<boolean> = Promise.resolve(true)
    let rewind = false
    while (!this.#closing) {
      if (member.generation !== seen || rewind) {
        await durable
        durable = Promise.resolve(true)
        const previous = rewind ? -1 : seen
        rewind = false
        seen = member.generation
        owned = member.assignment.slice()
        positions = this.#positions(member, owned, positions, previous)
        await handler.onAssignment?.(owned)
        continue // another rebalance may have happened meanwhile
      }
      this.#signalled = false
      const batch = this.#collect(owned, positions, max, turn++)
      if (batch.length === 0) {
        await new Promise<void>(resolve => {
          // Anything appended or rebalanced since the collect above already signalled.
          if (this.#signalled || this.#closing) resolve()
          else this.#wake = resolve
        })
        continue
      }
      const inFlight = await handler.onBatch(batch)
      const offsets = nextOffsets(batch)
      if (!inFlight) {
        member.commit(seen, offsets)
        continue
      }
      const generation = seen
      const previous = durable
      durable = (async () => {
        if (!(await previous)) return false
        try {
          await inFlight.durable
        } catch {
          rewind = true
          // A loop waiting for records must see it now.
          this.#signalled = true
          const w = this.#wake
          this.#wake = null
          w?.()
          return false
        }
        member.commit(generation, offsets)
        return true
      })()
    }
    await durable
  }

  /** Kept partitions go on from where this member is; new ones from the committed offset. */
  #positions(
    member: GroupMember,
    owned: readonly TopicPartition[],
    before: Map<string, number>,
    previousGeneration: number
  ): Map<string, number> {
    const next = new Map<string, number>()
    for (const tp of owned) {
      const k = tpKey(tp.topic, tp.partition)
      const kept = before.get(k)
      const since = member.ownedSince(tp.topic, tp.partition) ?? Infinity
      next.set(k, kept !== undefined && since <= previousGeneration ? kept : this.#startOf(tp))
    }
    return next
  }

  #startOf(tp: TopicPartition): number {
    const log = this.#log
    const start = log.startOffsets(tp.topic)[tp.partition] ?? 0
    const end = log.endOffsets(tp.topic)[tp.partition] ?? 0
    const committed = log.committedOffsets(this.#options.groupId, tp.topic)[tp.partition] ?? -1
    if (committed >= 0) return Math.min(Math.max(committed, start), end)
    return (this.#options.fromBeginning ?? true) ? start : end
  }

  /** Up to `max` records, a fair share per partition first, starting at a rotating partition. */
  #collect(
    owned: readonly TopicPartition[],
    positions: Map<string, number>,
    max: number,
    turn: number
  ): LogRecord[] {
    const n = owned.length
    const out: LogRecord[] = []
    if (n === 0) return out
    for (const share of [Math.ceil(max / n), max]) {
      for (let i = 0; i < n && out.length < max; i++) {
        const tp = owned[(turn + i) % n]!
        const k = tpKey(tp.topic, tp.partition)
        const from = positions.get(k) ?? 0
        const records = this.#log.readRange(tp.topic, tp.partition, from, Math.min(share, max - out.length))
        if (records.length === 0) continue
        for (const r of records) out.push(r)
        positions.set(k, records[records.length - 1]!.offset + 1)
      }
    }
    return out
  }

  async close(): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    this.#member?.leave()
    const w = this.#wake
    this.#wake = null
    w?.()
  }
}

function nextOffsets(batch: readonly LogRecord[]): PartitionOffset[] {
  const next = new Map<string, PartitionOffset>()
  for (const r of batch) {
    const k = tpKey(r.topic, r.partition)
    const cur = next.get(k)
    if (!cur || r.offset + 1 > cur.offset)
      next.set(k, { topic: r.topic, partition: r.partition, offset: r.offset + 1 })
  }
  return [...next.values()]
}
