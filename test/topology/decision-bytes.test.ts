import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decisionSplicePoint, decisionSuffix } from '../../src/domain/decision.ts'
import type { PaymentEvent } from '../../src/domain/event.ts'
import { northOf } from '../../src/domain/geo.ts'
import { makeEvent, T0, TEHRAN, toRecords } from './fixtures.ts'
import { TopologyDriver } from './driver.ts'

/**
 * Bursts, jumps, spikes, thresholds and new places: every rule of every shipped set fires and
 * stays quiet. Every tenth payment is 5 minutes behind its customer: decided late.
 */
function mixed(n: number): PaymentEvent[] {
  const events: PaymentEvent[] = []
  for (let i = 0; i < n; i++) {
    const t = T0 + i * 7_000 + (i % 5) * 333 - (i % 10 === 9 ? 300_000 : 0)
    const customer_id = `cust_${i % 6}`
    const far = i % 9 === 0 ? 120 + i : i % 13 === 0 ? 3 : 0
    const amount = i % 11 === 0 ? 30_000_000 + i * 17 : i % 7 === 0 ? 25_000 + i : 1_000 + i * 131
    events.push(makeEvent({ t, customer_id, amount, location: northOf(TEHRAN.lat, TEHRAN.lng, far) }))
  }
  return events
}

for (const rules of ['default', 'baag-hum-baag', 'kafka-mini', 'redis-feature-store']) {
  test(`decision bytes written into the slab are the canonical JSON of the decision (${rules} rules)`, async () => {
    const events = mixed(160)
    const recs = toRecords(events, { timestamp: T0 + 160 * 7_000 + 5_000 })
    const d = new TopologyDriver({ rules })
    d.clock.advance(1_234.5) // a fractional latency takes the String() path of the number writer
    const outputs = (await d.run(recs)).outputs.filter(
      o => !o.topic.includes('alert') && !o.topic.includes('error')
    )
    assert.ok(outputs.length > 100)
    let fired = 0
    let late = 0
    for (const o of outputs) {
      const bytes = o.value as Buffer
      const d = JSON.parse(bytes.toString('utf8'))
      const input = recs.find(r => r.value!.toString().includes(`"${d.transaction_id}"`))!.value!
      const expected = Buffer.concat([
        input.subarray(0, decisionSplicePoint(input)),
        Buffer.from(
          decisionSuffix({
            decision: d.decision,
            riskScore: d.risk_score,
            firedJson: JSON.stringify(d.rules_fired),
            traceJson: JSON.stringify(d.trace),
            latenessMs: d.late === true ? d.lateness_ms : undefined,
            eventTime: d.event_time,
            latencyMs: d.processing_latency_ms,
            processedAt: d.processed_at,
            sourceJson: JSON.stringify(d.source)
          })
        )
      ])
      assert.equal(bytes.toString('utf8'), expected.toString('utf8'))
      if (d.rules_fired.length > 0) fired++
      if (d.late === true) late++
    }
    assert.ok(fired > 0, 'some rules fired')
    assert.ok(late > 5, `some decided late (${late})`)
  })
}
