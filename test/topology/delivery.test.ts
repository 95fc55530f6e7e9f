import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import type { PaymentEvent } from '../../src/domain/event.ts'
import { northOf } from '../../src/domain/geo.ts'
import type { LogRecord, TopicPartition } from '../../src/ports/log.ts'
import type { StateStore } from '../../src/ports/state-store.ts'
import { makeEvent, T0, TEHRAN, toRecords } from './fixtures.ts'
import { TopologyDriver, wire } from './driver.ts'

/** A mixed stream for one partition: bursts, travel, spikes, errors, late events. */
function stream(n: number, opts: { partition?: number; customers?: number } = {}): LogRecord[] {
  const events: (PaymentEvent | string)[] = []
  for (let i = 0; i < n; i++) {
    const c = `cust_${i % (opts.customers ?? 7)}`
    const t = T0 + i * 9_000 - (i % 11 === 0 ? 20_000 : 0) - (i % 37 === 0 ? 200_000 : 0)
    if (i % 29 === 0) events.push('{"broken":')
    else if (i % 13 === 0)
      events.push(makeEvent({ t, customer_id: c, location: northOf(TEHRAN.lat, TEHRAN.lng, 80) }))
    else if (i % 17 === 0) events.push(makeEvent({ t, customer_id: c, amount: 5_000_000 }))
    else events.push(makeEvent({ t, customer_id: c, merchant_id: `merch_${i % 3}` }))
  }
  return toRecords(events, { partition: opts.partition ?? 0, timestamp: T0 + n * 9_000 })
}

/** Runs batches with the clock stepping 7 ms per batch, as a real run would. */
async function runAll(d: TopologyDriver, batches: LogRecord[][]): Promise<string[]> {
  const out: string[] = []
  for (const b of batches) {
    d.clock.advance(7)
    out.push(...(await d.run(b)).outputs.map(wire))
  }
  return out
}

describe('redelivery without double counting, with identical re-emits', () => {
  test('a batch replayed after a crash (new instance, same store) re-emits identical bytes and leaves state as it was', async () => {
    const recs = stream(60)
    const a = new TopologyDriver()
    const first = await a.run(recs)
    const stateAfter = a.state()
    assert.ok(
      first.stats.late > 0 && first.stats.fraud > 0 && first.stats.errors > 0 && first.stats.alerts > 0
    )
    a.clock.advance(5_000) // the restart happens later: latency must not change in re-emits
    a.restart()
    const again = await a.run(recs)
    assert.deepEqual(again.outputs.map(wire), first.outputs.map(wire))
    assert.equal(again.stats.replayed, 60 - again.stats.duplicatesSkipped)
    assert.equal(again.stats.processed, 0)
    assert.deepEqual(a.state(), stateAfter)
  })

  test('the same instance retrying a batch (outputs not acknowledged) re-emits identical bytes', async () => {
    const recs = stream(30)
    const a = new TopologyDriver()
    const first = await a.run(recs)
    a.clock.advance(1_000)
    assert.deepEqual((await a.run(recs)).outputs.map(wire), first.outputs.map(wire))
  })

  test('a batch replayed partially plus new records equals an uninterrupted run', async () => {
    const recs = stream(80)
    const ref = new TopologyDriver()
    const expected = await runAll(ref, [recs.slice(0, 50), recs.slice(50)])

    const a = new TopologyDriver()
    const got = await runAll(a, [recs.slice(0, 50)])
    a.restart()
    // Redelivery from the last commit (offset 0) returns a bigger batch: 0..64, then the rest.
    const replay = await runAll(a, [recs.slice(0, 65), recs.slice(65)])
    assert.deepEqual(replay.slice(0, got.length), got)
    assert.deepEqual([...got, ...replay.slice(got.length)].length, expected.length)
    // Decisions of 50..79 are those of an uninterrupted run except for processing time.
    const strip = (w: string): string =>
      w.replace(/"processing_latency_ms":\d+|"processed_at":"[^"]+"|"created_at":"[^"]+"/g, '')
    const dec = (xs: string[]): string[] =>
      xs.map(x => strip(Buffer.from(JSON.parse(x)[2], 'base64').toString()))
    assert.deepEqual(dec(replay.slice(got.length)), dec(expected.slice(got.length)))
    assert.deepEqual(
      a.state().filter(([k]) => !k.endsWith('}:b')),
      ref.state().filter(([k]) => !k.endsWith('}:b'))
    )
  })

  test('a crash during the replay itself: the third attempt still re-emits everything identically', async () => {
    const recs = stream(40)
    const a = new TopologyDriver()
    await a.run(recs.slice(0, 25))
    a.restart()
    const second = (await a.run(recs.slice(0, 40))).outputs.map(wire) // 0..24 re-emitted, 25..39 new; not committed
    a.restart()
    const third = (await a.run(recs.slice(0, 40))).outputs.map(wire)
    assert.deepEqual(third, second)
  })

  test('records older than the last written batch are skipped (already committed), counted', async () => {
    const recs = stream(20)
    const a = new TopologyDriver()
    await a.run(recs.slice(0, 10))
    await a.run(recs.slice(10))
    const old = await a.run(recs.slice(0, 10))
    assert.equal(old.outputs.length, 0)
    assert.equal(old.stats.duplicatesSkipped, 10)
  })
})

