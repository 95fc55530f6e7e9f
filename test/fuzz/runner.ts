/**
 * Runs targets' cases in child processes and keeps going through whatever they do: a child
 * that dies or stops reporting is a finding for the batch it was in; that batch is run again
 * one case at a time (to name the case), then the run goes on after it.
 */
import { fork } from 'node:child_process'
import type { ChildJob, ChildMessage } from './child.ts'
import { MiB } from './guards.ts'
import type { Finding, Target } from './report.ts'

export interface FuzzOptions {
  readonly targets: readonly Target[]
  readonly seed: string
  /** Cases per target, starting at `from`. */
  readonly cases: Readonly<Record<Target, number>>
  readonly from: number
  readonly batch: number
  readonly perCase?: boolean
  readonly cliEvery?: number
  /** A child silent for this long is hung. Default 120 s. */
  readonly hangMs?: number
  readonly heapEvery?: number
  /** Heap of each child (MiB). Default 2048. */
  readonly maxHeapMiB?: number
  readonly onProgress?: (target: Target, casesDone: number, findings: number) => void
}

export interface HeapSample {
  /** Cases run by the child when it was taken. */
  readonly cases: number
  readonly bytes: number
}

export interface TargetReport {
  readonly target: Target
  readonly cases: number
  records: number
  hostile: number
  seconds: number
  readonly findings: Finding[]
  /** What hostile records came to (or HTTP status codes), over the whole run. */
  readonly tally: Record<string, number>
  /** Heap after a full GC in the child that ran longest: after its second batch, then every heapEvery batches. */
  heap: HeapSample[]
  /** Growth of heapUsed from its first sample to its last. */
  heapGrowth: number
}

const CHILD = new URL('./child.ts', import.meta.url).pathname

/** Where a child stopped early: the cases in flight, and why; `early`: before its first batch. */
type Stop = { range: [number, number]; why: string; hung: boolean; early: boolean } | null

/** Time a child has to build its corpus and skip to its first clean window. */
const STARTUP_MS = 300_000

function runChild(job: ChildJob, o: FuzzOptions, report: TargetReport, heap: HeapSample[]): Promise<Stop> {
  const hangMs = o.hangMs ?? 120_000
  return new Promise(resolve => {
    const child = fork(CHILD, [], {
      execArgv: ['--import', 'tsx', '--expose-gc', `--max-old-space-size=${o.maxHeapMiB ?? 2048}`],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc']
    })
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)))
    let current: [number, number] | null = null
    let next = job.from
    let finished = false
    let hung = false
    let timer: ReturnType<typeof setTimeout> | undefined
    let early = true
    const arm = (ms: number): void => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        hung = true
        child.kill('SIGKILL')
      }, ms)
    }
    arm(Math.max(hangMs, STARTUP_MS))
    child.on('message', (m: ChildMessage) => {
      arm(hangMs)
      early = false
      if (m.type === 'start') current = m.range
      else if (m.type === 'batch') {
        report.findings.push(...m.findings)
        report.records += m.records
        report.hostile += m.hostile
        for (const [k, n] of Object.entries(m.tally)) report.tally[k] = (report.tally[k] ?? 0) + n
        next = m.range[1]
        current = null
        o.onProgress?.(job.target, next - o.from, report.findings.length)
      } else if (m.type === 'heap') heap.push({ cases: m.cases, bytes: m.bytes })
      else if (m.type === 'done') finished = true
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (finished) return resolve(null)
      const tail = stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400)
      const why = hung ? `no progress for ${hangMs} ms (killed)` : `child exited (${code ?? signal}): ${tail}`
      resolve({ range: current ?? [next, Math.min(job.to, next + 1)], why, hung, early })
    })
    child.send(job)
  })
}

export async function runTarget(target: Target, o: FuzzOptions): Promise<TargetReport> {
  const started = performance.now()
  const report: TargetReport = {
    target,
    cases: o.cases[target],
    records: 0,
    hostile: 0,
    seconds: 0,
    findings: [],
    tally: {},
    heap: [],
    heapGrowth: 0
  }
  const base = {
    target,
    seed: o.seed,
    batch: o.batch,
    cliEvery: o.cliEvery ?? 0,
    heapEvery: o.heapEvery ?? 25
  }
  const end = o.from + o.cases[target]
  const stopped = (
    s: NonNullable<Stop>,
    k: number | null,
    batch: [number, number],
    prefix = ''
  ): Finding => ({
    target,
    seed: o.seed,
    case: k,
    batch,
    check: s.hung ? 'hang' : 'crash',
    mutations: [],
    head: '',
    bytes: -1,
    detail: prefix + s.why
  })
  let from = o.from
  while (from < end) {
    const heap: HeapSample[] = []
    const stop = await runChild({ ...base, from, to: end, perCase: o.perCase ?? false }, o, report, heap)
    if (heap.length > report.heap.length) report.heap = heap
    if (stop === null) break
    if (stop.early) {
      // Nothing of the cases ran: the harness itself is broken, and every case would say so.
      report.findings.push({
        ...stopped(stop, null, stop.range),
        check: 'harness',
        detail: `no batch started: ${stop.why}`
      })
      break
    }
    const [a, b] = stop.range
    report.findings.push(stopped(stop, b - a === 1 ? a : null, [a, b]))
    // The batch again, one case at a time: each case that stops its child is named.
    for (let at = a; b - a > 1 && at < b;) {
      const again = await runChild({ ...base, from: at, to: b, perCase: true }, o, report, [])
      if (again === null || again.early) break
      report.findings.push(stopped(again, again.range[0], [a, b], 'alone: '))
      at = again.range[0] + 1
    }
    from = b
  }
  report.seconds = (performance.now() - started) / 1000
  const h = report.heap
  report.heapGrowth = h.length >= 2 ? h[h.length - 1]!.bytes - h[0]!.bytes : 0
  return report
}

export async function runFuzz(o: FuzzOptions): Promise<TargetReport[]> {
  const out: TargetReport[] = []
  for (const t of o.targets) if (o.cases[t] > 0) out.push(await runTarget(t, o))
  return out
}

export const formatMiB = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`
