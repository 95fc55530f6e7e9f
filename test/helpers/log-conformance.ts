import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { performance } from 'node:perf_hooks'
import { compatibilityPartitioner } from '@platformatic/kafka'
import type {
  ConsumerOptions,
  LogAdmin,
  LogConsumer,
  LogProducer,
  LogRecord,
  OutRecord,
  TopicPartition
} from '../../src/ports/log.ts'
import { uniqueName, waitFor } from './services.ts'

/** One log implementation under test, made fresh for each test. */
export interface LogUnderTest {
  readonly producer: LogProducer
  readonly admin: LogAdmin
  consumer(
    groupId: string,
    topics: readonly string[],
    options?: Partial<Omit<ConsumerOptions, 'groupId' | 'topics'>>
  ): LogConsumer
  /** A new, empty topic with this many partitions; returns its name. */
  createTopic(partitions: number): Promise<string>
  cleanup(): Promise<void>
}

export type LogFactory = (t: TestContext) => LogUnderTest | Promise<LogUnderTest>

/** A running consumer and everything it saw, in order. */
interface Probe {
  readonly consumer: LogConsumer
  readonly running: Promise<void>
  readonly seen: LogRecord[]
  readonly events: ('assignment' | 'batch')[]
  /** Records delivered for a partition that the last onAssignment did not list. */
  readonly violations: string[]
  batches: number
  emptyBatches: number
  failure: unknown
}

async function open(t: TestContext, factory: LogFactory): Promise<LogUnderTest> {
  const log = await factory(t)
  const consumers: LogConsumer[] = []
  t.after(async () => {
    for (const c of consumers) await c.close()
    await log.cleanup()
  })
  return {
    producer: log.producer,
    admin: log.admin,
    createTopic: p => log.createTopic(p),
    cleanup: () => log.cleanup(),
    consumer: (groupId, topics, options) => {
      const c = log.consumer(groupId, topics, options)
      consumers.push(c)
      return c
    }
  }
}

function start(
  log: LogUnderTest,
  groupId: string,
  topics: readonly string[],
  options?: Partial<ConsumerOptions>
): Probe {
  const consumer = log.consumer(groupId, topics, options)
  let owned = new Set<string>()
  const probe: Probe = {
    consumer,
    running: Promise.resolve(),
    seen: [],
    events: [],
    violations: [],
    batches: 0,
    emptyBatches: 0,
    failure: null
  }
  const running = consumer
    .run({
      onAssignment: (assigned: readonly TopicPartition[]) => {
        probe.events.push('assignment')
        owned = new Set(assigned.map(tp => `${tp.topic}:${tp.partition}`))
      },
      onBatch: async records => {
        probe.events.push('batch')
        probe.batches++
        if (records.length === 0) probe.emptyBatches++
        for (const r of records) {
          if (!owned.has(`${r.topic}:${r.partition}`))
            probe.violations.push(`${r.topic}:${r.partition}@${r.offset}`)
          probe.seen.push(r)
        }
      }
    })
    .catch(error => {
      probe.failure = error
    })
  return Object.assign(probe, { running })
}

const text = (b: Buffer | null): string => b?.toString() ?? ''

function expectedPartition(key: string, partitions: number): number {
  const buf = Buffer.from(key)
  return compatibilityPartitioner({ topic: 'any', key: buf }, buf) % partitions
}

async function committedEqualsEnd(log: LogUnderTest, groupId: string, topic: string): Promise<boolean> {
  const [end, committed] = await Promise.all([
    log.admin.endOffsets(topic),
    log.admin.committedOffsets(groupId, topic)
  ])
  return end.every((e, p) => e === 0 || committed[p] === e)
}

function assignedKeys(c: LogConsumer): string[] {
  return c.assignment().map(tp => `${tp.topic}:${tp.partition}`)
}

/**
 * The LogProducer / LogConsumer / LogAdmin contract of src/ports/log.ts, run against every
 * adapter with the same assertions.
 */
