import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryLog } from '../../src/adapters/memory/log.ts'
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import { runDetector } from '../../src/apps/detector/index.ts'
import { createGenerator } from '../../src/apps/generator/index.ts'
import {
  createProcessor,
  DEFAULT_TOPICS,
  loadRuleSet,
  processorOptions
} from '../../src/apps/processor/index.ts'
import { silentLogger } from '../../src/logger.ts'
import type { LogProducer, OutRecord } from '../../src/ports/log.ts'
import { T0 } from './fixtures.ts'

const INPUT = 'payments'
const OUTPUT_TOPICS = [
  DEFAULT_TOPICS.approved,
  DEFAULT_TOPICS.fraud,
  DEFAULT_TOPICS.alerts,
  DEFAULT_TOPICS.errors
]

/**
 * Runs the detector over 3,000 generated events (batches of 400) with `producerFor(log)`;
 * returns every output value as text, by topic, in log order.
 */
async function detect(producerFor: (log: MemoryLog) => LogProducer): Promise<string[]> {
  const log = new MemoryLog({ defaultPartitions: 3 })
  const g = createGenerator({ start: T0, seed: 'release', customers: 300, rate: 50, count: 3_000 })
  const input: OutRecord[] = []
  for (let r = g.next(); r !== undefined; r = g.next())
    input.push({ topic: INPUT, key: r.key, value: Buffer.from(r.raw), timestamp: r.eventTimeMs + 5 })
  log.append(input)
  const processor = createProcessor({
    store: new MemoryStateStore(),
    ruleSet: loadRuleSet('default'),
    options: processorOptions(),
    clock: { now: () => T0 + 86_400_000 },
    delivery: 'outputs-first'
  })
  const consumer = log.consumer({ groupId: 'g', topics: [INPUT], maxBatchRecords: 400 })
  const running = runDetector({ consumer, producer: producerFor(log), processor, log: silentLogger })
  const end = log.endOffsets(INPUT)
  while (log.committedOffsets('g', INPUT).some((o, p) => o < end[p]!))
    await new Promise(r => setTimeout(r, 5))
  await consumer.close()
  await running
  return OUTPUT_TOPICS.flatMap(t =>
    log
      .startOffsets(t)
      .flatMap((start, p) => log.readRange(t, p, start, 1e9).map(r => `${t} ${r.value!.toString('utf8')}`))
  )
}

test('output memory is reused only when the producer copies what it sends', async () => {
  // The embedded producer copies (copiesRecords): its batches' output memory is recycled.
  const recycled = await detect(log => log.producer())
  // This one keeps the very buffers it was given and appends them only at the end of the run:
  // were their memory recycled, later batches would have overwritten them.
  const held: OutRecord[] = []
  let sink: MemoryLog | null = null
  const kept = await detect(log => {
    sink = log
    return {
      async send(records) {
        held.push(...records)
        return records.map(() => ({ partition: 0, offset: -1 }))
      },
      close: async () => {}
    }
  })
  assert.ok(sink !== null)
  const heldText = (t: string): string[] =>
    held.filter(r => r.topic === t).map(r => `${t} ${(r.value as Buffer).toString('utf8')}`)
  const recycledText = (t: string): string[] => recycled.filter(line => line.startsWith(`${t} `)).sort()
  assert.equal(kept.length, 0, 'the holding producer wrote nothing to the log')
  assert.ok(recycled.length >= 3_000)
  for (const t of OUTPUT_TOPICS) assert.deepEqual(heldText(t).sort(), recycledText(t), t)
  for (const line of recycled) JSON.parse(line.slice(line.indexOf(' ') + 1))
})
