/**
 * npm run fuzz -- [--cases N] [--seed S] [--target file|processor|http|all] [--batch B]
 *                 [--from K] [--case K] [--show] [--dump FILE] [--cli-every N] [--out FILE]
 *                 [--hang-ms MS] [--heap-bound MIB]
 * Runs the fuzzing harness of test/fuzz (README there); exits 1 on any finding.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import {
  formatFinding,
  groupFindings,
  reproduce,
  TARGETS,
  type Finding,
  type Target
} from '../test/fuzz/report.ts'
import { formatMiB, runFuzz } from '../test/fuzz/runner.ts'
import { describe, rebuildCase, withBytes } from '../test/fuzz/show.ts'
import { MiB } from '../test/fuzz/guards.ts'

const { values: f } = parseArgs({
  options: {
    cases: { type: 'string', default: '3000' },
    seed: { type: 'string', default: '1' },
    target: { type: 'string', default: 'all' },
    batch: { type: 'string', default: '200' },
    from: { type: 'string', default: '0' },
    case: { type: 'string' },
    show: { type: 'boolean', default: false },
    dump: { type: 'string' },
    'cli-every': { type: 'string', default: '200' },
    out: { type: 'string' },
    'hang-ms': { type: 'string', default: '120000' },
    'heap-bound': { type: 'string', default: '64' },
    'per-case': { type: 'boolean', default: false }
  }
})

function int(name: string, text: string, min: number): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < min) {
    console.error(`fuzz: --${name} must be an integer >= ${min} (got '${text}')`)
    process.exit(2)
  }
  return n
}

const targets: Target[] = f.target === 'all' ? [...TARGETS] : [f.target as Target]
if (!targets.every(t => TARGETS.includes(t))) {
  console.error(`fuzz: --target must be one of ${TARGETS.join(', ')} or all (got '${f.target}')`)
  process.exit(2)
}
const batch = int('batch', f.batch, 1)
const single = f.case === undefined ? null : int('case', f.case, 0)
const total = single === null ? int('cases', f.cases, 1) : targets.length
const from = single ?? int('from', f.from, 0)
const cases = Object.fromEntries(
  TARGETS.map(t => [t, targets.includes(t) ? Math.ceil(total / targets.length) : 0])
) as Record<Target, number>

if (f.show || f.dump !== undefined) {
  for (const t of targets) {
    const c = await rebuildCase(t, f.seed, from, batch)
    console.log(`${t} seed=${f.seed} ${describe(c)}`)
    if (f.dump !== undefined) {
      writeFileSync(
        f.dump,
        Buffer.concat(c.payloads.map(p => Buffer.concat([p ?? Buffer.alloc(0), Buffer.from('\n')])))
      )
      console.log(`  records written to ${f.dump}, one a line`)
    }
  }
}

const heapBound = int('heap-bound', f['heap-bound'], 1) * MiB
console.error(
  `fuzz: seed ${f.seed}, ${targets.map(t => `${t} ${cases[t]}`).join(', ')} cases from ${from}, batches of ${batch}`
)
let lastProgress = performance.now()
const reports = await runFuzz({
  targets,
  seed: f.seed,
  cases,
  from,
  batch,
  perCase: f['per-case'] || single !== null,
  cliEvery: int('cli-every', f['cli-every'], 0),
  hangMs: int('hang-ms', f['hang-ms'], 1000),
  onProgress: (t, done, findings) => {
    if (performance.now() - lastProgress < 10_000) return
    lastProgress = performance.now()
    console.error(`fuzz: ${t} ${done}/${cases[t]} cases, ${findings} findings`)
  }
})

let all: Finding[] = []
for (const r of reports) {
  const heap =
    r.heap.length > 0
      ? `heap ${formatMiB(r.heap[0]!.bytes)} → ${formatMiB(r.heap[r.heap.length - 1]!.bytes)} (max ${formatMiB(Math.max(...r.heap.map(h => h.bytes)))}, growth ${formatMiB(r.heapGrowth)})`
      : 'no heap sample'
  console.log(
    `${r.target}: ${r.cases} cases, ${r.records} records (${r.hostile} hostile) in ${r.seconds.toFixed(1)} s ` +
      `(${Math.round(r.cases / r.seconds)} cases/s); ${heap}; ${r.findings.length} findings`
  )
  const tally = Object.entries(r.tally).sort((a, b) => b[1] - a[1])
  const what = r.target === 'http' ? 'statuses' : 'hostile records'
  if (tally.length > 0) console.log(`  ${what}: ${tally.map(([k, n]) => `${k} ${n}`).join(', ')}`)
  if (r.heapGrowth > heapBound) {
    r.findings.push({
      target: r.target,
      seed: f.seed,
      case: null,
      batch: [from, from + r.cases],
      check: 'memory',
      mutations: [],
      head: '',
      bytes: -1,
      detail: `heap grew by ${formatMiB(r.heapGrowth)} (bound ${formatMiB(heapBound)})`
    })
  }
  all = all.concat(r.findings)
}
all = await withBytes(all, batch)
for (const g of groupFindings(all)) {
  console.log(
    `\n${g.count} × ${g.key}\n  e.g. ${formatFinding(g.first).replace(/\n/g, '\n  ')}\n  ${reproduce(g.first, batch)}`
  )
}
if (f.out !== undefined) {
  writeFileSync(f.out, all.map(x => JSON.stringify(x)).join('\n') + (all.length > 0 ? '\n' : ''))
  console.log(`\n${all.length} findings written to ${f.out}`)
}
process.exitCode = all.length > 0 ? 1 : 0
