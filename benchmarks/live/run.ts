/**
 * The live latency benchmark, measured the way users measure it: the paced load generator, the
 * system under test and the reader each in a process of their own, latency from the intended
 * send time, at fixed rates after a warm-up; and, in the same run on the same load, the Kafka
 * floor (a pass-through consumer → producer). The system under test is the `darooghe detect`
 * CLI with its default settings (Redis state).
 *
 *   node --import tsx benchmarks/live/run.ts [--rates 1000,5000,10000,20000] [--window 60s]
 *        [--warmup 15s] [--targets floor,detector] [--stage-log FILE]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import type { BenchEnv } from '../harness/env.ts'
import type { ProducedWindow, ReadWindow, Schedule } from './protocol.ts'

const HERE = fileURLToPath(new URL('.', import.meta.url))
export const BIN = fileURLToPath(new URL('../../bin/darooghe.js', import.meta.url))
const PARTITIONS = 6

export type LiveTarget = 'floor' | 'detector'

export interface LiveWindow extends ReadWindow {
  readonly rate: number
  readonly sent: number
  readonly achievedSendRate: number
}

export interface LiveRun {
  readonly target: LiveTarget
  readonly partitions: number
  readonly meanEventBytes: number
  readonly windows: readonly LiveWindow[]
}

export interface LiveOptions {
  readonly rates: readonly number[]
  readonly windowMs: number
  readonly warmup: { rate: number; ms: number }
  readonly pauseMs?: number
  readonly customers?: number
  readonly targets?: readonly LiveTarget[]
  /** The detector's stage timeline (`detect --stage-log`) goes to this file. */
  readonly stageLog?: string
}

/** A child process whose stdout lines are JSON messages. */
export class Child {
  readonly proc: ChildProcess
  readonly #lines: unknown[] = []
  readonly #waiters: (() => void)[] = []
  stderr = ''
  exited: Promise<unknown>

  constructor(args: string[], what: string) {
    this.proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    this.exited = once(this.proc, 'exit')
    createInterface({ input: this.proc.stdout! }).on('line', line => {
      if (!line.startsWith('{')) return
      this.#lines.push(JSON.parse(line))
      for (const w of this.#waiters.splice(0)) w()
    })
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-20_000)
      for (const w of this.#waiters.splice(0)) w()
    })
    this.proc.on('exit', code => {
      if (code !== 0 && code !== null) this.stderr += `\n${what} exited with ${code}`
      for (const w of this.#waiters.splice(0)) w()
    })
  }

  /** The first message that `pick` accepts (or stderr text it finds), waiting up to `timeoutMs`. */
  async wait<T>(
    pick: (msg: unknown, stderr: string) => T | undefined,
    timeoutMs: number,
    what: string
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      for (const m of this.#lines) {
        const v = pick(m, '')
        if (v !== undefined) return v
      }
      const s = pick(undefined, this.stderr)
      if (s !== undefined) return s
      if (this.proc.exitCode !== null)
        throw new Error(`${what}: process exited (${this.proc.exitCode}): ${this.stderr.slice(-2_000)}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${what}: timed out after ${timeoutMs} ms: ${this.stderr.slice(-2_000)}`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, Math.min(left, 1_000))
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    this.proc.kill('SIGTERM')
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000)
    await this.exited
    clearTimeout(killer)
  }
}

export const tsx = (file: string, arg: unknown): string[] => [
  '--max-semi-space-size=64',
  '--import',
  'tsx',
  `${HERE}${file}`,
  JSON.stringify(arg)
]
const ready = (m: unknown): true | undefined =>
  (m as { ready?: boolean } | undefined)?.ready ? true : undefined

export async function liveLatency(
  env: BenchEnv,
  o: LiveOptions,
  log: (line: string) => void
): Promise<LiveRun[]> {
  const schedule: Schedule = {
    warmup: o.warmup,
    windows: o.rates.map(rate => ({ rate, ms: o.windowMs })),
    pauseMs: o.pauseMs ?? 3_000
  }
  const runs: LiveRun[] = []
  for (const target of o.targets ?? ['floor', 'detector']) {
    const run = await runTarget(env, target, schedule, o.customers ?? 100_000, log, o.stageLog)
    for (const w of run.windows) {
      log(
        `  ${target} ${w.rate}/s: sent ${w.achievedSendRate}/s, p50 ${w.p50} ms, p90 ${w.p90} ms, p99 ${w.p99} ms, max ${w.max} ms, missing ${w.missing}`
      )
    }
    runs.push(run)
  }
  return runs
}

