import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { DaroogheError } from '../../errors.ts'

const BIN = fileURLToPath(new URL('../../../bin/darooghe.js', import.meta.url))

/** `--workers`: a positive integer, at most 16. */
export function workerCount(value: string | undefined): number {
  if (value === undefined) return 1
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 16)
    throw new DaroogheError('USAGE', `--workers must be an integer from 1 to 16 (got '${value}')`)
  return n
}

/**
 * `darooghe detect --workers N`: N detector processes in the same consumer group, as Kafka
 * Streams' `num.stream.threads`: the group spreads the partitions over them, each keeps the
 * state of its own partitions, and a rebalance moves state through Redis as between hosts.
 * Processes rather than threads: one JavaScript thread per detector is the wall (see
 * docs/benchmarks.md), and a process needs no shared memory.
 *
 * Workers start one after another, each once the previous one has joined the group (it says
 * so over the IPC channel): members joining at the same instant make the group rebalance
 * again and again, and the client gives up after a few failed SyncGroups.
 *
 * The children get the same flags (`--metrics-port P` becomes P+i for worker i); SIGINT and
 * SIGTERM are passed on; the exit code is the first non-zero one of a child, and a child that
 * fails stops the others.
 */
export async function runDetectWorkers(argv: readonly string[], workers: number): Promise<void> {
  const children: ChildProcess[] = []
  // Taken at fork time: a child may exit before the others have started.
  const exits: Promise<[number | null, NodeJS.Signals | null]>[] = []
  let stopping = false
  const starting = (async () => {
    for (let i = 0; i < workers && !stopping; i++) {
      const child = fork(BIN, childArgs(argv, i), {
        execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS),
        stdio: 'inherit',
        env: { ...process.env, DAROOGHE_WORKER: String(i) }
      })
      children.push(child)
      exits.push(once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>)
      await joinedOrGone(child)
    }
  })()
  const forward = (signal: NodeJS.Signals) => (): void => {
    stopping = true
    for (const c of children) if (c.exitCode === null) c.kill(signal)
  }
  const onInt = forward('SIGINT')
  const onTerm = forward('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  let failed: number | null = null
  try {
    await starting
    await Promise.all(
      exits.map(async (exit, i) => {
        const [code, signal] = await exit
        if (code !== 0 && failed === null) {
          failed = code ?? 1
          process.stderr.write(
            `darooghe: detect worker ${i} ended with ${code ?? signal}; stopping the others\n`
          )
          forward('SIGTERM')()
        }
      })
    )
  } finally {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
  }
  if (failed !== null) process.exitCode = failed
}

/**
 * Node flags of a worker: the parent's, plus a 64 MiB young generation unless one was set.
 * A detector keeps a whole batch (thousands of events, their outputs and state) alive across
 * minor collections; with the default 16 MiB semi-space most of it survives a scavenge and is
 * promoted, and garbage collection took a fifth of the CPU. With 64 MiB, CPU per event fell by
 * about a quarter (docs/benchmarks.md).
 */
export function workerExecArgv(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const set = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some(a =>
    a.startsWith('--max-semi-space-size')
  )
  return set ? [...execArgv] : [...execArgv, `--max-semi-space-size=${YOUNG_GENERATION_MIB}`]
}

export const YOUNG_GENERATION_MIB = 64

/** The parent's arguments for worker `i`: without --workers, with its own metrics port. */
export function childArgs(argv: readonly string[], i: number): string[] {
  const out: string[] = []
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!
    if (a === '--workers') {
      k++
      continue
    }
    if (a.startsWith('--workers=')) continue
    if (a === '--metrics-port' && argv[k + 1] !== undefined) {
      out.push(a, String(Number(argv[k + 1]) + i))
      k++
      continue
    }
    out.push(a)
  }
  return out
}

/** Resolves when the worker reports it joined its group, or when it exits. */
function joinedOrGone(child: ChildProcess): Promise<void> {
  return new Promise(resolve => {
    const done = (): void => {
      child.off('message', onMessage)
      child.off('exit', done)
      resolve()
    }
    const onMessage = (m: unknown): void => {
      if ((m as { darooghe?: string } | null)?.darooghe === 'joined') done()
    }
    child.on('message', onMessage)
    child.on('exit', done)
  })
}
