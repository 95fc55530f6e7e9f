/**
 * The load generator of the live latency benchmark, in a process of its own: generator events
 * at a fixed rate, each stamped with its intended send time (event time and header) and sent as
 * soon as it is due, with nothing lingering (acks from all replicas, idempotent). Event *i* of a
 * window is due at `start + i / rate` whether or not the producer kept up, so a stall is
 * charged to the records behind it (no coordinated omission).
 *
 *   node --import tsx benchmarks/live/paced-producer.ts '{"brokers":[...],"topic":...,"schedule":...}'
 * prints one JSON line: { windows: ProducedWindow[] }.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { createGenerator } from '../../src/apps/generator/index.ts'
import type { OutRecord } from '../../src/ports/log.ts'
import {
  epochMs,
  INTENDED_HEADER,
  jsonArg,
  WINDOW_HEADER,
  type Phase,
  type ProducedWindow,
  type ProducerArgs
} from './protocol.ts'

const MAX_SEND = 2_000

const args = jsonArg<ProducerArgs>()
const producer = new KafkaLogProducer({ brokers: [...args.brokers], clientId: 'darooghe-bench-paced' })

/** Events of one phase, built before its clock starts; their times are rewritten when sent. */
function eventsOf(phase: Phase, seed: string): { key: string; event: Record<string, unknown> }[] {
  const count = Math.round((phase.rate * phase.ms) / 1000)
  const gen = createGenerator({
    start: Date.now(),
    seed,
    customers: args.customers,
    rate: phase.rate,
    count,
    invalidRate: 0
  })
  const out: { key: string; event: Record<string, unknown> }[] = []
  for (let r = gen.next(); r !== undefined; r = gen.next())
    if (r.event !== undefined) out.push({ key: r.key, event: { ...r.event } })
  return out
}

async function runPhase(phase: Phase, index: number): Promise<ProducedWindow> {
  const events = eventsOf(phase, `${args.seed}-${index}`)
  let n = 0
  for (const e of events) e.event.transaction_id = `${args.seed}-${index}-${n++}`
  const start = epochMs() + 50
  const due = (i: number): number => start + (i * 1000) / phase.rate
  let sent = 0
  let bytes = 0
  let last = start
  while (sent < events.length) {
    const t = epochMs()
    if (due(sent) > t) {
      await sleep(Math.max(0, Math.min(1, due(sent) - t)))
      continue
    }
    const batch: OutRecord[] = []
    while (sent < events.length && batch.length < MAX_SEND && due(sent) <= t) {
      const intended = due(sent)
      const e = events[sent]!
      e.event.timestamp = new Date(intended).toISOString()
      const value = JSON.stringify(e.event)
      bytes += value.length
      batch.push({
        topic: args.topic,
        key: e.key,
        value,
        timestamp: Math.floor(intended),
        headers: { [INTENDED_HEADER]: intended.toFixed(3), [WINDOW_HEADER]: String(index) }
      })
      sent++
    }
    await producer.send(batch)
    last = epochMs()
  }
  return {
    rate: phase.rate,
    sent,
    achievedSendRate: Math.round((sent * 1000) / Math.max(1, last - start)),
    meanBytes: sent > 0 ? Math.round(bytes / sent) : 0,
    lastIntended: due(sent - 1)
  }
}

try {
  await runPhase(args.schedule.warmup, -1)
  const windows: ProducedWindow[] = []
  for (let i = 0; i < args.schedule.windows.length; i++) {
    await sleep(args.schedule.pauseMs)
    windows.push(await runPhase(args.schedule.windows[i]!, i))
  }
  process.stdout.write(JSON.stringify({ windows }) + '\n')
} finally {
  await producer.close()
}
