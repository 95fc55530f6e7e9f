/**
 * One detector run, for profiling the detector alone:
 *   node --import tsx benchmarks/profile-detector.ts fill [events]          → prints the topic (kept)
 *   node --cpu-prof --cpu-prof-dir=DIR --import tsx benchmarks/profile-detector.ts run TOPIC EVENTS [redis|memory]
 * Same harness as suite 1 (local Kafka and Redis). `run` removes its groups, output topics and keys.
 */
import { kafkaBackend } from './harness/backend.ts'
import { measureDetector } from './harness/detector-run.ts'
import { openEnv } from './harness/env.ts'
import { PARTITIONS, prefill } from './suites/detector.ts'

const [mode, a, b, c] = process.argv.slice(2)
const env = openEnv({ brokers: ['127.0.0.1:9092'], redisUrl: 'redis://127.0.0.1:6379', quick: true })
const kafka = kafkaBackend(env)
if (mode === 'fill') {
  const input = await prefill(env, kafka, Number(a ?? 300_000))
  console.log(input.topic)
  process.exit(0)
}
try {
  const r = await measureDetector(env, kafka, a!, PARTITIONS, Number(b), (c ?? 'redis') as 'redis' | 'memory')
  console.log(
    `${Math.round(r.eventsPerSecond)} events/s, ${r.cpuSecondsPer1000.toFixed(3)} CPU s per 1000, peak RSS ${Math.round(r.peakRssMiB)} MiB`
  )
} finally {
  await env.cleanup()
}
