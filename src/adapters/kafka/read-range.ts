import { randomUUID } from 'node:crypto'
import {
  Admin,
  Consumer,
  FetchIsolationLevels,
  ListOffsetTimestamps,
  MessagesStreamModes,
  stringDeserializer,
  type MessagesStream
} from '@platformatic/kafka'
import { DaroogheError } from '../../errors.ts'
import type { LogRecord } from '../../ports/log.ts'
import { kafkaFailure } from './errors.ts'
import { baseOptions, type KafkaConnection } from './options.ts'
import { toLogRecord } from './records.ts'

export interface ReadRangeOptions extends KafkaConnection {
  readonly topic: string
  /** Start at the first record stamped at or after this time, epoch ms. Default: the earliest offset. */
  readonly fromTimestampMs?: number
  /** Records per yielded batch. Default 5 000. */
  readonly batchSize?: number
  /**
   * Stop when no record arrived for this long, ms, even if an end offset was not reached: the
   * last offsets of a transactional topic are commit markers that are never delivered.
   * Default 5 000.
   */
  readonly idleMs?: number
}

type Stream = MessagesStream<Buffer, Buffer, string, string>
type RawMessage = Parameters<typeof toLogRecord>[0]

/** Start and end offsets of every partition: [start, end) is what the read delivers. */
export async function offsetRange(options: ReadRangeOptions): Promise<{ start: number[]; end: number[] }> {
  const admin = new Admin(baseOptions(options, 'analyze-admin'))
  try {
    const md = await admin.metadata({ topics: [options.topic] })
    const count = md.topics.get(options.topic)?.partitionsCount ?? 0
    const list = async (timestamp: bigint): Promise<number[]> => {
      const partitions = Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp }))
      const res = await admin.listOffsets({ topics: [{ name: options.topic, partitions }] })
      const out = new Array<number>(count).fill(-1)
      for (const t of res) for (const p of t.partitions) out[p.partitionIndex] = Number(p.offset)
      return out
    }
    const end = await list(ListOffsetTimestamps.LATEST)
    const from =
      options.fromTimestampMs === undefined ? ListOffsetTimestamps.EARLIEST : BigInt(options.fromTimestampMs)
    // No record at or after the timestamp: the broker answers -1, and the partition is empty for us.
    const start = (await list(from)).map((o, i) => (o < 0 ? end[i]! : o))
    return { start, end }
  } catch (cause) {
    const what = `cannot read the offsets of topic '${options.topic}'`
    const error = await kafkaFailure(what, cause, options)
    if (!error.retriable) throw error
    throw new DaroogheError('KAFKA', `${what}: check --brokers and --topic`, { cause })
  } finally {
    await admin.close()
  }
}

/**
 * Reads a topic from the earliest offset (or a timestamp) up to the end offsets taken when the
 * read starts, in batches, then stops: records produced meanwhile are not part of the run.
 * A throwaway consumer group is used only because the client needs one to fetch; no offset is
 * committed and the group is deleted at the end.
 */
export async function* readTopicRange(options: ReadRangeOptions): AsyncGenerator<LogRecord[]> {
  const { start, end } = await offsetRange(options)
  const pending = new Set(start.flatMap((s, p) => (s < end[p]! ? [p] : [])))
  if (pending.size === 0) return
  const groupId = `darooghe-analyze-${randomUUID()}`
  const consumer = new Consumer<Buffer, Buffer, string, string>({
    ...baseOptions(options, 'analyze'),
    groupId,
    deserializers: { headerKey: stringDeserializer, headerValue: stringDeserializer }
  })
  let stream: Stream | null = null
  try {
    stream = await consumer.consume({
      topics: [options.topic],
      mode: MessagesStreamModes.MANUAL,
      offsets: [...pending].map(partition => ({
        topic: options.topic,
        partition,
        offset: BigInt(start[partition]!)
      })),
      autocommit: false,
      maxWaitTime: 200,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED
    })
    yield* drain(stream, options, end, pending)
  } catch (cause) {
    if (cause instanceof DaroogheError) throw cause
    throw new DaroogheError('KAFKA', `reading topic '${options.topic}' failed`, { cause })
  } finally {
    await stream?.close().catch(() => {})
    // close(force) is typed with the callback overload; the promise form takes a boolean too.
    await new Promise<void>(resolve => consumer.close(true, () => resolve()))
    await deleteGroup(options, groupId)
  }
}

async function* drain(
  stream: Stream,
  options: ReadRangeOptions,
  end: readonly number[],
  pending: Set<number>
): AsyncGenerator<LogRecord[]> {
  const size = options.batchSize ?? 5_000
  const idleMs = options.idleMs ?? 5_000
  let batch: LogRecord[] = []
  let lastSeen = Date.now()
  const iterator = stream[Symbol.asyncIterator]()
  while (pending.size > 0) {
    const next = await Promise.race([
      iterator.next(),
      new Promise<'idle'>(resolve =>
        setTimeout(() => resolve('idle'), Math.max(50, idleMs - (Date.now() - lastSeen))).unref()
      )
    ])
    if (next === 'idle') {
      if (Date.now() - lastSeen >= idleMs) break
      continue
    }
    if (next.done) break
    lastSeen = Date.now()
    const m = next.value as RawMessage
    const offset = Number(m.offset)
    if (!pending.has(m.partition) || offset >= end[m.partition]!) continue
    batch.push(toLogRecord(m))
    if (offset >= end[m.partition]! - 1) pending.delete(m.partition)
    if (batch.length >= size) {
      yield batch
      batch = []
    }
  }
  if (batch.length > 0) yield batch
}

async function deleteGroup(options: KafkaConnection, groupId: string): Promise<void> {
  const admin = new Admin(baseOptions(options, 'analyze-admin'))
  try {
    await admin.deleteGroups({ groups: [groupId] })
  } catch {
    // Nothing was committed: a group left behind is empty and expires on the broker.
  } finally {
    await admin.close().catch(() => {})
  }
}
