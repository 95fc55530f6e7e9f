import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = fileURLToPath(new URL('../../bin/darooghe.js', import.meta.url))

export interface Running {
  readonly child: ChildProcess
  stdout: string
  stderr: string
  /** Resolves with the exit code (or the signal name) once the process ended. */
  readonly exited: Promise<number | string>
}

/** Starts `darooghe ARGS` (or any command when `command` is given) and collects its output. */
export function start(
  args: string[],
  options: { env?: Record<string, string>; command?: string } = {}
): Running {
  const [cmd, argv] = options.command ? [options.command, args] : [process.execPath, [BIN, ...args]]
  const child = spawn(cmd, argv, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const run: Running = {
    child,
    stdout: '',
    stderr: '',
    exited: once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string)
  }
  child.stdout!.setEncoding('utf8').on('data', d => (run.stdout += d))
  child.stderr!.setEncoding('utf8').on('data', d => (run.stderr += d))
  return run
}

/** Runs to completion; returns exit code and output. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; command?: string } = {}
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const r = start(args, options)
  const code = await r.exited
  return { code, stdout: r.stdout, stderr: r.stderr }
}
