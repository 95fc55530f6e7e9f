import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { DaroogheError } from '../../errors.ts'

const RUNNER = fileURLToPath(new URL('../../../benchmarks/run.ts', import.meta.url))

/**
 * `darooghe bench`: runs the benchmark harness of the repository (benchmarks/run.ts) in a
 * child process, so each suite keeps its own clean heap.
 */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run the benchmarks against the local Kafka and Redis (same as npm run bench)')
    .option('--quick', 'small N and short windows: under 3 minutes')
    .option('--only <suites>', 'comma-separated: detector, embedded, stages, latency, max, clients')
    .option('--events <n>', 'events for the throughput suites')
    .option('--brokers <list>', 'Kafka bootstrap brokers (default 127.0.0.1:9092)')
    .option('--redis <url>', 'Redis URL (default redis://127.0.0.1:6379)')
    .option('--no-doc', 'do not regenerate docs/benchmarks.md')
    .action(async (flags: Record<string, unknown>) => {
      if (!existsSync(RUNNER)) {
        throw new DaroogheError(
          'USAGE',
          'the benchmarks ship with the repository: run darooghe bench from a checkout'
        )
      }
      const args = ['--import', 'tsx', RUNNER]
      if (flags.quick) args.push('--quick')
      for (const k of ['only', 'events', 'brokers', 'redis'] as const) {
        if (typeof flags[k] === 'string') args.push(`--${k}`, flags[k] as string)
      }
      if (flags.doc === false) args.push('--no-doc')
      const child = spawn(process.execPath, args, { stdio: 'inherit' })
      const code = await new Promise<number>(resolve => child.on('exit', c => resolve(c ?? 1)))
      if (code !== 0) process.exitCode = code
    })
}
