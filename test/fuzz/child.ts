/**
 * One target's cases, in a process of its own (forked by runner.ts with --expose-gc), so that a
 * crash, an out-of-memory or a hang of the code under test is a finding, not the end of the run.
 * Reports to the parent before and after every batch.
 */
import { baseAlerts, baseEvents, CleanStream, type CleanEvent } from './corpus.ts'
import { heapAfterGc, PrototypeGuard } from './guards.ts'
import { finding } from './checks.ts'
import { fileBatch } from './target-file.ts'
import { httpBatch } from './target-http.ts'
import { processorBatch } from './target-processor.ts'
import type { Finding, Target } from './report.ts'
import type { BatchEnv, BatchResult, BatchSpec } from './target.ts'

export interface ChildJob {
  readonly target: Target
  readonly seed: string
  /** Cases [from, to). */
  readonly from: number
  readonly to: number
  /** Cases per batch; batch b holds [b × batch, (b+1) × batch) and mixes into clean window b. */
  readonly batch: number
  /** Each case in a batch of its own (still in its batch's clean window): to name a crash's case. */
  readonly perCase: boolean
  /** Batches of the file target that also run the real command: every n-th (0: none). */
  readonly cliEvery: number
  /** A heap sample every n batches. */
  readonly heapEvery: number
}

export type ChildMessage =
  | { type: 'start'; range: [number, number] }
  | {
      type: 'batch'
      range: [number, number]
      records: number
      hostile: number
      findings: Finding[]
      tally: Record<string, number>
    }
  | { type: 'heap'; batch: number; cases: number; bytes: number }
  | { type: 'done' }

const RUN: Record<Target, (spec: BatchSpec, env: BatchEnv) => Promise<BatchResult>> = {
  processor: processorBatch,
  file: fileBatch,
  http: httpBatch
}

export async function runJob(job: ChildJob, send: (m: ChildMessage) => void): Promise<void> {
  const bases = job.target === 'http' ? [] : baseEvents(job.seed)
  const alerts = job.target === 'http' ? await baseAlerts(job.seed) : []
  const stream = job.target === 'http' ? null : new CleanStream(job.seed)
  let last: [number, CleanEvent[]] | null = null
  const clean = (j: number): CleanEvent[] => {
    if (last === null || last[0] !== j) last = [j, stream!.window(j)]
    return last[1]
  }
  const guard = new PrototypeGuard()
  let n = 0
  for (let from = job.from; from < job.to;) {
    const batchEnd = Math.min(job.to, (Math.floor(from / job.batch) + 1) * job.batch)
    const to = job.perCase ? from + 1 : batchEnd
    const range: [number, number] = [from, to]
    const spec: BatchSpec = {
      seed: job.seed,
      cases: Array.from({ length: to - from }, (_, i) => from + i),
      range,
      window: Math.floor(from / job.batch)
    }
    const cli = job.target === 'file' && job.cliEvery > 0 && n % job.cliEvery === 0
    send({ type: 'start', range })
    const r = await RUN[job.target](spec, { bases, alerts, clean, cli })
    // A batch of one case: whatever it shows is that case's (its bytes are filled in by the parent).
    const only = spec.cases.length === 1 ? from : null
    const findings = r.findings.map(f =>
      only === null || f.case !== null ? f : { ...f, case: only, mutations: [], head: '', bytes: -1 }
    )
    const polluted = guard.changes()
    if (polluted.length > 0) {
      const f = finding(
        { target: job.target, seed: job.seed, batch: range },
        null,
        'pollution',
        polluted.join('; ')
      )
      findings.push(only === null ? f : { ...f, case: only, bytes: -1 })
    }
    send({ type: 'batch', range, records: r.records, hostile: r.hostile, findings, tally: r.tally ?? {} })
    n++
    if (n === 2 || n % job.heapEvery === 0 || to === job.to)
      send({ type: 'heap', batch: n, cases: to - job.from, bytes: heapAfterGc() })
    from = to
  }
  send({ type: 'done' })
}

// Forked by the runner: the job comes as the first message.
if (process.send !== undefined) {
  process.once('message', (job: ChildJob) => {
    runJob(job, m => process.send!(m)).then(
      () => process.disconnect(),
      error => {
        console.error(error)
        process.exit(70)
      }
    )
  })
}
