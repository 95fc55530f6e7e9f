/** Suites 2 and 3: end-to-end latency at fixed rates, and the max sustainable rate. */
import { type BenchEnv } from '../harness/env.ts'
import { BATCH_RECORDS } from '../harness/detector-run.ts'
import { openPipeline } from '../harness/pipeline.ts'
import { maxSustainable } from '../lib/stats.ts'
import type { LatencyResult, LatencySuiteResult, MaxThroughputResult } from '../lib/types.ts'
import { PARTITIONS } from './detector.ts'

const WARMUP = { rate: 1_000, ms: 3_000 }

function line(w: LatencyResult): string {
  return `  ${w.targetRate}/s: sent ${w.achievedSendRate}/s, p50 ${w.p50} ms, p99 ${w.p99} ms, max ${w.max} ms, missing ${w.missing}`
}

export async function latencySuite(
  env: BenchEnv,
  rates: readonly number[],
  durationMs: number,
  log: (line: string) => void
): Promise<LatencySuiteResult> {
  const p = await openPipeline(env, PARTITIONS)
  try {
    await p.runWindow(WARMUP.rate, WARMUP.ms)
    const windows: LatencyResult[] = []
    for (const rate of rates) {
      const w = await p.runWindow(rate, durationMs)
      log(line(w))
      windows.push(w)
    }
    return {
      partitions: PARTITIONS,
      meanMessageBytes: p.meanMessageBytes(),
      batchRecords: BATCH_RECORDS,
      windows
    }
  } finally {
    await p.close()
  }
}

export const P99_LIMIT_MS = 100

/** A step passes when p99 is under the limit, the producer kept up and (almost) nothing is missing. */
export function stepPassed(w: LatencyResult): boolean {
  return w.p99 < P99_LIMIT_MS && w.achievedSendRate >= 0.95 * w.targetRate && w.missing <= w.sent * 0.001
}

export async function maxThroughputSuite(
  env: BenchEnv,
  rates: readonly number[],
  windowMs: number,
  log: (line: string) => void
): Promise<MaxThroughputResult> {
  const p = await openPipeline(env, PARTITIONS)
  try {
    await p.runWindow(WARMUP.rate, WARMUP.ms)
    const steps: (LatencyResult & { passed: boolean })[] = []
    for (const rate of rates) {
      const w = await p.runWindow(rate, windowMs, 10_000)
      const passed = stepPassed(w)
      log(`${line(w)} → ${passed ? 'pass' : 'fail'}`)
      steps.push({ ...w, passed })
      if (!passed) break
    }
    return {
      p99LimitMs: P99_LIMIT_MS,
      windowS: windowMs / 1000,
      partitions: PARTITIONS,
      steps,
      maxSustainableRate: maxSustainable(steps.map(s => ({ rate: s.targetRate, passed: s.passed })))
    }
  } finally {
    await p.close()
  }
}
