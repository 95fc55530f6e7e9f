/**
 * The detector as a user runs it: `darooghe detect --workers N` (N processes in one group) on a
 * pre-filled topic, Redis state, all default rules. Timed from the first offset the group
 * commits to the moment its committed offsets equal the end offsets (polled every 10 ms), so
 * process start-up and the group join are left out, as the in-process run leaves them out.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { type BenchEnv, waitFor } from './env.ts'

const BIN = fileURLToPath(new URL('../../bin/darooghe.js', import.meta.url))

export async function measureWorkers(
  env: BenchEnv,
  input: string,
  partitions: number,
  workers: number
): Promise<number> {
  const group = env.name('workers-group')
  const outputs = ['approved', 'fraud', 'alerts', 'errors'].map(k => env.name(`workers-${k}`))
  await env.createTopics(outputs, partitions)
  const [approved, fraud, alerts, errors] = outputs as [string, string, string, string]
  const args = [BIN, 'detect', '--workers', String(workers), '--brokers', env.brokers.join(',')]
  args.push('--redis', env.redisUrl, '--topic', input, '--group', group, '--status-interval', '0')
  args.push('--approved-topic', approved, '--fraud-topic', fraud, '--alerts-topic', alerts)
  args.push('--errors-topic', errors, '--log-level', 'error')
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] })
  const exited = once(child, 'exit')
  try {
    const end = await env.admin.endOffsets(input)
    const total = end.reduce((a, b) => a + b, 0)
    const committed = async (): Promise<number> =>
      (await env.admin.committedOffsets(group, input)).reduce((a, b) => a + Math.max(0, b), 0)
    let first = 0
    let firstCount = 0
    await waitFor(
      async () => {
        const c = await committed()
        if (first === 0 && c > 0) {
          first = Date.now()
          firstCount = c
        }
        return c >= total
      },
      600_000,
      10
    )
    return ((total - firstCount) * 1000) / (Date.now() - first)
  } finally {
    child.kill('SIGINT')
    await exited
    const keys = await RedisStateStore.connect({ url: env.redisUrl, keyPrefix: `darooghe:${group}:` })
    await keys.clear()
    await keys.close()
  }
}
