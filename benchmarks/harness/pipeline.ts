/**
 * A live pipeline for the latency suites: input topic → detector (in-process, Redis state) →
 * approved/fraud topics → a reader. `runWindow` drives it with a paced producer and measures
 * decision-read time minus intended send time of each event, matched by transaction id.
 */
import { KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { runDetector } from '../../src/apps/detector/index.ts'
import { createGenerator, INVALID_KINDS } from '../../src/apps/generator/index.ts'
import { createProcessor, loadRuleSet, processorOptions } from '../../src/apps/processor/index.ts'
import { silentLogger } from '../../src/logger.ts'
import type { OutRecord } from '../../src/ports/log.ts'
import { latencyHistogram, percentilesMs, ratePerSecond, recordLatencyMs } from '../lib/stats.ts'
import { transactionIdOf } from '../lib/decision.ts'
import type { LatencyResult } from '../lib/types.ts'
import { BATCH_RECORDS, closeStore, openStore, outputTopics } from './detector-run.ts'
import { type BenchEnv, collectGarbage, now, sleep, waitFor } from './env.ts'
import { BENCH_CUSTOMERS } from './fill.ts'

export const INTENDED_HEADER = 'bench-intended'
const MAX_SEND = 2_000
const INVALID = new Set<string>(INVALID_KINDS)

export interface Pipeline {
  readonly partitions: number
  meanMessageBytes(): number
  runWindow(rate: number, durationMs: number, graceMs?: number): Promise<LatencyResult>
  close(): Promise<void>
}

export async function openPipeline(env: BenchEnv, partitions: number): Promise<Pipeline> {
  const input = env.name('live')
  await env.createTopics([input], partitions)
  const topics = await outputTopics(env, partitions)
  const group = env.name('live-detector')
  const store = await openStore(env, 'redis', `${env.runId}:${group}:`)
  const processor = createProcessor({
    store,
    ruleSet: loadRuleSet('default'),
    options: processorOptions({ topics })
  })
  const detectorConsumer = new KafkaLogConsumer({
    brokers: env.brokers,
    groupId: group,
    topics: [input],
    maxBatchRecords: BATCH_RECORDS,
    clientId: 'darooghe-bench-live'
  })
  const detectorProducer = new KafkaLogProducer({ brokers: env.brokers, clientId: 'darooghe-bench-live' })
  const reader = new KafkaLogConsumer({
    brokers: env.brokers,
    groupId: env.name('reader'),
    topics: [topics.approved, topics.fraud],
    maxBatchRecords: BATCH_RECORDS,
    clientId: 'darooghe-bench-reader'
  })
  const producer = new KafkaLogProducer({ brokers: env.brokers, clientId: 'darooghe-bench-paced' })
  const abort = new AbortController()
  let detectorReady = false
  let readerReady = false
  let failure: unknown = null
  /** transaction id → intended send time, of the events whose decision is awaited. */
  const expected = new Map<string, number>()
  let hist = latencyHistogram()
  let decisions = 0
  let lastRead = 0
  const detector = runDetector({
    consumer: detectorConsumer,
    producer: detectorProducer,
    processor,
    log: silentLogger,
    signal: abort.signal
  }).catch(e => (failure ??= e))
  const reading = reader
    .run({
      onAssignment: a => {
        if (a.length > 0) readerReady = true
      },
      onBatch: async records => {
        const t = now()
        for (const r of records) {
          const id = transactionIdOf(r.value)
          const intended = id === null ? undefined : expected.get(id)
          if (intended === undefined) continue
          expected.delete(id!)
          recordLatencyMs(hist, t - intended)
          decisions++
        }
        lastRead = t
      }
    })
    .catch(e => (failure ??= e))
  // Detector readiness: its group owns partitions (onAssignment is inside runDetector, so poll).
  await waitFor(() => {
    detectorReady = detectorConsumer.assignment().length > 0
    return (detectorReady && readerReady) || failure !== null
  }, 30_000)
  if (failure !== null) throw failure
  let bytes = 0
  let sentTotal = 0
  let window = 0

  return {
    partitions,
    meanMessageBytes: () => (sentTotal > 0 ? bytes / sentTotal : 0),
    async runWindow(rate, durationMs, graceMs = 5_000) {
      const count = Math.round((rate * durationMs) / 1000)
      // Building a 100,000-customer population takes about a second: do it before the clock
      // starts. Payload times then lie slightly before the intended send times, which is harmless.
      const generator = createGenerator({
        start: Date.now(),
        seed: `latency-${window++}`,
        customers: BENCH_CUSTOMERS,
        rate,
        count
      })
      collectGarbage()
      await sleep(200)
      const start = Math.ceil(now()) + 20
      hist = latencyHistogram()
      decisions = 0
      expected.clear()
      let sent = 0
      let next = generator.next()
      let lastSend = start
      while (next !== undefined) {
        if (failure !== null) throw failure
        const intendedOf = (i: number): number => start + (i * 1000) / rate
        const t = now()
        const due = intendedOf(sent)
        if (due > t) {
          await sleep(Math.max(1, due - t))
          continue
        }
        const batch: OutRecord[] = []
        while (next !== undefined && batch.length < MAX_SEND && intendedOf(sent) <= t) {
          const intended = intendedOf(sent)
          batch.push({
            topic: input,
            key: next.key,
            value: next.raw,
            headers: { [INTENDED_HEADER]: String(intended) }
          })
          if (!INVALID.has(next.label)) expected.set(next.transactionId, intended)
          bytes += Buffer.byteLength(next.raw)
          sent++
          next = generator.next()
        }
        await producer.send(batch)
        lastSend = now()
      }
      sentTotal += sent
      const expectedCount = decisions + expected.size
      await waitFor(() => expected.size === 0 || failure !== null, graceMs, 5)
      const cutoff = now()
      const missing = expected.size
      // Coordinated omission: a decision never read counts as at least as late as the cut-off.
      for (const intended of expected.values()) recordLatencyMs(hist, cutoff - intended)
      expected.clear()
      const p = percentilesMs(hist)
      return {
        ...p,
        targetRate: rate,
        durationS: durationMs / 1000,
        sent,
        achievedSendRate: Math.round(ratePerSecond(sent, lastSend - start)),
        decisions: expectedCount - missing,
        achievedDecisionRate: Math.round(
          ratePerSecond(expectedCount - missing, (lastRead || cutoff) - start)
        ),
        missing
      }
    },
    async close() {
      abort.abort()
      await Promise.allSettled([detectorConsumer.close(), reader.close()])
      await Promise.allSettled([detector, reading])
      await Promise.allSettled([detectorProducer.close(), producer.close()])
      await closeStore(store)
    }
  }
}
