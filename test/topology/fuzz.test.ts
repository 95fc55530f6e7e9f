/**
 * The fuzzing harness (test/fuzz), bounded: 10,000 hostile cases over the three targets, with a
 * fixed seed, plus three runs of the real `darooghe detect` on files. Any finding fails the
 * test with its one-line report and the command that runs its case again.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MiB } from '../fuzz/guards.ts'
import { formatFinding, reproduce } from '../fuzz/report.ts'
import { formatMiB, runFuzz } from '../fuzz/runner.ts'
import { withBytes } from '../fuzz/show.ts'

const BATCH = 200
const HEAP_BOUND = 64 * MiB

test('10,000 hostile cases: every record one output, the clean ones decided as without them, no crash, no 5xx', async () => {
  const reports = await runFuzz({
    targets: ['processor', 'file', 'http'],
    seed: 'npm-test',
    cases: { processor: 4_000, file: 3_000, http: 3_000 },
    from: 0,
    batch: BATCH,
    // File batches 0, 5 and 10 also run the real command in a process of its own.
    cliEvery: 5,
    hangMs: 60_000
  })
  const findings = await withBytes(
    reports.flatMap(r => r.findings),
    BATCH
  )
  assert.deepEqual(
    findings.map(f => `${formatFinding(f)}\n    ${reproduce(f, BATCH)}`),
    [],
    'findings of the fuzzing harness'
  )
  for (const r of reports) {
    assert.ok(r.heap.length >= 2, `${r.target}: heap sampled`)
    assert.ok(r.heapGrowth < HEAP_BOUND, `${r.target}: heap grew by ${formatMiB(r.heapGrowth)}`)
  }
  // The cases reached every kind of outcome, not only the error path.
  const [processor, file, http] = reports
  for (const r of [processor!, file!]) {
    assert.ok(r.hostile > r.cases, `${r.target}: ${r.hostile} hostile records`)
    assert.ok((r.tally.error_logs ?? 0) > r.cases / 2, `${r.target}: ${JSON.stringify(r.tally)}`)
    assert.ok((r.tally.approved ?? 0) > 0, `${r.target}: some hostile records are still valid events`)
    assert.ok((r.tally.late ?? 0) > 0, `${r.target}: some of them decided late`)
  }
  assert.ok(
    (file!.tally.duplicate ?? 0) > 0,
    `file: a record split into valid lines duplicates: ${JSON.stringify(file!.tally)}`
  )
  for (const status of ['201', '400', '401', '404', '413', '415'])
    assert.ok((http!.tally[status] ?? 0) > 0, `http: some ${status}: ${JSON.stringify(http!.tally)}`)
})