describe('state moves with the partition', () => {
  test('a fresh instance restores state from the store and decides exactly as an uninterrupted one', async () => {
    const recs = stream(90, { customers: 3 })
    const batches = [recs.slice(0, 30), recs.slice(30, 60), recs.slice(60)]
    const ref = await runAll(new TopologyDriver(), batches)
    const store = new MemoryStateStore()
    const a = new TopologyDriver({ store })
    const out = await runAll(a, batches.slice(0, 1))
    const b = new TopologyDriver({ store })
    b.clock.set(a.clock.now())
    out.push(...(await runAll(b, batches.slice(1))))
    assert.deepEqual(out, ref)
  })

  test('a partition that moves away and back reloads the state written meanwhile by its other owner', async () => {
    const store = new MemoryStateStore()
    const a = new TopologyDriver({ store })
    const b = new TopologyDriver({ store })
    const burst = (from: number, n: number, offset: number): LogRecord[] =>
      toRecords(
        Array.from({ length: n }, (_, i) => makeEvent({ t: T0 + (from + i) * 1_000 })),
        { offset, timestamp: T0 + 100_000 }
      )
    await a.run(burst(0, 3, 0)) // a owns partition 0: 3 events
    a.processor.onAssignment([{ topic: 'darooghe.transactions', partition: 1 }])
    await b.run(burst(3, 2, 3)) // b owns it: 2 more
    a.processor.onAssignment([
      { topic: 'darooghe.transactions', partition: 0 },
      { topic: 'darooghe.transactions', partition: 1 }
    ])
    const [out] = await a.pipe(burst(5, 1, 5))
    assert.equal(out!.value.trace.velocity.count, 6, "a sees b's events: it reloaded the partition")
    assert.equal(out!.value.decision, 'fraud')
  })

  test('a zombie that was not told it lost the partition is fenced: its stale write fails and the re-run sees the new owner', async () => {
    const store = new MemoryStateStore()
    const a = new TopologyDriver({ store })
    const b = new TopologyDriver({ store })
    const e = (i: number): LogRecord[] => toRecords([makeEvent({ t: T0 + i * 1000 })], { offset: i })
    await a.run(e(0))
    await b.run(e(1)) // b took the partition over and wrote its progress
    const before = store.snapshot()
    await assert.rejects(a.pipe(e(2)), /changed since it was read/)
    assert.deepEqual(store.snapshot(), before, "the zombie's write changed nothing")
    // The retry of the same batch runs on the stored state: b's event is counted.
    const [out] = await a.pipe(e(2))
    assert.equal(out!.value.trace.velocity.count, 3)
  })

  test('the Redis-shaped guard: a write expecting an absent progress key fails once it exists', async () => {
    const store = new MemoryStateStore()
    await store.writeBatch([['p:t:0', '5|1']], [], [['p:t:0', null]])
    await assert.rejects(store.writeBatch([['p:t:0', '6|2']], [], [['p:t:0', null]]), {
      code: 'DAROOGHE_ERR_STATE_CONFLICT'
    })
    await store.writeBatch([['p:t:0', '6|2']], [], [['p:t:0', '5|1']])
    assert.deepEqual(await store.getMany(['p:t:0']), ['6|2'])
  })

  test('a failed state write leaves nothing half-done: the retried batch is counted once', async () => {
    const inner = new MemoryStateStore()
    let fail = true
    const flaky: StateStore = {
      getMany: keys => inner.getMany(keys),
      getManyBytes: keys => inner.getManyBytes(keys),
      writeBatch: async (puts, deletes, guards, appends) => {
        if (fail) {
          fail = false
          throw new Error('connection reset')
        }
        return inner.writeBatch(puts, deletes, guards, appends)
      },
      ping: () => inner.ping(),
      close: () => inner.close()
    }
    const recs = stream(30)
    const ref = new TopologyDriver()
    const expected = (await ref.run(recs)).outputs.map(wire)
    const a = new TopologyDriver({ store: flaky })
    await assert.rejects(a.run(recs), /connection reset/)
    assert.deepEqual((await a.run(recs)).outputs.map(wire), expected)
    assert.deepEqual(inner.snapshot(), ref.state())
  })

  test('a tiny cache (constant eviction and reloads) decides exactly as an unbounded one', async () => {
    const recs = stream(120, { customers: 20 })
    const batches = [0, 20, 40, 60, 80, 100].map(i => recs.slice(i, i + 20))
    const ref = await runAll(new TopologyDriver(), batches)
    const small = new TopologyDriver({ options: { maxCachedEntries: 3 } })
    assert.deepEqual(await runAll(small, batches), ref)
    assert.ok(small.processor.cachedEntries() <= 3 + 20)
  })

  test('several partitions in one batch keep separate watermarks, offsets and replay logs', async () => {
    const p0 = stream(20, { partition: 0 })
    const p1 = stream(20, { partition: 1 })
    const mixed = p0.flatMap((r, i) => [r, p1[i]!])
    const a = new TopologyDriver()
    const first = (await a.run(mixed)).outputs.map(wire)
    a.restart()
    const again = await a.run([...p1, ...p0]) // a different interleaving of the same records
    const sorted = (xs: string[]): string[] => [...xs].sort()
    assert.deepEqual(sorted(again.outputs.map(wire)), sorted(first))
    assert.deepEqual(
      a.processor
        .partitions()
        .map(p => [p.partition, p.processedOffset])
        .sort(),
      [
        [0, 19],
        [1, 19]
      ]
    )
  })
})

