/**
 * Suite 9: the synchronous decision API (`POST /v1/decisions`), measured from a separate
 * load-generating process (benchmarks/live/http-load.ts: open loop, latency from each request's
 * due time) against `darooghe serve --brokers` and `darooghe detect`, each a process of its own,
 * on real Kafka and Redis.
 */
import { createServer } from 'node:net'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import type { BenchEnv } from '../harness/env.ts'
import { BIN, Child } from '../live/run.ts'
import type { HttpSuiteResult, HttpWindowResult } from '../lib/types.ts'

const LOAD = new URL('../live/http-load.ts', import.meta.url).pathname

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export async function httpSuite(
  env: BenchEnv,
  plan: { rates: readonly number[]; windowMs: number; warmupMs: number },
  log: (line: string) => void
): Promise<HttpSuiteResult> {
  const input = env.name('http-in')
  const replies = env.name('http-replies')
  const outputs = ['approved', 'fraud', 'alerts', 'errors'].map(r => env.name(`http-${r}`))
  await env.createTopics([input, replies, ...outputs], 6)
  const group = env.name('http-group')
  const keyPrefix = `${env.name('http')}:`
  const port = await freePort()
  const detector = new Child(
    [
      '--max-semi-space-size=64',
      BIN,
      'detect',
      ...['--brokers', env.brokers.join(','), '--redis', env.redisUrl, '--topic', input, '--group', group],
      ...['--approved-topic', outputs[0]!, '--fraud-topic', outputs[1]!],
      ...['--alerts-topic', outputs[2]!, '--errors-topic', outputs[3]!],
      ...['--reply-topics', replies, '--status-interval', '0']
    ],
    'detect'
  )
  const children: Child[] = [detector]
  try {
    await detector.wait(
      (_, err) => (err.includes('partitions assigned') ? true : undefined),
      60_000,
      'detector ready'
    )
    const serve = new Child(
      [
        '--max-semi-space-size=64',
        BIN,
        'serve',
        ...['--port', String(port), '--brokers', env.brokers.join(','), '--redis', env.redisUrl],
        ...['--topic', input, '--reply-topic', replies, '--key-prefix', keyPrefix]
      ],
      'serve'
    )
    children.push(serve)
    const url = `http://127.0.0.1:${port}`
    for (const deadline = Date.now() + 60_000; ;) {
      const up = await fetch(`${url}/health`).then(
        r => r.status < 500,
        () => false
      )
      if (up) break
      if (serve.proc.exitCode !== null || Date.now() > deadline)
        throw new Error(`serve did not come up: ${serve.stderr.slice(-2_000)}`)
      await new Promise(r => setTimeout(r, 200))
    }
    const windows: HttpWindowResult[] = []
    for (const rate of plan.rates) {
      const load = new Child(
        [
          '--max-semi-space-size=64',
          '--import',
          'tsx',
          LOAD,
          ...['--url', url, '--rate', String(rate)],
          ...['--duration', `${plan.windowMs / 1000}s`, '--warmup', `${plan.warmupMs / 1000}s`]
        ],
        'http load'
      )
      children.push(load)
      const r = await load.wait(
        m => ((m as { rate?: number } | undefined)?.rate === rate ? (m as HttpLoadLine) : undefined),
        plan.windowMs + plan.warmupMs + 120_000,
        'http load result'
      )
      const w: HttpWindowResult = {
        rate,
        sent: r.sent,
        statuses: r.statuses,
        errors: r.errors,
        p50: r.latencyFromDueMs.p50,
        p90: r.latencyFromDueMs.p90,
        p99: r.latencyFromDueMs.p99,
        max: r.latencyFromDueMs.max,
        ...(r.processingLatencyMs
          ? { decidedP50: r.processingLatencyMs.p50, decidedP99: r.processingLatencyMs.p99 }
          : {})
      }
      log(
        `  ${rate}/s: p50 ${w.p50} ms, p90 ${w.p90} ms, p99 ${w.p99} ms, max ${w.max} ms, ${JSON.stringify(w.statuses)}; received → decided p50 ${w.decidedP50} ms, p99 ${w.decidedP99} ms`
      )
      windows.push(w)
    }
    return { windowS: plan.windowMs / 1000, warmupS: plan.warmupMs / 1000, windows }
  } finally {
    for (const c of children.reverse()) await c.stop()
    for (const prefix of [`darooghe:${group}:`, keyPrefix]) {
      const store = await RedisStateStore.connect({ url: env.redisUrl, keyPrefix: prefix })
      await store.clear().catch(() => {})
      await store.close()
    }
  }
}

interface HttpLoadLine {
  rate: number
  sent: number
  statuses: Record<string, number>
  errors: number
  latencyFromDueMs: { p50: number; p90: number; p99: number; max: number }
  /** The decisions' processing_latency_ms: from the API receiving the request to the detector deciding it. */
  processingLatencyMs?: { p50: number; p99: number }
}