async function runTarget(
  env: BenchEnv,
  target: LiveTarget,
  schedule: Schedule,
  customers: number,
  log: (line: string) => void,
  stageLog?: string
): Promise<LiveRun> {
  const input = env.name(`live-${target}-in`)
  const outputs = ['approved', 'fraud', 'alerts', 'errors'].map(r => env.name(`live-${target}-${r}`))
  await env.createTopics([input, ...outputs], PARTITIONS)
  const group = env.name(`live-${target}-group`)
  const sut =
    target === 'floor'
      ? new Child(
          tsx('passthrough.ts', { brokers: env.brokers, input, output: outputs[0], group }),
          'pass-through'
        )
      : new Child(
          [
            // As `bin/darooghe.js` runs itself (its shebang line), which `node bin/…` skips;
            // DAROOGHE_BENCH_SEMI_SPACE overrides it for experiments.
            `--max-semi-space-size=${process.env.DAROOGHE_BENCH_SEMI_SPACE ?? '64'}`,
            BIN,
            'detect',
            '--brokers',
            env.brokers.join(','),
            '--redis',
            env.redisUrl,
            '--topic',
            input,
            '--group',
            group,
            '--approved-topic',
            outputs[0]!,
            '--fraud-topic',
            outputs[1]!,
            '--alerts-topic',
            outputs[2]!,
            '--errors-topic',
            outputs[3]!,
            '--status-interval',
            '0',
            ...(stageLog ? ['--stage-log', stageLog] : [])
          ],
          'detect'
        )
  const children: Child[] = [sut]
  try {
    if (target === 'floor') await sut.wait(ready, 60_000, 'pass-through ready')
    else
      await sut.wait(
        (_, err) => (err.includes('partitions assigned') ? true : undefined),
        60_000,
        'detector ready'
      )
    const reader = new Child(
      tsx('reader.ts', {
        brokers: env.brokers,
        topics: target === 'floor' ? [outputs[0]] : [outputs[0], outputs[1]],
        windows: schedule.windows.length
      }),
      'reader'
    )
    children.push(reader)
    await reader.wait(ready, 60_000, 'reader ready')
    log(`  ${target}: warm-up ${schedule.warmup.rate}/s for ${schedule.warmup.ms / 1000} s`)
    const producer = new Child(
      tsx('paced-producer.ts', { brokers: env.brokers, topic: input, schedule, seed: `${group}`, customers }),
      'paced producer'
    )
    children.push(producer)
    const total = schedule.warmup.ms + schedule.windows.reduce((a, w) => a + w.ms + schedule.pauseMs, 0)
    const produced = await producer.wait(
      m => (m as { windows?: ProducedWindow[] } | undefined)?.windows,
      total + 120_000,
      'paced producer'
    )
    const graceMs = 10_000
    reader.proc.stdin!.write(
      JSON.stringify({
        expected: produced.map(w => w.sent),
        lastIntended: produced.map(w => w.lastIntended),
        graceMs
      }) + '\n'
    )
    const read = await reader.wait(
      m => (m as { windows?: ReadWindow[] } | undefined)?.windows,
      graceMs + 30_000,
      'reader result'
    )
    const meanEventBytes = Math.round(
      produced.reduce((a, w) => a + w.meanBytes, 0) / Math.max(1, produced.length)
    )
    return {
      target,
      partitions: PARTITIONS,
      meanEventBytes,
      windows: produced.map((w, i) => ({
        rate: w.rate,
        sent: w.sent,
        achievedSendRate: w.achievedSendRate,
        ...read[i]!
      }))
    }
  } finally {
    for (const c of children.reverse()) await c.stop()
    if (target === 'detector') {
      const store = await RedisStateStore.connect({ url: env.redisUrl, keyPrefix: `darooghe:${group}:` })
      await store.clear().catch(() => {})
      await store.close()
    }
  }
}

// Standalone: one run against the local services, printed as JSON.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { openEnv } = await import('../harness/env.ts')
  const flag = (name: string, fallback: string): string => {
    const i = process.argv.indexOf(`--${name}`)
    return i > 0 ? process.argv[i + 1]! : fallback
  }
  const seconds = (s: string): number => Number(s.replace(/s$/, '')) * 1000
  const env = openEnv({
    brokers: (process.env.DAROOGHE_BROKERS ?? '127.0.0.1:9092').split(','),
    redisUrl: process.env.DAROOGHE_REDIS ?? 'redis://127.0.0.1:6379',
    quick: false
  })
  try {
    const runs = await liveLatency(
      env,
      {
        rates: flag('rates', '1000,5000,10000,20000').split(',').map(Number),
        windowMs: seconds(flag('window', '60s')),
        warmup: { rate: 1_000, ms: seconds(flag('warmup', '15s')) },
        targets: flag('targets', 'floor,detector').split(',') as LiveTarget[],
        ...(flag('stage-log', '') ? { stageLog: flag('stage-log', '') } : {})
      },
      line => process.stderr.write(line + '\n')
    )
    process.stdout.write(JSON.stringify(runs, null, 2) + '\n')
  } finally {
    await env.cleanup()
  }
}