describe('outputs-first delivery: processing times before the outputs, state after them', () => {
  const outputsFirst = (store?: StateStore): TopologyDriver =>
    new TopologyDriver({ delivery: 'outputs-first', ...(store ? { store } : {}) })

  test('decides exactly as state-first, and writes no replay log', async () => {
    const recs = stream(60)
    const ref = new TopologyDriver()
    const a = outputsFirst()
    assert.deepEqual((await a.run(recs)).outputs.map(wire), (await ref.run(recs)).outputs.map(wire))
    const keys = a.state().map(([k]) => k)
    assert.ok(keys.some(k => k.endsWith('}:r')) && !keys.some(k => k.endsWith('}:b')))
    // Customer and merchant state (snapshots and journal) and progress are the same as state-first's.
    const stateOf = (d: TopologyDriver): [string, string][] => d.state().filter(([k]) => /^[cmjp]:/.test(k))
    assert.deepEqual(stateOf(a), stateOf(ref))
  })

  test('a crash after the outputs went out but before the state was written: the re-run emits identical bytes and counts once', async () => {
    const recs = stream(60)
    const ref = outputsFirst()
    await ref.run(recs)
    const a = outputsFirst()
    const first = await a.run(recs, { complete: false })
    a.clock.advance(5_000) // the restart happens later: processing times must not change
    a.restart()
    const again = await a.run(recs)
    assert.deepEqual(again.outputs.map(wire), first.outputs.map(wire))
    assert.equal(again.stats.processed, first.stats.processed)
    assert.deepEqual(a.state(), ref.state())
  })

  test('state encoded ahead (stage(), while the outputs are in flight) is what complete() writes; a staged batch whose produce failed runs again cleanly', async () => {
    const recs = stream(60)
    const batches = [recs.slice(0, 30), recs.slice(30)]
    const ref = outputsFirst()
    for (const b of batches) await ref.run(b)
    const a = outputsFirst()
    const failed = await a.processor.processBatch(batches[0]!)
    failed.stage() // … and then the produce fails: no complete()
    const retried = await a.processor.processBatch(batches[0]!)
    retried.stage()
    await retried.complete()
    assert.deepEqual(retried.outputs.map(wire), failed.outputs.map(wire))
    const second = await a.processor.processBatch(batches[1]!)
    second.stage()
    second.stage() // twice: still one encoding
    await second.complete()
    assert.deepEqual(a.state(), ref.state())
  })

  test('a crash after the state was written: redelivered records emit nothing (their outputs were acknowledged)', async () => {
    const recs = stream(40)
    const a = outputsFirst()
    await a.run(recs)
    const stateAfter = a.state()
    a.restart()
    const again = await a.run(recs)
    assert.equal(again.outputs.length, 0)
    assert.equal(again.stats.duplicatesSkipped, 40)
    assert.deepEqual(a.state(), stateAfter)
  })

  test('a re-run in smaller batches keeps the times of every record that went out', async () => {
    const recs = stream(60)
    const a = outputsFirst()
    a.clock.advance(3)
    const first = (await a.run(recs, { complete: false })).outputs.map(wire)
    a.restart()
    a.clock.advance(10_000)
    // The first half is completed, then the instance dies again before the rest.
    const part1 = (await a.run(recs.slice(0, 30))).outputs.map(wire)
    a.restart()
    a.clock.advance(10_000)
    const part2 = (await a.run(recs.slice(30))).outputs.map(wire)
    assert.deepEqual([...part1, ...part2], first)
  })

  test('a failed produce: the same instance runs the batch again and emits identical bytes, counted once', async () => {
    const recs = stream(30)
    const ref = outputsFirst()
    await ref.run(recs)
    const a = outputsFirst()
    const first = await a.run(recs, { complete: false })
    a.clock.advance(1_000)
    const again = await a.run(recs)
    assert.deepEqual(again.outputs.map(wire), first.outputs.map(wire))
    assert.deepEqual(a.state(), ref.state())
  })

  test('a zombie: the new owner re-emits what the zombie emitted, and the zombie cannot write its state', async () => {
    const store = new MemoryStateStore()
    const recs = stream(30)
    const zombie = outputsFirst(store)
    const zombieOut = await zombie.processor.processBatch(recs)
    const owner = outputsFirst(store)
    owner.clock.advance(2_000)
    const ownerOut = await owner.run(recs)
    assert.deepEqual(ownerOut.outputs.map(wire), zombieOut.outputs.map(wire))
    await assert.rejects(zombieOut.complete(), { code: 'DAROOGHE_ERR_STATE_CONFLICT' })
  })
})

