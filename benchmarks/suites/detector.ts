/**
 * Suites 1 and 6: detector throughput on a pre-filled topic, with Redis state (suite 1) or
 * the in-memory state store (suite 6, embedded mode). Each run uses a fresh consumer group and
 * fresh output topics on the same pre-filled input.
 */
import type { LogBackend } from '../harness/backend.ts'
import { type BenchEnv } from '../harness/env.ts'
import { BATCH_RECORDS, measureDetector } from '../harness/detector-run.ts'
import { measureWorkers } from '../harness/detector-workers.ts'
import { DECISION_SUFFIX_BYTES, measurePassThrough } from '../harness/passthrough.ts'
import { FILL_EVENT_RATE, BENCH_CUSTOMERS, fillTopic, type FillResult } from '../harness/fill.ts'
import { summarize } from '../lib/stats.ts'
import type { DetectorResult } from '../lib/types.ts'

export const PARTITIONS = 6
/** Detector processes of the CLI run: one per core. */
export const WORKERS = 2

export interface Prefilled {
  readonly topic: string
  readonly fill: FillResult
  readonly seconds: number
}

export async function prefill(env: BenchEnv, backend: LogBackend, count: number): Promise<Prefilled> {
  const topic = env.name('input')
  await backend.createTopics([topic], PARTITIONS)
  const producer = backend.producer('darooghe-bench-fill')
  const t0 = Date.now()
  try {
    const fill = await fillTopic(producer, topic, count, 'bench-detector')
    return { topic, fill, seconds: (Date.now() - t0) / 1000 }
  } finally {
    await producer.close()
  }
}

export async function detectorSuite(
  env: BenchEnv,
  backend: LogBackend,
  input: Prefilled,
  runs: number,
  store: 'redis' | 'memory',
  log: (line: string) => void,
  workerRuns = runs
): Promise<DetectorResult> {
  const results = []
  for (let i = 0; i < runs; i++) {
    const r = await measureDetector(env, backend, input.topic, PARTITIONS, input.fill.events, store)
    log(`  run ${i + 1}/${runs}: ${Math.round(r.eventsPerSecond).toLocaleString('en-US')} events/s`)
    results.push(r)
  }
  // The CLI with N processes in the group: one JavaScript thread per process is the wall.
  const workerRates: number[] = []
  if (backend.name === 'kafka' && store === 'redis') {
    for (let i = 0; i < workerRuns; i++) {
      const rate = await measureWorkers(env, input.topic, PARTITIONS, WORKERS)
      log(
        `  run ${i + 1}/${workerRuns}, --workers ${WORKERS}: ${Math.round(rate).toLocaleString('en-US')} events/s`
      )
      workerRates.push(rate)
    }
  }
  const passRates: number[] = []
  const passCpu: number[] = []
  if (backend.name === 'kafka' && store === 'redis') {
    const p = await measurePassThrough(env, backend, input.topic, PARTITIONS, input.fill.events)
    log(
      `  Kafka pass-through (no processing): ${Math.round(p.eventsPerSecond).toLocaleString('en-US')} events/s`
    )
    passRates.push(p.eventsPerSecond)
    passCpu.push(p.cpuSecondsPer1000)
  }
  const f = input.fill
  const fraud = Object.entries(f.labels)
    .filter(([k]) => k !== 'legit' && !k.startsWith('invalid') && k !== 'malformed_json')
    .reduce((n, [, v]) => n + v, 0)
  const invalid = Object.entries(f.labels)
    .filter(([k]) => k.startsWith('invalid') || k === 'malformed_json')
    .reduce((n, [, v]) => n + v, 0)
  return {
    store,
    log: backend.name,
    events: f.events,
    partitions: PARTITIONS,
    meanMessageBytes: f.bytes / f.events,
    batchRecords: BATCH_RECORDS,
    eventsPerSecond: summarize(results.map(r => r.eventsPerSecond)),
    cpuSecondsPer1000: summarize(results.map(r => r.cpuSecondsPer1000)),
    peakRssMiB: summarize(results.map(r => r.peakRssMiB)),
    outputs: results[results.length - 1]!.outputs,
    ...(workerRates.length > 0
      ? { workers: { count: WORKERS, eventsPerSecond: summarize(workerRates) } }
      : {}),
    ...(passRates.length > 0
      ? { passThrough: { eventsPerSecond: summarize(passRates), cpuSecondsPer1000: summarize(passCpu) } }
      : {}),
    note:
      `Input: ${f.events.toLocaleString('en-US')} generator events (${BENCH_CUSTOMERS.toLocaleString('en-US')} customers, event time ${FILL_EVENT_RATE.toLocaleString('en-US')}/s ending just before the run, record timestamp = event time) incl. ${fraud.toLocaleString('en-US')} labelled fraud and ${invalid.toLocaleString('en-US')} invalid events, pre-filled in ${input.seconds.toFixed(1)} s. ` +
      (backend.name === 'kafka'
        ? `Detector in-process (runDetector: KafkaLogConsumer → processor with all default rules and ${store === 'redis' ? 'RedisStateStore' : 'MemoryStateStore'} → KafkaLogProducer, idempotent, acks=all, to 4 output topics → commit). `
        : `Fully embedded: runDetector on the in-process MemoryLog (consumer, producer, commits) with the ${store === 'redis' ? 'RedisStateStore' : 'MemoryStateStore'} and all default rules. `) +
      'Timed from the first fetched batch to the moment the committed offsets equal the end offsets (polled every 10 ms). CPU is the whole Node process (client, processor, GC) per 1,000 events; peak RSS sampled every 50 ms.' +
      (workerRates.length > 0
        ? ` Kafka pass-through: the same consumer and producer forwarding each record plus ${DECISION_SUFFIX_BYTES} filler bytes (a decision's size) to one topic, committing after the acks, no processing and no Redis.` +
          ` \`--workers ${WORKERS}\`: the CLI (\`darooghe detect --workers ${WORKERS}\`, ${WORKERS} processes in one group, Redis state) on the same input, timed from the group's first commit to the last (start-up and join excluded).`
        : '')
  }
}
