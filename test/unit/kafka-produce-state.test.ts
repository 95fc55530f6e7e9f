import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Reader } from '@platformatic/kafka'
import { parseProduceResponse, type ProducerIdentity } from '../../src/adapters/kafka/produce-request.ts'
import {
  classifyResult,
  Delivery,
  type SequencedBatch,
  Sequencer,
  Throttle
} from '../../src/adapters/kafka/produce-state.ts'
import { DaroogheError } from '../../src/errors.ts'

const NOT_LEADER_OR_FOLLOWER = 6
const REQUEST_TIMED_OUT = 7
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45
const DUPLICATE_SEQUENCE_NUMBER = 46
const UNKNOWN_PRODUCER_ID = 59
const MESSAGE_TOO_LARGE = 10

function batch(partition: number, count: number, topic = 'payments'): SequencedBatch {
  return {
    topic,
    partition,
    // Only the count matters here: a sparse array, so that a batch of 2^31 records costs nothing.
    indexes: new Array<number>(count),
    baseSequence: -1,
    identity: null,
    done: false,
    baseOffset: -1
  }
}

/** What a scripted broker received: which batch, under which producer id and sequence. */
interface Received {
  leader: number
  partition: number
  producerId: bigint
  baseSequence: number
}

/**
 * Drives one attempt as producer-direct.ts does: plan by leader, "send" each leader's batches,
 * feed the scripted results back. `answer` returns the error code (and base offset) per batch,
 * or 'drop' for a request that failed as a whole.
 */
function attempt(
  delivery: Delivery,
  leaders: Record<number, number>,
  answer: (leader: number, b: SequencedBatch) => number | 'drop',
  received: Received[],
  renumber = true
): void {
  const plan = delivery.plan((_topic, partition) => leaders[partition] ?? -1)
  for (const [leader, batches] of plan) {
    const codes = batches.map(b => answer(leader, b))
    if (codes.includes('drop')) {
      delivery.requestFailed(new Error(`connection to ${leader} lost`))
      continue
    }
    batches.forEach((b, i) => {
      received.push({
        leader,
        partition: b.partition,
        producerId: b.identity!.producerId,
        baseSequence: b.baseSequence
      })
      const code = codes[i] as number
      delivery.result(
        b,
        code,
        code === 0 || code === DUPLICATE_SEQUENCE_NUMBER ? 100 + b.partition : -1,
        () => new Error(`code ${code}`),
        renumber
      )
    })
  }
}

const identity = (producerId: bigint, producerEpoch = 0): ProducerIdentity => ({ producerId, producerEpoch })

test('a leader move mid-batch resends the unacknowledged batches, same sequences, to the new leader', () => {
  const sequencer = new Sequencer()
  sequencer.adopt(identity(7n))
  // A previous send on partition 1 took sequences 0..4: this one starts at 5 there.
  const earlier = batch(1, 5)
  sequencer.number(earlier)
  const batches = [batch(0, 10), batch(1, 3), batch(2, 4)]
  const delivery = new Delivery(batches, sequencer, 5, 100)
  const received: Received[] = []

  assert.equal(delivery.nextAttempt(), 0, 'the first attempt goes at once')
  // Broker 1 leads partitions 0 and 1, broker 2 partition 2; partition 1's leadership moved.
  attempt(
    delivery,
    { 0: 1, 1: 1, 2: 2 },
    (_l, b) => (b.partition === 1 ? NOT_LEADER_OR_FOLLOWER : 0),
    received
  )
  assert.deepEqual(
    delivery.pending().map(b => b.partition),
    [1]
  )
  assert.equal(delivery.stale, true, 'the leaders are looked up again')
  assert.equal(delivery.nextAttempt(), 100, 'backoff before the retry')
  // The new metadata says broker 3 leads partition 1 now.
  attempt(delivery, { 0: 1, 1: 3, 2: 2 }, () => 0, received)
  assert.equal(delivery.nextAttempt(), null, 'all written')

  const p1 = received.filter(r => r.partition === 1)
  assert.deepEqual(
    p1.map(r => [r.leader, r.baseSequence]),
    [
      [1, 5],
      [3, 5]
    ],
    'sent again to the new leader with the same sequence numbers'
  )
  assert.deepEqual(
    batches.map(b => [b.baseSequence, b.baseOffset]),
    [
      [0, 100],
      [5, 101],
      [0, 102]
    ]
  )
  assert.equal(received.length, 4, 'the written batches were not sent again')
})

test('a request lost as a whole (timeout) is resent with its sequences; retries run out into an error', () => {
  const sequencer = new Sequencer()
  sequencer.adopt(identity(1n))
  const delivery = new Delivery([batch(0, 2)], sequencer, 2, 50)
  const received: Received[] = []
  const delays: number[] = []
  assert.throws(
    () => {
      for (;;) {
        const wait = delivery.nextAttempt()
        if (wait === null) return
        delays.push(wait)
        attempt(delivery, { 0: 1 }, () => (received.length < 1 ? REQUEST_TIMED_OUT : 'drop'), received)
      }
    },
    (e: unknown) => e instanceof DaroogheError && /payments:0 failed after 3 attempts/.test(e.message)
  )
  assert.deepEqual(delays, [0, 50, 100], 'exponential backoff')
  assert.deepEqual(
    received.map(r => r.baseSequence),
    [0],
    'numbered once'
  )
  assert.equal(delivery.pending()[0]!.baseSequence, 0, 'still the same numbers for the caller to retry with')
})