describe('prepareAhead: the next batch decoded while the last one is in flight', () => {
  test('a batch prepared ahead decides exactly as one that was not; work done for another array is discarded', async () => {
    const recs = stream(90, { customers: 4 })
    const batches = [recs.slice(0, 30), recs.slice(30, 60), recs.slice(60)]
    const ref = await runAll(new TopologyDriver(), batches)
    const d = new TopologyDriver()
    const out: string[] = []
    for (const [i, b] of batches.entries()) {
      d.clock.advance(7)
      // Before batch 1, another batch is prepared (its work must not be used); before 2, batch 2 itself.
      if (i > 0) d.processor.prepareAhead(i === 1 ? batches[2]! : b)
      out.push(...(await d.run(b)).outputs.map(wire))
    }
    assert.deepEqual(out, ref)
  })
})

describe('processAhead: the next batch evaluated while the last one is in flight (outputs-first)', () => {
  /** Batches alternating between two partitions, as the consumer hands them out. */
  const interleaved = (): LogRecord[][] => {
    const p0 = stream(90, { customers: 5, partition: 0 })
    const p1 = stream(90, { customers: 5, partition: 1 })
    return [0, 30, 60].flatMap(i => [p0.slice(i, i + 30), p1.slice(i, i + 30)])
  }
  /** The part of an output that does not depend on when it was processed. */
  const decided = (w: string): string => {
    const a = JSON.parse(w) as unknown[]
    a[2] = Buffer.from(a[2] as string, 'base64')
      .toString()
      .replace(/"processing_latency_ms":\d+|"processed_at":"[^"]+"|"created_at":"[^"]+"/g, '')
    return JSON.stringify(a)
  }
  const processedAt = (w: string): string | undefined =>
    /"processed_at":"([^"]+)"/.exec(Buffer.from(JSON.parse(w)[2], 'base64').toString())?.[1]

  /** The reference: each batch run and completed before the next one starts. */
  async function oneAfterAnother(
    batches: LogRecord[][]
  ): Promise<{ ref: TopologyDriver; expected: string[][] }> {
    const ref = new TopologyDriver({ delivery: 'outputs-first' })
    const expected: string[][] = []
    for (const b of batches) {
      ref.clock.advance(7)
      expected.push((await ref.run(b)).outputs.map(wire))
    }
    return { ref, expected }
  }

  /** As the detector does: produce (here: nothing), stage, the next batch ahead, complete. */
  async function pipelined(
    d: TopologyDriver,
    batches: LogRecord[][],
    failCompleteOf = -1,
    failLoadOf = -1
  ): Promise<string[][]> {
    const out: string[][] = []
    for (let i = 0; i < batches.length; i++) {
      d.clock.advance(7)
      if (i === failLoadOf) {
        // Its load, started ahead, failed: the batch fails, and runs again from scratch.
        await assert.rejects(d.processor.processBatch(batches[i]!), /injected: state read failed/)
      }
      let r = await d.processor.processBatch(batches[i]!)
      r.stage()
      if (i + 1 === failLoadOf) (d.store as FlakyStore).failNextRead = true
      if (i + 1 < batches.length) d.processor.prepareAhead(batches[i + 1]!)
      d.clock.advance(1_000) // the produce round trip: processing ahead happened before it
      if (i === failCompleteOf) {
        ;(d.store as FlakyStore).failNext = true
        await assert.rejects(r.complete())
        // Refused until the consumer rewinds to the committed offsets (this batch's start).
        await assert.rejects(d.processor.processBatch(batches[i]!), /injected: state write failed/)
        d.processor.onAssignment(partitionsOf(batches))
        // The failed batch runs again; the work done ahead must not count.
        r = await d.processor.processBatch(batches[i]!)
      }
      await r.complete()
      out.push(r.outputs.map(wire))
    }
    return out
  }

  const partitionsOf = (batches: LogRecord[][]): TopicPartition[] => {
    const seen = new Map<string, TopicPartition>()
    for (const r of batches.flat())
      seen.set(`${r.topic}:${r.partition}`, { topic: r.topic, partition: r.partition })
    return [...seen.values()]
  }

  class FlakyStore extends MemoryStateStore {
    failNext = false
    failNextRead = false
    override async getManyBytes(keys: readonly string[]): Promise<(Buffer | null)[]> {
      if (this.failNextRead) {
        this.failNextRead = false
        throw new Error('injected: state read failed')
      }
      return super.getManyBytes(keys)
    }
    override async writeBatch(...args: Parameters<MemoryStateStore['writeBatch']>): Promise<void> {
      if (this.failNext) {
        this.failNext = false
        throw new Error('injected: state write failed')
      }
      return super.writeBatch(...args)
    }
  }

  test('a batch evaluated ahead decides exactly as one run after the other, and was evaluated early', async () => {
    const batches = interleaved()
    const { ref, expected } = await oneAfterAnother(batches)
    const d = new TopologyDriver({ delivery: 'outputs-first' })
    const got = await pipelined(d, batches)
    assert.deepEqual(
      got.map(b => b.map(decided)),
      expected.map(b => b.map(decided))
    )
    assert.deepEqual(
      d.state().filter(([k]) => !k.endsWith('}:r')),
      ref.state().filter(([k]) => !k.endsWith('}:r'))
    )
    // Each batch was evaluated while the one before it was in flight: at the time that one was,
    // not a produce round trip (1,000 ms) plus 7 ms later. Batch 1, partition 1's first, waited
    // for its state load, started then and in by the end of the round trip.
    const at = (b: string[]): number => Date.parse(processedAt(b.find(w => processedAt(w) !== undefined)!)!)
    assert.deepEqual(
      got.map(b => at(b) - at(got[0]!)),
      [0, 1_000, 1_007, 2_014, 3_021, 4_028]
    )
  })

  test('in a batch evaluated ahead, the records of the partition in flight wait for it; the others do not', async () => {
    const p0 = stream(60, { customers: 5, partition: 0 })
    const p1 = stream(60, { customers: 5, partition: 1 })
    // Batch 2 holds partition 0's next records (batch 1 is partition 0's) and partition 1's.
    const batches = [p1.slice(0, 30), p0.slice(0, 30), [...p0.slice(30), ...p1.slice(30)]]
    const { ref, expected } = await oneAfterAnother(batches)
    const d = new TopologyDriver({ delivery: 'outputs-first' })
    const got = await pipelined(d, batches)
    const sorted = (b: string[]): string[] => b.map(decided).sort()
    assert.deepEqual(got.map(sorted), expected.map(sorted))
    assert.deepEqual(
      d.state().filter(([k]) => !k.endsWith('}:r')),
      ref.state().filter(([k]) => !k.endsWith('}:r'))
    )
    const start = Date.parse(processedAt(got[0]!.find(w => processedAt(w) !== undefined)!)!)
    const times = (partition: number): number[] => [
      ...new Set(
        got[2]!
          .map(w => Buffer.from((JSON.parse(w) as string[])[2]!, 'base64').toString())
          .filter(v => v.includes(`"partition":${partition},`) && v.includes(`"processed_at"`))
          .map(v => Date.parse(/"processed_at":"([^"]+)"/.exec(v)![1]!) - start)
      )
    ]
    assert.deepEqual(times(1), [1_007], "partition 1's records: evaluated while batch 1 was in flight")
    assert.deepEqual(times(0), [2_014], "partition 0's records: once batch 1's state was written")
  })

  test('the in-flight batch failing its state write: the work done ahead is dropped, nothing counts twice', async () => {
    const batches = interleaved()
    const { ref, expected } = await oneAfterAnother(batches)
    for (const [failing, failLoad] of [
      [1, -1],
      [2, -1],
      [4, -1],
      [-1, 1]
    ] as const) {
      const d = new TopologyDriver({ delivery: 'outputs-first', store: new FlakyStore() })
      const got = await pipelined(d, batches, failing, failLoad)
      assert.deepEqual(
        got.map(b => b.map(decided)),
        expected.map(b => b.map(decided)),
        `failing ${failing}, load ${failLoad}`
      )
      assert.deepEqual(
        d.state().filter(([k]) => !k.endsWith('}:r')),
        ref.state().filter(([k]) => !k.endsWith('}:r')),
        `failing ${failing}, load ${failLoad}`
      )
    }
  })
})

