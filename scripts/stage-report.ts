/**
 * Sums up a detector's stage timeline (`darooghe detect --stage-log FILE`): per stage, the
 * percentiles of its time per batch; the batch sizes; the garbage collections; and the slowest
 * batches with what ran around them (GC pauses overlapping them).
 *
 *   node --import tsx scripts/stage-report.ts FILE [--from EPOCH_MS] [--to EPOCH_MS] [--top 10]
 */
import { readFileSync } from 'node:fs'

interface Batch {
  batch: number
  at: number
  outputs: number
  age: number
  gap: number
  process: number
  produce: number
  complete: number
}
interface Gc {
  gc: string
  at: number
  ms: number
}

const args = process.argv.slice(2)
const file = args[0]
if (file === undefined) {
  process.stderr.write('usage: stage-report.ts FILE [--from MS] [--to MS] [--top N]\n')
  process.exit(2)
}
const opt = (name: string): number | undefined => {
  const i = args.indexOf(`--${name}`)
  return i > 0 ? Number(args[i + 1]) : undefined
}
const from = opt('from') ?? 0
const to = opt('to') ?? Number.POSITIVE_INFINITY
const top = opt('top') ?? 10
const batches: Batch[] = []
const gcs: Gc[] = []
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (line === '') continue
  const row = JSON.parse(line) as Batch | Gc
  if (row.at < from || row.at > to) continue
  if ('gc' in row) gcs.push(row)
  else batches.push(row)
}

const pct = (xs: number[], q: number): number => {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
const row = (name: string, xs: number[]): string =>
  `${name.padEnd(10)} ${[0.5, 0.9, 0.99, 1].map(q => pct(xs, q).toFixed(2).padStart(9)).join('')}   sum ${xs
    .reduce((a, b) => a + b, 0)
    .toFixed(0)} ms`
const records = batches.reduce((a, b) => a + b.batch, 0)
const span = batches.length > 1 ? (batches.at(-1)!.at - batches[0]!.at) / 1000 : 0
process.stdout.write(
  `${batches.length} batches, ${records} records over ${span.toFixed(1)} s\n` +
    `${'stage'.padEnd(10)} ${['p50', 'p90', 'p99', 'max'].map(h => h.padStart(9)).join('')}\n` +
    [
      row(
        'records',
        batches.map(b => b.batch)
      ),
      row(
        'age',
        batches.map(b => b.age)
      ),
      row(
        'gap',
        batches.map(b => b.gap)
      ),
      row(
        'process',
        batches.map(b => b.process)
      ),
      row(
        'produce',
        batches.map(b => b.produce)
      ),
      row(
        'complete',
        batches.map(b => b.complete)
      ),
      row(
        'total',
        batches.map(b => b.process + b.produce + b.complete)
      )
    ].join('\n') +
    '\n'
)
const byKind = new Map<string, number[]>()
for (const g of gcs) byKind.set(g.gc, [...(byKind.get(g.gc) ?? []), g.ms])
for (const [kind, ms] of byKind)
  process.stdout.write(row(`gc ${kind}`, ms).replace('sum', `n ${ms.length}, sum`) + '\n')
const slow = [...batches]
  .sort((a, b) => b.age + b.process + b.produce + b.complete - (a.age + a.process + a.produce + a.complete))
  .slice(0, top)
process.stdout.write(`\nslowest batches (age + process + produce + complete):\n`)
for (const b of slow) {
  const end = b.at + b.process + b.produce + b.complete
  const around = gcs.filter(g => g.at + g.ms >= b.at - b.age && g.at <= end)
  process.stdout.write(
    `  at ${new Date(b.at).toISOString()} records ${b.batch} age ${b.age.toFixed(1)} gap ${b.gap.toFixed(1)} ` +
      `process ${b.process.toFixed(1)} produce ${b.produce.toFixed(1)} complete ${b.complete.toFixed(1)}` +
      (around.length > 0 ? `  gc: ${around.map(g => `${g.gc} ${g.ms.toFixed(1)}`).join(', ')}` : '') +
      '\n'
  )
}
