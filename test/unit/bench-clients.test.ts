import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { batches, timeConsume } from '../../benchmarks/harness/client-drivers.ts'
import { type ClientRunTimes, clientResult, mbPerSecond } from '../../benchmarks/lib/clients.ts'

const run = (produceMs: number, consumeMs: number, consumeStartMs = 100): ClientRunTimes => ({
  produceMs,
  produceBytes: 50_000_000,
  consumeStartMs,
  consumeMs,
  consumedRecords: 100_000,
  consumedBytes: 50_000_000
})

describe('bench clients: summaries', () => {
  it('converts bytes and milliseconds to megabytes (10^6 bytes) per second', () => {
    assert.equal(mbPerSecond(50_000_000, 2_000), 25)
    assert.equal(mbPerSecond(1_000_000, 0), 0)
  })

  it('summarizes produce and consume rates as medians with min and max', () => {
    const r = clientResult(
      {
        client: 'kafkajs',
        version: '2.2.4',
        runs: [run(4_000, 1_000, 300), run(2_000, 500), run(1_000, 2_000)]
      },
      100_000
    )
    assert.equal(r.unavailable, undefined)
    assert.equal(r.version, '2.2.4')
    assert.deepEqual(r.produceEventsPerSecond, { median: 50_000, min: 25_000, max: 100_000, runs: 3 })
    assert.deepEqual(r.produceMBPerSecond, { median: 25, min: 12.5, max: 50, runs: 3 })
    assert.deepEqual(r.consumeEventsPerSecond, { median: 100_000, min: 50_000, max: 200_000, runs: 3 })
    assert.deepEqual(r.consumeMBPerSecond, { median: 50, min: 25, max: 100, runs: 3 })
    assert.deepEqual(r.consumeStartMs, { median: 100, min: 100, max: 300, runs: 3 })
  })

  it('keeps only the reason of a client that could not run', () => {
    const r = clientResult(
      {
        client: '@confluentinc/kafka-javascript',
        version: null,
        unavailable: 'not installable here: x',
        runs: []
      },
      100_000
    )
    assert.deepEqual(r, {
      client: '@confluentinc/kafka-javascript',
      version: null,
      unavailable: 'not installable here: x'
    })
    assert.equal(clientResult({ client: 'a', version: '1', runs: [] }, 10).unavailable, 'no runs completed')
  })
})

describe('bench clients: batching and consume bookkeeping', () => {
  it('splits records into calls of the batch size, the last one shorter', () => {
    assert.deepEqual(batches([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]])
    assert.deepEqual(batches([], 3), [])
  })

  it('counts records and bytes up to the expected count, ignores later batches and stops the consumer', async () => {
    let stopped = 0
    const timing = await timeConsume(
      5,
      async onRecords => {
        onRecords(0, 0)
        onRecords(2, 200)
        onRecords(3, 300)
        onRecords(4, 400)
      },
      async () => {
        stopped++
      }
    )
    assert.equal(timing.records, 5)
    assert.equal(timing.bytes, 500)
    assert.ok(timing.startMs >= 0 && timing.ms >= 0)
    assert.equal(stopped, 1)
  })

  it('stops the consumer when the client fails, and reports the failure', async () => {
    let stopped = 0
    await assert.rejects(
      timeConsume(
        5,
        async (onRecords, fail) => {
          onRecords(1, 10)
          fail(new Error('broker gone'))
        },
        async () => {
          stopped++
        }
      ),
      /broker gone/
    )
    await assert.rejects(
      timeConsume(
        5,
        async () => {
          throw new Error('join failed')
        },
        async () => {
          stopped++
        }
      ),
      /join failed/
    )
    assert.equal(stopped, 2)
  })
})
