import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  cpuSecondsPerThousand,
  latencyHistogram,
  maxSustainable,
  percentilesMs,
  ratePerSecond,
  recordLatencyMs,
  summarize
} from '../../benchmarks/lib/stats.ts'

/** HDR keeps 3 significant digits: a value is exact within 0.1 % (plus the 1 µs unit). */
function near(actual: number, expected: number): void {
  assert.ok(
    Math.abs(actual - expected) <= expected * 0.001 + 0.001,
    `${actual} is not within 0.1 % of ${expected}`
  )
}

describe('bench stats: summaries and rates', () => {
  it('summarizes runs as median, min and max', () => {
    assert.deepEqual(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, runs: 3 })
    assert.deepEqual(summarize([4, 1, 2, 10]), { median: 3, min: 1, max: 10, runs: 4 })
    assert.deepEqual(summarize([7]), { median: 7, min: 7, max: 7, runs: 1 })
    assert.throws(() => summarize([]), /no values/)
  })

  it('does not reorder the caller’s runs', () => {
    const runs = [3, 1, 2]
    summarize(runs)
    assert.deepEqual(runs, [3, 1, 2])
  })

  it('computes events per second from a count and milliseconds', () => {
    assert.equal(ratePerSecond(100_000, 2_000), 50_000)
    assert.equal(ratePerSecond(1, 0.5), 2_000)
    assert.equal(ratePerSecond(10, 0), 0)
  })

  it('computes CPU seconds per 1,000 events from microseconds', () => {
    assert.equal(cpuSecondsPerThousand(2_000_000, 100_000), 0.02)
    assert.equal(cpuSecondsPerThousand(5, 0), 0)
  })
})

describe('bench stats: HDR percentiles', () => {
  it('gives exact percentiles of 1..1000 ms within HDR precision', () => {
    const h = latencyHistogram()
    for (let ms = 1; ms <= 1000; ms++) recordLatencyMs(h, ms)
    const p = percentilesMs(h)
    assert.equal(p.count, 1000)
    near(p.p50, 500)
    near(p.p90, 900)
    near(p.p99, 990)
    near(p.p999, 999)
    near(p.max, 1000)
  })

  it('keeps sub-millisecond latencies to the microsecond', () => {
    const h = latencyHistogram()
    for (let i = 0; i < 99; i++) recordLatencyMs(h, 0.25)
    recordLatencyMs(h, 0.75)
    const p = percentilesMs(h)
    assert.equal(p.p50, 0.25)
    assert.equal(p.p99, 0.25)
    assert.equal(p.max, 0.75)
  })

  it('sees a rare outlier only in the top percentiles', () => {
    const h = latencyHistogram()
    for (let i = 0; i < 9_999; i++) recordLatencyMs(h, 5)
    recordLatencyMs(h, 2_000)
    const p = percentilesMs(h)
    near(p.p50, 5)
    near(p.p99, 5)
    near(p.p999, 5)
    near(p.max, 2_000)
  })

  it('counts non-positive latencies as the smallest unit', () => {
    const h = latencyHistogram()
    recordLatencyMs(h, -3)
    recordLatencyMs(h, 0)
    assert.equal(percentilesMs(h).max, 0.001)
  })
})

describe('bench stats: max sustainable rate', () => {
  it('is the last passing step before the first failure', () => {
    const steps = [
      { rate: 5_000, passed: true },
      { rate: 10_000, passed: true },
      { rate: 20_000, passed: false },
      { rate: 30_000, passed: true }
    ]
    assert.equal(maxSustainable(steps), 10_000)
  })

  it('is null when the first step fails', () => {
    assert.equal(maxSustainable([{ rate: 5_000, passed: false }]), null)
    assert.equal(maxSustainable([]), null)
  })
})

describe('bench stats: percentiles never exceed the max', () => {
  it('caps a bucket’s highest value at the largest recorded latency', () => {
    const h = latencyHistogram()
    for (let i = 0; i < 999; i++) recordLatencyMs(h, 10)
    recordLatencyMs(h, 76.864)
    const p = percentilesMs(h)
    assert.ok(p.p999 <= p.max, `p99.9 ${p.p999} > max ${p.max}`)
    assert.equal(p.max, 76.864)
  })
})