test('OUT_OF_ORDER_SEQUENCE after an abandoned send starts over under a new producer id and epoch', () => {
  const sequencer = new Sequencer()
  const first = identity(7n, 0)
  sequencer.adopt(first)
  assert.equal(sequencer.state, 'identified')
  // A send numbered 0..9 on partition 0 and was abandoned (its caller gave up): a gap.
  sequencer.number(batch(0, 10))
  const next = batch(0, 3)
  const delivery = new Delivery([next], sequencer, 5, 10)
  const received: Received[] = []
  delivery.nextAttempt()
  attempt(delivery, { 0: 1 }, () => OUT_OF_ORDER_SEQUENCE_NUMBER, received)
  assert.deepEqual(received[0], { leader: 1, partition: 0, producerId: 7n, baseSequence: 10 })
  assert.equal(sequencer.state, 'unidentified', 'a new producer id is needed')
  assert.match(String(delivery.error), /code 45/)

  // The producer asks InitProducerId again and adopts the answer: sequences restart at 0.
  sequencer.adopt(identity(8n, 0))
  assert.equal(sequencer.state, 'identified')
  delivery.nextAttempt()
  attempt(delivery, { 0: 1 }, () => 0, received)
  assert.deepEqual(received[1], { leader: 1, partition: 0, producerId: 8n, baseSequence: 0 })
  assert.equal(next.done, true)
})

test('UNKNOWN_PRODUCER_ID in the concurrent first round waits for the ordered retries to renumber', () => {
  const sequencer = new Sequencer()
  sequencer.adopt(identity(3n))
  const delivery = new Delivery([batch(0, 1)], sequencer, 5, 10)
  delivery.nextAttempt()
  attempt(delivery, { 0: 1 }, () => UNKNOWN_PRODUCER_ID, [], false)
  assert.equal(sequencer.state, 'identified', 'not renumbered out of order')
  attempt(delivery, { 0: 1 }, () => UNKNOWN_PRODUCER_ID, [], true)
  assert.equal(sequencer.state, 'unidentified')
})

test('DUPLICATE_SEQUENCE_NUMBER counts as acknowledged (the broker holds the batch already)', () => {
  const sequencer = new Sequencer()
  sequencer.adopt(identity(1n))
  const b = batch(4, 2)
  const delivery = new Delivery([b], sequencer, 5, 10)
  delivery.nextAttempt()
  attempt(delivery, { 4: 2 }, () => DUPLICATE_SEQUENCE_NUMBER, [])
  assert.equal(b.done, true)
  assert.equal(b.baseOffset, 104)
  assert.equal(delivery.nextAttempt(), null)
  assert.equal(classifyResult(DUPLICATE_SEQUENCE_NUMBER), 'written')
})

test('a fatal code fails the send at once; a partition without a leader waits', () => {
  const sequencer = new Sequencer()
  sequencer.adopt(identity(1n))
  const delivery = new Delivery([batch(0, 1), batch(1, 1)], sequencer, 5, 10)
  delivery.nextAttempt()
  assert.throws(
    () => attempt(delivery, { 0: 1 }, () => MESSAGE_TOO_LARGE, []),
    (e: unknown) =>
      e instanceof DaroogheError && e.kind === 'KAFKA_FATAL' && /payments:0 refused/.test(e.message)
  )
  assert.equal(delivery.stale, true, 'partition 1 had no leader: look it up again')
})

test('numbers are taken for good per partition and wrap at 2^31; a new identity restarts them', () => {
  const sequencer = new Sequencer()
  const b0 = batch(0, 5)
  sequencer.number(b0)
  assert.equal(b0.identity, null, 'nothing is numbered before a producer id (or when not idempotent)')
  sequencer.adopt(identity(1n))
  const a = batch(0, 2 ** 31 - 2)
  const b = batch(0, 5)
  const other = batch(1, 1)
  sequencer.number(a)
  sequencer.number(b)
  sequencer.number(other)
  sequencer.number(b) // numbering again keeps the numbers
  assert.deepEqual([a.baseSequence, b.baseSequence, other.baseSequence], [0, 2 ** 31 - 2, 0])
  const c = batch(0, 1)
  sequencer.number(c)
  assert.equal(c.baseSequence, 3, 'wrapped')
  sequencer.adopt(identity(1n, 1))
  sequencer.number(b)
  assert.equal(b.baseSequence, 0, 'renumbered under the new epoch')
})

test('a throttled response delays the next request to that broker by throttle_time_ms', () => {
  const throttle = new Throttle()
  assert.equal(throttle.delay(1, 1_000), 0)
  throttle.note(1, 250, 1_000)
  throttle.note(2, 0, 1_000)
  assert.equal(throttle.delay(1, 1_100), 150)
  assert.equal(throttle.delay(2, 1_100), 0, 'other brokers are not held')
  throttle.note(1, 50, 1_100) // a shorter throttle does not cut the longer one short
  assert.equal(throttle.delay(1, 1_200), 50)
  assert.equal(throttle.delay(1, 1_250), 0)
})

test('the produce response parser reports throttle_time_ms', () => {
  // No topics (compact array length 0 + 1), throttle_time_ms 321, no tagged fields.
  const bytes = Buffer.from([1, 0, 0, 1, 0x41, 0])
  const results = parseProduceResponse(0, 0, 11, Reader.from(bytes))
  assert.deepEqual([...results], [])
  assert.equal(results.throttleTimeMs, 321)
})