export function logConformance(name: string, factory: LogFactory): void {
  describe(`log conformance: ${name}`, () => {
    test('keyed records keep per-key order on the Java-murmur2 partition of their key', async t => {
      const log = await open(t, factory)
      const topic = await log.createTopic(4)
      const keys = 12
      const perKey = 15
      const records: OutRecord[] = []
      for (let i = 0; i < keys * perKey; i++) {
        records.push({ topic, key: `cust-${i % keys}`, value: String(Math.floor(i / keys)) })
      }
      for (let i = 0; i < records.length; i += 60) await log.producer.send(records.slice(i, i + 60))

      const probe = start(log, uniqueName('g-order'), [topic], { maxBatchRecords: 50 })
      await waitFor(() => probe.seen.length >= records.length || probe.failure, { what: 'all records' })
      assert.equal(probe.failure, null)
      assert.equal(probe.seen.length, records.length)
      const last = new Map<string, number>()
      for (const r of probe.seen) {
        const key = text(r.key)
        assert.equal(r.partition, expectedPartition(key, 4), `partition of ${key}`)
        const seq = Number(text(r.value))
        assert.equal(seq, (last.get(key) ?? -1) + 1, `${key} in order`)
        last.set(key, seq)
      }
      assert.equal(last.size, keys)
      assert.deepEqual(probe.violations, [])
    })

    test('acks give the partition and offset where each record landed', async t => {
      const log = await open(t, factory)
      const topic = await log.createTopic(3)
      const records: OutRecord[] = [
        ...Array.from({ length: 10 }, (_, i) => ({ topic, key: `k${i % 4}`, value: `keyed-${i}` })),
        ...Array.from({ length: 6 }, (_, i) => ({ topic, value: `unkeyed-${i}` })),
        ...Array.from({ length: 3 }, (_, i) => ({ topic, value: `explicit-${i}`, partition: 1 }))
      ]
      const acks = await log.producer.send(records)
      assert.equal(acks.length, records.length)
      records.forEach((r, i) => {
        if (r.partition !== undefined) assert.equal(acks[i]!.partition, r.partition)
        else if (r.key) assert.equal(acks[i]!.partition, expectedPartition(String(r.key), 3))
      })
      const places = new Set(acks.map(a => `${a.partition}:${a.offset}`))
      assert.equal(places.size, records.length, 'no two records at one offset')

      const end = await log.admin.endOffsets(topic)
      for (let p = 0; p < 3; p++) {
        assert.equal(end[p], acks.filter(a => a.partition === p).length, `end offset of partition ${p}`)
      }
      const probe = start(log, uniqueName('g-acks'), [topic])
      await waitFor(() => probe.seen.length >= records.length || probe.failure, { what: 'all records' })
      const at = new Map(probe.seen.map(r => [`${r.partition}:${r.offset}`, text(r.value)]))
      records.forEach((r, i) => assert.equal(at.get(`${acks[i]!.partition}:${acks[i]!.offset}`), r.value))
    })

    test('records come back as sent: null key and value, headers, timestamps, a large value', async t => {
      const log = await open(t, factory)
      const topic = await log.createTopic(1)
      const large = Buffer.alloc(200_000, 'x')
      const records: OutRecord[] = [
        { topic, key: null, value: 'no key', timestamp: 1_700_000_000_123 },
        { topic, key: 'tombstone', value: null, timestamp: 1_700_000_000_456 },
        { topic, key: 'h', value: 'with headers', headers: { trace: 'abc', empty: '', ü: 'ß' } },
        { topic, key: Buffer.from([0, 255, 1]), value: large }
      ]
      const before = Date.now()
      await log.producer.send(records)
      const probe = start(log, uniqueName('g-roundtrip'), [topic])
      await waitFor(() => probe.seen.length >= records.length || probe.failure, { what: 'all records' })
      assert.equal(probe.failure, null)
      const [noKey, tombstone, withHeaders, big] = probe.seen
      assert.equal(noKey!.key, null)
      assert.equal(text(noKey!.value), 'no key')
      assert.equal(noKey!.timestamp, 1_700_000_000_123)
      assert.equal(text(tombstone!.key), 'tombstone')
      assert.equal(tombstone!.value, null)
      assert.equal(tombstone!.timestamp, 1_700_000_000_456)
      assert.deepEqual({ ...withHeaders!.headers }, { trace: 'abc', empty: '', ü: 'ß' })
      assert.ok(withHeaders!.timestamp >= before - 1_000, 'default timestamp is the time of sending')
      assert.deepEqual([...big!.key!], [0, 255, 1])
      assert.ok(big!.value!.equals(large), 'large value intact')
      assert.deepEqual(
        probe.seen.map(r => r.offset),
        [0, 1, 2, 3]
      )
    })

    test('a group resumes after the last committed offset', async t => {
      const log = await open(t, factory)
      const topic = await log.createTopic(2)
      const groupId = uniqueName('g-resume')
      const send = (from: number, to: number) =>
        log.producer.send(
          Array.from({ length: to - from }, (_, i) => ({
            topic,
            key: `k${(from + i) % 7}`,
            value: String(from + i)
          }))
        )
      await send(0, 30)
      const first = start(log, groupId, [topic], { maxBatchRecords: 8 })
      await waitFor(() => first.seen.length >= 30 || first.failure, { what: 'first 30' })
      await waitFor(() => committedEqualsEnd(log, groupId, topic), { what: 'commits of the first 30' })
      await first.consumer.close()
      await first.running
      assert.equal(first.failure, null)

      await send(30, 50)
      const second = start(log, groupId, [topic])
      await waitFor(() => second.seen.length >= 20 || second.failure, { what: 'the 20 new records' })
      await waitFor(() => committedEqualsEnd(log, groupId, topic), { what: 'commits of the new records' })
      const values = second.seen.map(r => Number(text(r.value))).sort((a, b) => a - b)
      assert.deepEqual(
        values,
        Array.from({ length: 20 }, (_, i) => 30 + i)
      )
      assert.deepEqual(await log.admin.endOffsets(topic), await log.admin.committedOffsets(groupId, topic))
    })

    test('pipelined batches: offsets committed once durable, in order; a failed one rewinds to the committed offsets', async t => {
      const log = await open(t, factory)
      const topic = await log.createTopic(2)
      const groupId = uniqueName('g-durable')
      await log.producer.send(
        Array.from({ length: 40 }, (_, i) => ({ topic, key: `k${i % 5}`, value: String(i) }))
      )
      const consumer = log.consumer(groupId, [topic], { maxBatchRecords: 4 })
      const seen: number[] = []
      let assignments = 0
      let failed = false
      // Every batch's durability is decided by the test: the first batch holding value 20
      // fails (once), everything else succeeds, each a little later than it was delivered.
      const pending: { resolve: () => void; reject: (e: Error) => void; values: number[] }[] = []
      const running = consumer.run({
        onAssignment: () => void assignments++,
        onBatch: async records => {
          const values = records.map(r => Number(text(r.value)))
          seen.push(...values)
          const durable = new Promise<void>((resolve, reject) => pending.push({ resolve, reject, values }))
          return { durable }
        }
      })
      const settle = async (): Promise<void> => {
        while (pending.length > 0) {
          const p = pending.shift()!
          if (!failed && p.values.includes(20)) {
            failed = true
            p.reject(new Error('injected: not durable'))
          } else p.resolve()
        }
      }
      await waitFor(
        async () => {
          await settle()
          return (await committedEqualsEnd(log, groupId, topic)) && failed
        },
        { what: 'every offset committed after the rewind' }
      )
      await consumer.close()
      await running
      // Nothing lost: every value delivered; the rewind delivered the failed batch (and what
      // came after it on its partition) again, after a second onAssignment.
      assert.deepEqual(
        [...new Set(seen)].sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i)
      )
      assert.ok(seen.filter(v => v === 20).length >= 2, 'the failed batch was delivered again')
      assert.ok(assignments >= 2, 'the rewind called onAssignment again')
    })

    test('two members split the partitions; when one leaves the other takes all, nothing lost', async t => {
      const log = await open(t, factory)
      const topic = await log.createTopic(4)
      const groupId = uniqueName('g-split')
      const a = start(log, groupId, [topic], { maxBatchRecords: 10 })
      await waitFor(() => a.consumer.assignment().length === 4, { what: 'a owns all 4' })
      const b = start(log, groupId, [topic], { maxBatchRecords: 10 })
      await waitFor(
        () => {
          const ka = assignedKeys(a.consumer)
          const kb = assignedKeys(b.consumer)
          return (
            ka.length > 0 &&
            kb.length > 0 &&
            new Set([...ka, ...kb]).size === 4 &&
            ka.length + kb.length === 4
          )
        },
        { what: 'a and b split the 4 partitions' }
      )
      const send = (from: number, to: number) =>
        log.producer.send(
          Array.from({ length: to - from }, (_, i) => ({
            topic,
            key: `c${(from + i) % 23}`,
            value: String(from + i)
          }))
        )
      const distinct = () => new Set([...a.seen, ...b.seen].map(r => text(r.value))).size
      await send(0, 100)
      await waitFor(() => distinct() >= 100, { what: '100 records over both members' })
      assert.ok(a.seen.length > 0 && b.seen.length > 0, 'both members consumed')
      const partsA = new Set(a.seen.map(r => r.partition))
      for (const r of b.seen)
        assert.ok(!partsA.has(r.partition), `partition ${r.partition} read by one member only`)

      await b.consumer.close()
      await b.running
      await waitFor(() => a.consumer.assignment().length === 4, { what: 'a takes all 4 back' })
      await send(100, 200)
      await waitFor(() => distinct() >= 200, { what: 'all 200 records' })
      assert.equal(a.failure, null)
      assert.equal(b.failure, null)
      assert.deepEqual(a.violations, [], 'a got records only of partitions it was told it owns')
      assert.deepEqual(b.violations, [], 'b got records only of partitions it was told it owns')
    })

    test('onAssignment comes before the first batch', async t => {
      const log = await open(t, factory)
      const topic = await log.createTopic(2)
      await log.producer.send([{ topic, key: 'a', value: '1' }])
      const probe = start(log, uniqueName('g-assign'), [topic])
      await waitFor(() => probe.seen.length >= 1 || probe.failure, { what: 'one record' })
      assert.equal(probe.events[0], 'assignment')
      assert.deepEqual(probe.violations, [])
    })

    test('an empty topic makes run wait without spinning, and deliver when records arrive', async t => {
      const log = await open(t, factory)
      const topic = await log.createTopic(2)
      const probe = start(log, uniqueName('g-empty'), [topic])
      await waitFor(() => probe.events.includes('assignment') && probe.consumer.assignment().length === 2, {
        what: 'the assignment'
      })
      // A measurement window, not a guess at timing: a consumer that spins keeps the event
      // loop busy for all of it, one that waits leaves it idle.
      const before = performance.eventLoopUtilization()
      const until = Date.now() + 300
      await waitFor(() => Date.now() >= until, { intervalMs: 20 })
      const busy = performance.eventLoopUtilization(before).utilization
      assert.ok(busy < 0.5, `event loop ${Math.round(busy * 100)} % busy while idle`)
      assert.equal(probe.batches, 0, 'no batch from an empty topic')

      await log.producer.send([1, 2, 3].map(i => ({ topic, key: `k${i}`, value: String(i) })))
      await waitFor(() => probe.seen.length >= 3 || probe.failure, {
        what: 'the 3 records',
        timeoutMs: 10_000
      })
      assert.equal(probe.emptyBatches, 0)
    })

    test('endOffsets and committedOffsets', async t => {
      const log = await open(t, factory)
      const topic = await log.createTopic(3)
      const groupId = uniqueName('g-offsets')
      assert.deepEqual(await log.admin.endOffsets(topic), [0, 0, 0])
      assert.deepEqual(await log.admin.committedOffsets(groupId, topic), [-1, -1, -1])
      const listed = (await log.admin.listTopics()).find(x => x.name === topic)
      assert.deepEqual(listed, { name: topic, partitions: 3 })

      await log.producer.send([
        { topic, value: 'a', partition: 0 },
        { topic, value: 'b', partition: 2 },
        { topic, value: 'c', partition: 0 },
        ...Array.from({ length: 4 }, (_, i) => ({ topic, value: `d${i}`, partition: 2 }))
      ])
      assert.deepEqual(await log.admin.endOffsets(topic), [2, 0, 5])
      const probe = start(log, groupId, [topic], { maxBatchRecords: 3 })
      await waitFor(() => probe.seen.length >= 7 || probe.failure, { what: '7 records' })
      await waitFor(
        async () => JSON.stringify(await log.admin.committedOffsets(groupId, topic)) === '[2,-1,5]',
        { what: 'committed offsets [2, -1, 5]' }
      )
      const p2 = probe.seen.filter(r => r.partition === 2).map(r => [r.offset, text(r.value)])
      assert.deepEqual(p2, [
        [0, 'b'],
        [1, 'd0'],
        [2, 'd1'],
        [3, 'd2'],
        [4, 'd3']
      ])
    })
  })
}
