/** Pre-fills a topic with generator events, as fast as the producer goes. */
import { createGenerator } from '../../src/apps/generator/index.ts'
import type { LogProducer, OutRecord } from '../../src/ports/log.ts'

/** Customers of the benchmark population: ordinary traffic stays clean up to ~30 events/s per 1,000. */
export const BENCH_CUSTOMERS = 100_000
/** Event-time rate of the pre-filled events: clean for BENCH_CUSTOMERS (see above). */
export const FILL_EVENT_RATE = 3_000
const CHUNK = 20_000

export interface FillResult {
  readonly events: number
  readonly bytes: number
  readonly labels: Readonly<Record<string, number>>
}

/**
 * `count` events (default fraud and invalid rates) whose event times end a few seconds
 * before now; the record timestamp is the event time, so nothing is too old or too far in
 * the future for validation and, partitions being in event-time order, nothing is late.
 */
export async function fillTopic(
  producer: LogProducer,
  topic: string,
  count: number,
  seed: string
): Promise<FillResult> {
  const spanMs = (count / FILL_EVENT_RATE) * 1000
  const generator = createGenerator({
    start: Date.now() - spanMs - 5_000,
    seed,
    customers: BENCH_CUSTOMERS,
    rate: FILL_EVENT_RATE,
    count
  })
  const labels: Record<string, number> = {}
  let bytes = 0
  let events = 0
  let chunk: OutRecord[] = []
  for (let r = generator.next(); r !== undefined; r = generator.next()) {
    chunk.push({ topic, key: r.key, value: r.raw, timestamp: r.eventTimeMs })
    labels[r.label] = (labels[r.label] ?? 0) + 1
    bytes += Buffer.byteLength(r.raw)
    events++
    if (chunk.length >= CHUNK) {
      await producer.send(chunk)
      chunk = []
    }
  }
  if (chunk.length > 0) await producer.send(chunk)
  return { events, bytes, labels }
}
