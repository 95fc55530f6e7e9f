import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CORRELATION_ID_HEADER, REPLY_TO_HEADER } from '../../src/domain/reply.ts'
import { processorOptions } from '../../src/apps/processor/index.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { makeEvent, T0, toRecords } from './fixtures.ts'
import { on, parseOut, TopologyDriver, wire } from './driver.ts'

const REPLIES = 'darooghe.decisions.replies'

function withHeaders(recs: LogRecord[], headers: (i: number) => Record<string, string>): LogRecord[] {
  return recs.map((r, i) => ({ ...r, headers: headers(i) }))
}

const asking = (i: number): Record<string, string> => ({
  [REPLY_TO_HEADER]: REPLIES,
  [CORRELATION_ID_HEADER]: `corr-${i}`
})

/** Five events of one customer inside the velocity window, an invalid one, and a duplicate id. */
function requests(): LogRecord[] {
  const events = Array.from({ length: 7 }, (_, i) => makeEvent({ t: T0 + i * 1_000 }))
  const dup = { ...events[2]!, timestamp: new Date(T0 + 9_000).toISOString() }
  return withHeaders(toRecords([...events, '{"transaction_id":"bad-1","amount":', dup]), asking)
}

describe('request-reply: a record with reply headers gets its decision record on the reply topic', () => {
  test('each decision, error record and duplicate is replied once, with the same bytes and headers', async () => {
    const d = new TopologyDriver()
    const recs = requests()
    const { outputs } = await d.run(recs)
    const replies = outputs.filter(o => o.topic === REPLIES)
    assert.equal(replies.length, recs.length)
    const decisions = outputs.filter(o => o.topic.endsWith('.approved') || o.topic.endsWith('.fraud'))
    assert.equal(decisions.length, 7)
    assert.ok(
      decisions.some(o => o.topic.endsWith('.fraud')),
      'the burst fired velocity'
    )
    for (const [i, dec] of decisions.entries()) {
      const reply = replies[i]!
      assert.equal(
        wire({ ...reply, topic: dec.topic }),
        wire(dec),
        'the reply is the decision, byte for byte'
      )
      assert.equal(reply.headers?.[CORRELATION_ID_HEADER], `corr-${i}`)
    }
    const error = on(outputs.map(parseOut), 'darooghe.error_logs')[0]!
    assert.deepEqual(parseOut(replies[7]!).value, error.value)
    assert.equal(replies[7]!.headers?.[CORRELATION_ID_HEADER], 'corr-7')
    const dupId = (JSON.parse(recs[2]!.value!.toString()) as { transaction_id: string }).transaction_id
    assert.deepEqual(parseOut(replies[8]!).value, {
      transaction_id: dupId,
      customer_id: 'cust_1',
      duplicate: true
    })
    assert.equal(replies[8]!.headers?.[CORRELATION_ID_HEADER], 'corr-8')
  })

  test('re-emits after a crash, and a batch run again, carry the replies byte for byte', async () => {
    for (const delivery of ['state-first', 'outputs-first'] as const) {
      const recs = requests()
      const a = new TopologyDriver({ delivery })
      const first = await a.run(recs, { complete: delivery === 'state-first' })
      a.clock.advance(5_000)
      a.restart()
      const again = await a.run(recs)
      assert.deepEqual(again.outputs.map(wire), first.outputs.map(wire), delivery)
      assert.ok(first.outputs.some(o => o.topic === REPLIES))
    }
  })

  test('bad or foreign headers: no reply, and the same decision as without them', async () => {
    const bad: Record<string, string>[] = [
      { [REPLY_TO_HEADER]: 'not a topic!', [CORRELATION_ID_HEADER]: 'c' },
      { [REPLY_TO_HEADER]: 'x'.repeat(250), [CORRELATION_ID_HEADER]: 'c' },
      { [REPLY_TO_HEADER]: '..', [CORRELATION_ID_HEADER]: 'c' },
      { [REPLY_TO_HEADER]: 'some.other.topic', [CORRELATION_ID_HEADER]: 'c' },
      { [REPLY_TO_HEADER]: 'darooghe.transactions', [CORRELATION_ID_HEADER]: 'c' },
      { [REPLY_TO_HEADER]: REPLIES },
      { [REPLY_TO_HEADER]: REPLIES, [CORRELATION_ID_HEADER]: '' },
      { [REPLY_TO_HEADER]: REPLIES, [CORRELATION_ID_HEADER]: 'c'.repeat(129) }
    ]
    const events = bad.map((_, i) => makeEvent({ t: T0 + i * 1_000, customer_id: `cust_${i}` }))
    const plain = await new TopologyDriver().run(toRecords(events))
    const headed = await new TopologyDriver().run(withHeaders(toRecords(events), i => bad[i]!))
    assert.equal(headed.outputs.length, plain.outputs.length, 'no reply output')
    const strip = (w: string): unknown => (JSON.parse(w) as unknown[]).slice(0, 5)
    assert.deepEqual(
      headed.outputs.map(o => strip(wire(o))),
      plain.outputs.map(o => strip(wire(o)))
    )
  })

  test('only the configured reply topics are replied to; [] turns replies off', async () => {
    const recs = withHeaders(toRecords([makeEvent()]), () => ({
      [REPLY_TO_HEADER]: 'my.replies',
      [CORRELATION_ID_HEADER]: 'c'
    }))
    const mine = await new TopologyDriver({ options: { replyTopics: ['my.replies'] } }).run(recs)
    assert.deepEqual(
      mine.outputs.map(o => o.topic),
      ['darooghe.transactions.approved', 'my.replies']
    )
    const none = await new TopologyDriver({ options: { replyTopics: [] } }).run(requests())
    assert.ok(!none.outputs.some(o => o.topic === REPLIES))
  })

  test('a reply topic that is an output topic or not a topic name is refused at configuration', () => {
    assert.throws(() => processorOptions({ replyTopics: ['darooghe.fraud_alerts'] }), /reply topic/)
    assert.throws(() => processorOptions({ replyTopics: ['a b'] }), /reply topic/)
  })
})
