/**
 * Suites 2 and 3, measured the way users measure: the paced load generator, the system under
 * test and the reader each in a process of their own (benchmarks/live), latency from the
 * intended send time. Suite 2 runs the Kafka floor (a pass-through consumer → producer) and
 * `darooghe detect` on the same schedule; suite 3 steps the detector's rate up for the highest
 * rate it holds with p99 under the limit.
 */
import type { BenchEnv } from '../harness/env.ts'
import { liveLatency, type LiveWindow } from '../live/run.ts'
import { maxSustainable } from '../lib/stats.ts'
import type { LiveMaxResult, LiveSuiteResult } from '../lib/types.ts'

export const P99_LIMIT_MS = 100

export interface LivePlan {
  readonly rates: readonly number[]
  readonly windowMs: number
  readonly warmupMs: number
}

export async function liveSuite(
  env: BenchEnv,
  plan: LivePlan,
  log: (line: string) => void
): Promise<LiveSuiteResult> {
  const runs = await liveLatency(
    env,
    {
      rates: plan.rates,
      windowMs: plan.windowMs,
      warmup: { rate: 1_000, ms: plan.warmupMs },
      targets: ['floor', 'detector']
    },
    log
  )
  const floor = runs.find(r => r.target === 'floor')!
  const detector = runs.find(r => r.target === 'detector')!
  return {
    partitions: detector.partitions,
    meanEventBytes: detector.meanEventBytes,
    windowS: plan.windowMs / 1000,
    warmupS: plan.warmupMs / 1000,
    floor: floor.windows,
    detector: detector.windows
  }
}

/** A step passes when p99 is under the limit, the producer kept up and (almost) nothing is missing. */
export function livePassed(w: LiveWindow): boolean {
  return w.p99 < P99_LIMIT_MS && w.achievedSendRate >= 0.95 * w.rate && w.missing <= w.sent * 0.001
}

export async function liveMaxSuite(
  env: BenchEnv,
  plan: LivePlan,
  log: (line: string) => void
): Promise<LiveMaxResult> {
  const [run] = await liveLatency(
    env,
    {
      rates: plan.rates,
      windowMs: plan.windowMs,
      warmup: { rate: 1_000, ms: plan.warmupMs },
      targets: ['detector']
    },
    log
  )
  const steps = run!.windows.map(w => ({ ...w, passed: livePassed(w) }))
  return {
    p99LimitMs: P99_LIMIT_MS,
    windowS: plan.windowMs / 1000,
    partitions: run!.partitions,
    steps,
    maxSustainableRate: maxSustainable(steps.map(s => ({ rate: s.rate, passed: s.passed })))
  }
}
