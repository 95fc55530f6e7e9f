/** What every suite shares: connection settings, unique names, and the topics to delete at the end. */
import { randomBytes } from 'node:crypto'
import { cpus, platform, release, totalmem } from 'node:os'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { KafkaLogAdmin } from '../../src/adapters/kafka/index.ts'
import type { Conditions } from '../lib/types.ts'

export interface BenchEnv {
  readonly brokers: readonly string[]
  readonly redisUrl: string
  readonly quick: boolean
  /** Unique per `npm run bench` invocation: prefixes topics, groups and Redis keys. */
  readonly runId: string
  readonly admin: KafkaLogAdmin
  /** Creates topics and remembers them for `cleanup()`. */
  createTopics(names: readonly string[], partitions: number): Promise<void>
  /** A fresh name under this run's prefix. */
  name(kind: string): string
  cleanup(): Promise<void>
}

export function openEnv(options: { brokers: readonly string[]; redisUrl: string; quick: boolean }): BenchEnv {
  const runId = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  const admin = new KafkaLogAdmin({ brokers: options.brokers, clientId: 'darooghe-bench' })
  const created = new Set<string>()
  let n = 0
  return {
    ...options,
    runId,
    admin,
    async createTopics(names, partitions) {
      for (const t of names) created.add(t)
      await admin.createTopics(names.map(name => ({ name, partitions })))
    },
    name: kind => `${runId}.${kind}.${n++}`,
    async cleanup() {
      // Topics autocreated by a producer under our prefix are deleted too.
      const ours = (await admin.listTopics()).map(t => t.name).filter(t => t.startsWith(runId))
      const all = [...new Set([...created, ...ours])]
      if (all.length > 0) await admin.deleteTopics(all).catch(() => {})
      await admin.close()
    }
  }
}

const require = createRequire(import.meta.url)

export function conditions(quick: boolean): Conditions {
  const cpu = cpus()
  let kafkaClient = '@platformatic/kafka'
  try {
    const main = require.resolve('@platformatic/kafka')
    const pkg = join(
      main.slice(0, main.lastIndexOf('node_modules/@platformatic/kafka/') + 33),
      'package.json'
    )
    kafkaClient += ` ${(JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version}`
  } catch {
    // The package may not export package.json; the name alone is still useful.
  }
  return {
    date: new Date().toISOString(),
    quick,
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    nodeFlags: process.execArgv.filter(a => a.startsWith('--max-')).join(' '),
    kafka: '4.1.1',
    kafkaClient,
    platform: `${platform()} ${release()}`
  }
}

/** Wall clock with sub-millisecond resolution, epoch ms. */
export const now = (): number => performance.timeOrigin + performance.now()

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 20
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() >= deadline) return false
    await sleep(everyMs)
  }
}

setFlagsFromString('--expose-gc')
/**
 * A full garbage collection now, so that building a window's workload (a 100,000-customer
 * population) is not paid for by a GC pause inside the measured window.
 */
export const collectGarbage = runInNewContext('gc') as () => void
