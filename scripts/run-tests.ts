/**
 * Runs the test suites with node:test and prints one closing line for all of them:
 * "N passed, N failed". Suites run one after another; integration, e2e and chaos files run one
 * at a time because they share the real services (chaos: private ones it stops and starts).
 *
 *   node --import tsx scripts/run-tests.ts unit topology integration e2e chaos
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { run } from 'node:test'
import { spec } from 'node:test/reporters'

const suites = process.argv.slice(2)
if (suites.length === 0) suites.push('unit', 'topology')
const serial = new Set(['integration', 'e2e', 'chaos'])

function findTests(dir: string): string[] {
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return []
  }
  const out: string[] = []
  for (const name of entries.sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...findTests(path))
    else if (name.endsWith('.test.ts')) out.push(path)
  }
  return out
}

let passed = 0
let failed = 0
let skipped = 0
for (const suite of suites) {
  const files = findTests(join('test', suite))
  if (files.length === 0) continue
  process.stdout.write(`\n== ${suite}: ${files.length} files ==\n`)
  // A long chaos run (`npm run chaos`) takes about a quarter of an hour.
  const timeout = suite === 'chaos' ? 60 * 60_000 : 10 * 60_000
  const stream = run({ files, concurrency: serial.has(suite) ? 1 : 2, timeout })
  stream.on('test:pass', e => {
    if (e.details.type === 'suite') return
    if (e.skip || e.todo) skipped++
    else passed++
  })
  stream.on('test:fail', e => {
    if (e.details.type !== 'suite') failed++
  })
  await new Promise<void>((resolve, reject) => {
    stream
      .compose(new spec())
      .on('data', (chunk: string | Buffer) => process.stdout.write(chunk))
      .on('end', resolve)
      .on('error', reject)
  })
}
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`)
process.exitCode = failed > 0 || passed === 0 ? 1 : 0