describe('pipelined state writes: the next batch runs while the last one is written', () => {
  /** The part of an output that does not depend on when it was processed. */
  const decided = (w: string): string =>
    w.replace(/"processing_latency_ms":\d+|"processed_at":"[^"]+"|"created_at":"[^"]+"/g, '')

  class SlowStore extends MemoryStateStore {
    /** Writes wait here until released, one by one, in order; `failNext` rejects the next one. */
    readonly held: { release: () => void; fail: () => void }[] = []
    hold = false
    override writeBatch(...args: Parameters<MemoryStateStore['writeBatch']>): Promise<void> {
      if (!this.hold) return super.writeBatch(...args)
      return new Promise<void>((resolve, reject) => {
        this.held.push({
          release: () => void super.writeBatch(...args).then(resolve, reject),
          fail: () => reject(new Error('injected: state write failed'))
        })
      })
    }
  }

  test('a state write failing after the next batch ran on it: both run again after the rewind, same bytes, nothing counts twice', async () => {
    const p0 = stream(90, { customers: 5, partition: 0 })
    const batches = [p0.slice(0, 30), p0.slice(30, 60), p0.slice(60)]
    const partitions: TopicPartition[] = [{ topic: p0[0]!.topic, partition: 0 }]
    // The reference: one batch after the other, every write done before the next batch.
    const ref = new TopologyDriver({ delivery: 'outputs-first' })
    const expected: string[] = []
    for (const b of batches) expected.push(...(await ref.run(b)).outputs.map(o => decided(String(o.value))))

    const store = new SlowStore()
    const d = new TopologyDriver({ delivery: 'outputs-first', store })
    const first = await d.processor.processBatch(batches[0]!)
    store.hold = true
    const written0 = first.complete() // in flight
    // The next batch runs on memory the write in flight makes durable: its times write waits
    // behind it in the store.
    const secondRun = d.processor.processBatch(batches[1]!)
    // The state write in flight (and maybe the next batch's emitted times behind it) fails.
    await new Promise(resolve => setImmediate(resolve))
    assert.ok(store.held.length >= 1)
    store.held.shift()!.fail()
    await assert.rejects(written0, /injected/)
    // Its own write (the emitted times, fenced on the failed one) never counts.
    await Promise.resolve()
    while (store.held.length > 0) store.held.shift()!.release()
    await secondRun.then(
      r => assert.rejects(r.complete(), /injected/),
      error => assert.match(String(error), /injected|changed since it was read/)
    )
    store.hold = false
    // The rewind: the consumer goes back to the committed offsets (batch 0's start).
    d.processor.onAssignment(partitions)
    const again: string[] = []
    for (const b of batches) {
      const r = await d.processor.processBatch(b)
      await r.complete()
      again.push(...r.outputs.map(o => decided(String(o.value))))
    }
    assert.deepEqual(again, expected)
    assert.deepEqual(
      d.state().filter(([k]) => !k.endsWith('}:r') && !k.endsWith('}:p')),
      ref.state().filter(([k]) => !k.endsWith('}:r') && !k.endsWith('}:p'))
    )
  })

  test('pipelined: each write goes out while the next batch runs; the decisions and the state are those of one batch after the other', async () => {
    const p0 = stream(120, { customers: 7, partition: 0 })
    const p1 = stream(120, { customers: 7, partition: 1 })
    const batches = [0, 20, 40, 60, 80, 100].flatMap(i => [p0.slice(i, i + 20), p1.slice(i, i + 20)])
    const ref = new TopologyDriver({ delivery: 'outputs-first' })
    const expected: string[] = []
    for (const b of batches) expected.push(...(await ref.run(b)).outputs.map(o => decided(String(o.value))))

    const d = new TopologyDriver({ delivery: 'outputs-first' })
    const got: string[] = []
    const writes: Promise<void>[] = []
    for (const b of batches) {
      const r = await d.processor.processBatch(b)
      got.push(...r.outputs.map(o => decided(String(o.value))))
      writes.push(r.complete()) // not awaited: the next batch runs now
    }
    await Promise.all(writes)
    assert.deepEqual(got, expected)
    assert.deepEqual(
      d.state().filter(([k]) => !k.endsWith('}:r') && !k.endsWith('}:p')),
      ref.state().filter(([k]) => !k.endsWith('}:r') && !k.endsWith('}:p'))
    )
  })
})

