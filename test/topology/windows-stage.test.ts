import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryLog, MemoryStateStore } from '../../src/adapters/memory/index.ts'
import { silentLogger } from '../../src/logger.ts'
import type { OutRecord } from '../../src/ports/log.ts'
import { runWindows, type WindowResult } from '../../src/apps/windows/index.ts'
import { waitFor } from '../helpers/services.ts'

const T0 = Date.parse('2026-11-22T10:00:00.000Z')
const TOPICS = ['approved', 'fraud']

/** Decision records as the processor writes them (original event + decision fields), 2 s apart. */
function decisions(n: number): OutRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const fraud = i % 9 === 0
    const t = T0 + i * 2_000 - (i % 5 === 0 ? 4_000 : 0) // some out of order, within the lateness
    return {
      topic: fraud ? 'fraud' : 'approved',
      key: `cust_${i % 13}`,
      value: JSON.stringify({
        transaction_id: `tx-${i}`,
        customer_id: `cust_${i % 13}`,
        merchant_id: `merch_${i % 6}`,
        merchant_category: i % 2 ? 'retail' : 'food_service',
        payment_method: i % 3 ? 'pos' : 'online',
        status: i % 10 === 3 ? 'declined' : 'approved',
        amount: 10_000 * (1 + (i % 17)),
        commission_type: ['flat', 'progressive', 'tiered'][i % 3],
        commission_amount: 200 * (1 + (i % 17)),
        event_time: new Date(t).toISOString(),
        decision: fraud ? 'fraud' : 'approved'
      })
    }
  })
}

/** Runs the stage until the group has committed at least `upTo` records in all, then stops it. */
async function runUntil(
  log: MemoryLog,
  store: MemoryStateStore,
  upTo: number,
  maxBatch: number
): Promise<void> {
  const consumer = log.consumer({
    groupId: 'windows',
    topics: TOPICS,
    fromBeginning: true,
    maxBatchRecords: maxBatch
  })
  const abort = new AbortController()
  const running = runWindows({
    consumer,
    producer: log.producer(),
    store,
    log: silentLogger,
    signal: abort.signal,
    allowedLatenessMs: 5_000
  })
  const committed = (): number =>
    TOPICS.reduce(
      (sum, t) => sum + log.committedOffsets('windows', t).reduce((a, b) => a + Math.max(0, b), 0),
      0
    )
  await waitFor(() => committed() >= upTo, { what: `${upTo} records consumed`, timeoutMs: 10_000 })
  abort.abort()
  await consumer.close()
  await running
}

function published(log: MemoryLog): Map<string, string> {
  const out = new Map<string, string>()
  const ends = log.endOffsets('darooghe.analytics')
  ends.forEach((end, p) => {
    for (const r of log.readRange('darooghe.analytics', p, 0, end)) {
      const id = r.key!.toString()
      const prev = out.get(id)
      // A window re-published after a restart must be byte-identical.
      if (prev !== undefined) assert.equal(r.value!.toString(), prev, `re-published ${id} differs`)
      out.set(id, r.value!.toString())
    }
  })
  return out
}

test('windows published across restarts equal those of one uninterrupted run', async () => {
  const input = decisions(600)
  const whole = new MemoryLog()
  for (const t of TOPICS) whole.createTopic(t, 1)
  whole.append(input)
  await runUntil(whole, new MemoryStateStore(), input.length, 50)
  const expected = published(whole)
  assert.ok(expected.size > 40, `only ${expected.size} windows`)

  const log = new MemoryLog()
  for (const t of TOPICS) log.createTopic(t, 1)
  log.append(input)
  const store = new MemoryStateStore()
  for (const stopAt of [120, 330, input.length]) await runUntil(log, store, stopAt, 50 + stopAt / 10)
  assert.deepEqual([...published(log).entries()].sort(), [...expected.entries()].sort())

  const w = JSON.parse(expected.get('tumbling_5m:2026-11-22T10:00:00.000Z')!) as WindowResult
  // 2 s apart with a few 4 s early: exactly the events with event time in [10:00, 10:05).
  const inWindow = input
    .map(r => JSON.parse(r.value as string) as { event_time: string; amount: number })
    .filter(d => Date.parse(d.event_time) >= T0 && Date.parse(d.event_time) < T0 + 300_000)
  assert.equal(w.transactions, inWindow.length)
  assert.equal(
    w.volume,
    inWindow.reduce((s, d) => s + d.amount, 0)
  )
})

test('a batch read again after its state write, and decisions the detector emitted again, are counted once', async () => {
  // Decisions with their source, as the detector writes them; then the detector's re-emit of a
  // run of them (a batch run again after an outage: byte-identical copies, after the originals).
  const input = decisions(600).map((r, i) => {
    const v = JSON.parse(r.value as string) as Record<string, unknown>
    return { ...r, value: JSON.stringify({ ...v, source: { topic: 'in', partition: 0, offset: i } }) }
  })
  const clean = new MemoryLog()
  for (const t of TOPICS) clean.createTopic(t, 1)
  clean.append(input)
  await runUntil(clean, new MemoryStateStore(), input.length, 64)
  const expected = published(clean)

  const log = new MemoryLog()
  for (const t of TOPICS) log.createTopic(t, 1)
  log.append(input.slice(0, 300))
  log.append(input.slice(250, 300)) // the re-emit
  log.append(input.slice(300))
  const store = new MemoryStateStore()
  await runUntil(log, store, input.length + 50, 64)
  // The group's commits lost (the commit that failed as the group changed): everything is read again.
  const again = new MemoryLog()
  for (const t of TOPICS) again.createTopic(t, 1)
  again.append(input.slice(0, 300))
  again.append(input.slice(250, 300))
  again.append(input.slice(300))
  await runUntil(again, store, input.length + 50, 64)
  assert.deepEqual([...published(log).entries()].sort(), [...expected.entries()].sort())
  assert.equal(published(again).size, 0, 'read again from a state that holds it: nothing new to publish')
})
