/**
 * The reader of the live latency benchmark, in a process of its own: reads the decisions (or
 * the floor's forwarded records) and records, per window, the time each was read minus its
 * intended send time (the header the paced producer set and the system under test kept).
 * Prints `{"ready":true}` once it owns its partitions; then, told on stdin how many records
 * each window must yield, waits for them (at most the grace period) and prints one JSON line:
 * { windows: ReadWindow[] }. Records not read in time are counted at the cut-off.
 */
import { createInterface } from 'node:readline'
import { KafkaLogConsumer } from '../../src/adapters/kafka/index.ts'
import { latencyHistogram, percentilesMs, recordLatencyMs } from '../lib/stats.ts'
import {
  epochMs,
  INTENDED_HEADER,
  jsonArg,
  WINDOW_HEADER,
  type ReaderArgs,
  type ReaderExpect,
  type ReadWindow
} from './protocol.ts'

const args = jsonArg<ReaderArgs>()
const hists = Array.from({ length: args.windows }, () => latencyHistogram())
const received = new Array<number>(args.windows).fill(0)
let told: ReaderExpect | null = null

const consumer = new KafkaLogConsumer({
  brokers: [...args.brokers],
  groupId: `bench-reader-${process.pid}-${Date.now()}`,
  topics: [...args.topics],
  clientId: 'darooghe-bench-reader'
})
const running = consumer.run({
  onAssignment: a => {
    if (a.length > 0) process.stdout.write('{"ready":true}\n')
  },
  onBatch: async records => {
    const t = epochMs()
    for (const r of records) {
      const w = Number(r.headers[WINDOW_HEADER])
      const intended = Number(r.headers[INTENDED_HEADER])
      if (!(w >= 0 && w < args.windows) || !Number.isFinite(intended)) continue
      recordLatencyMs(hists[w]!, t - intended)
      received[w]!++
    }
  }
})

const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  told = JSON.parse(line) as ReaderExpect
  break
}
if (told === null) process.exit(1)
const deadline = Date.now() + told.graceMs
while (Date.now() < deadline && received.some((n, i) => n < told!.expected[i]!)) {
  await new Promise(r => setTimeout(r, 20))
}
const cutoff = epochMs()
const windows: ReadWindow[] = hists.map((h, i) => {
  // A record never read is at least as late as the cut-off is after the window's last intended
  // send time: charged that much (a lower bound).
  const missing = Math.max(0, told!.expected[i]! - received[i]!)
  for (let k = 0; k < missing; k++) recordLatencyMs(h, cutoff - told!.lastIntended[i]!)
  const p = percentilesMs(h)
  return { received: received[i]!, missing, p50: p.p50, p90: p.p90, p99: p.p99, p999: p.p999, max: p.max }
})
process.stdout.write(JSON.stringify({ windows }) + '\n')
await consumer.close()
await running.catch(() => {})
process.exit(0)