describe('state journal: changes appended per batch, snapshots only at compaction', () => {
  // The kind of a partition's key follows its hash tag: `{<topic>:<partition>}:<kind>...`.
  const kind = (k: string): string | undefined => (k.startsWith('{') ? k[k.indexOf('}:') + 2] : k[0])
  const kinds = (d: TopologyDriver): string => [...new Set(d.state().map(([k]) => kind(k)))].sort().join('')
  const journalBytes = (d: TopologyDriver): number => {
    const j = d.state().find(([k]) => k.endsWith('}:j'))
    return j === undefined ? 0 : Buffer.from(j[1].replace(/^base64:/, ''), 'base64').length
  }

  test('a restart after any batch restores snapshots plus journal and decides exactly as an uninterrupted run, whatever the journal limit', async () => {
    const recs = stream(150, { customers: 5 })
    const batches = [0, 30, 60, 90, 120].map(i => recs.slice(i, i + 30))
    const ref = await runAll(new TopologyDriver(), batches)
    for (const journalMaxBytes of [0, 700, 4 << 20]) {
      const store = new MemoryStateStore()
      const out: string[] = []
      let d = new TopologyDriver({ store, options: { journalMaxBytes } })
      for (const b of batches) {
        out.push(...(await runAll(d, [b])))
        const next = new TopologyDriver({ store, options: { journalMaxBytes } })
        next.clock.set(d.clock.now())
        d = next
      }
      assert.deepEqual(out, ref, `journalMaxBytes ${journalMaxBytes}`)
    }
  })

  test('values are snapshotted only when the journal would pass its limit, and the journal is then deleted', async () => {
    const recs = stream(150, { customers: 5 })
    const batches = [0, 30, 60, 90, 120].map(i => recs.slice(i, i + 30))
    const big = new TopologyDriver()
    await runAll(big, batches)
    assert.equal(kinds(big), 'bjp', 'no customer or merchant value was written: only the journal')
    assert.ok(journalBytes(big) > 4_000)

    const every = new TopologyDriver({ options: { journalMaxBytes: 0 } })
    await runAll(every, batches)
    assert.equal(kinds(every), 'bcmp', 'limit 0: values written with every batch, no journal')

    const small = new TopologyDriver({ options: { journalMaxBytes: 2_500 } })
    let compactions = 0
    let before = 0
    for (const b of batches) {
      await runAll(small, [b])
      const now = journalBytes(small)
      if (now < before) compactions++
      assert.ok(now <= 2_500, `journal ${now} bytes, over its limit`)
      before = now
    }
    assert.ok(compactions >= 1 && compactions < batches.length, `${compactions} compactions`)
    assert.ok(kinds(small).includes('c'), 'compaction snapshotted the customers')
  })

  test('over the cache bound, the batch compacts: journaled values cannot be evicted until snapshotted', async () => {
    const recs = stream(120, { customers: 20 })
    const small = new TopologyDriver({ options: { maxCachedEntries: 3 } })
    for (const i of [0, 20, 40, 60, 80, 100]) {
      await runAll(small, [recs.slice(i, i + 20)])
      assert.ok(small.processor.cachedEntries() <= 3 + 40)
    }
    assert.ok(kinds(small).includes('c'))
  })

  test('values journaled by a partition that the last batches did not touch are never evicted', async () => {
    const d = new TopologyDriver({ options: { maxCachedEntries: 6 } })
    const mine = (i: number): LogRecord[] =>
      toRecords([makeEvent({ t: T0 + i * 1_000, customer_id: 'cust_a', merchant_id: 'merch_a' })], {
        offset: i
      })
    for (let i = 0; i < 3; i++) await d.run(mine(i))
    // Partition 1 alone fills the cache past its bound, batch after batch.
    for (let b = 0; b < 3; b++) {
      const others = Array.from({ length: 10 }, (_, i) =>
        makeEvent({ t: T0 + b * 10_000 + i, customer_id: `cust_${b}_${i}`, merchant_id: `merch_${i}` })
      )
      await d.run(toRecords(others, { partition: 1, offset: b * 10 }))
    }
    const [out] = await d.pipe(mine(3))
    assert.equal(out!.value.trace.velocity.count, 4, "partition 0's customer kept its three transactions")
  })

  test('a journal this version cannot read fails the batch with the key and the fix, and writes nothing', async () => {
    const store = new MemoryStateStore()
    const bad = Buffer.from([3, 0, 9, 9, 9]) // one frame of an unknown entry version
    await store.writeBatch([], [], [], [['{darooghe.transactions:0}:j', bad]])
    const before = store.snapshot()
    const d = new TopologyDriver({ store })
    await assert.rejects(
      d.run(toRecords([makeEvent({ t: T0 })])),
      /state key '\{darooghe.transactions:0\}:j' is not in this version's format: clear the state store/
    )
    assert.deepEqual(store.snapshot(), before)
  })
})
