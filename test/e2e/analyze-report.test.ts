import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'
import { ROOT, runCli } from '../helpers/cli.ts'

const ARTIFACTS = join(ROOT, 'artifacts', 'analyze')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** Width and height from the IHDR chunk, after checking the signature. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  assert.ok(bytes.subarray(0, 8).equals(PNG_SIGNATURE), 'PNG signature')
  assert.equal(bytes.subarray(12, 16).toString('latin1'), 'IHDR')
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
}

async function cli(args: string[]): Promise<string> {
  const r = await runCli(args)
  assert.equal(r.code, 0, `darooghe ${args.join(' ')}\n${r.stderr}`)
  return r.stdout
}

test('analyze writes a report that opens in Chromium without errors, with every chart drawn', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'darooghe-e2e-analyze-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  await mkdir(ARTIFACTS, { recursive: true })
  const events = join(dir, 'events.ndjson')
  const decisions = join(dir, 'decisions.ndjson')
  // A 7-day history plus a live stream, fixed in time so every run draws the same report.
  await cli([
    'generate',
    '--history',
    '5000',
    '--count',
    '200',
    '--seed',
    '1',
    '--unpaced',
    '--start',
    '2026-01-12T12:00:00Z',
    '--out',
    events
  ])
  // The same events through the processor: decision records carry the fraud decisions.
  await cli([
    'detect',
    '--input',
    events,
    '--output',
    decisions,
    '--now',
    '2026-01-12T12:05:00Z',
    '--max-event-age',
    '30d',
    '-q'
  ])

  const raw = join(dir, 'raw')
  const stdout = await cli(['analyze', '--input', events, '--out', raw, '--run-id', 'e2e-raw'])
  assert.match(stdout, /^analyzed 5,\d{3} transactions from file /m)
  const rawCharts = [
    'daily-volume',
    'hourly',
    'heatmap',
    'top-merchants-count',
    'top-merchants-commission',
    'commission',
    'segments',
    'users'
  ]
  for (const name of rawCharts) {
    const { width, height } = pngSize(await readFile(join(raw, 'charts', `${name}.png`)))
    assert.ok(width > 200 && height > 100, `${name}.png is ${width}×${height}`)
  }
  const report = JSON.parse(await readFile(join(raw, 'report.json'), 'utf8'))
  assert.equal(report.results.fraud, null, 'generator output carries no decisions')
  const lines = (await readFile(events, 'utf8')).split('\n').filter(l => l.length > 0).length
  assert.equal(report.run.rows + report.run.skipped.total, lines, 'every line analysed or counted as skipped')
  assert.equal(report.results.temporal.daily.length, 8, '7 days of history and the live day')

  const decided = join(dir, 'decided')
  await cli(['analyze', '--input', decisions, '--out', decided, '--no-png', '--run-id', 'e2e-decisions'])
  const decidedReport = JSON.parse(await readFile(join(decided, 'report.json'), 'utf8'))
  assert.ok(decidedReport.results.fraud.decided > 5000)

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking']
  })
  t.after(() => browser.close())
  for (const [name, folder, charts] of [
    ['raw', raw, rawCharts],
    ['decisions', decided, [...rawCharts, 'fraud-rate']]
  ] as const) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 })
    const errors: string[] = []
    page.on('console', m => {
      if (m.type() === 'error') errors.push(m.text())
    })
    page.on('pageerror', e => errors.push(e.message))
    page.on('request', r => {
      if (!r.url().startsWith('file:')) errors.push(`network request to ${r.url()}`)
    })
    await page.goto(pathToFileURL(join(folder, 'report.html')).href)
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 30_000 })
    // Every canvas has a size and painted pixels.
    const canvases = await page.$$eval('canvas', list =>
      list.map(c => {
        const ctx = c.getContext('2d')!
        const data = ctx.getImageData(0, 0, c.width, c.height).data
        let painted = 0
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++
        return { id: c.id, width: c.width, height: c.height, painted }
      })
    )
    const expected = charts.filter(c => c !== 'heatmap').map(c => `canvas-${c}`)
    assert.deepEqual(canvases.map(c => c.id).sort(), [...expected].sort())
    for (const c of canvases) {
      assert.ok(
        c.width > 0 && c.height > 0 && c.painted > 1000,
        `${name}: ${c.id} drew nothing (${JSON.stringify(c)})`
      )
    }
    const heat = await page.$$eval('#chart-heatmap td', tds => tds.length)
    assert.equal(heat, 7 * 24)
    await page.screenshot({ path: join(ARTIFACTS, `${name}-report.png`), fullPage: true })
    for (const chart of charts) {
      await page.locator(`#chart-${chart}`).screenshot({ path: join(ARTIFACTS, `${name}-${chart}.png`) })
      pngSize(await readFile(join(ARTIFACTS, `${name}-${chart}.png`)))
    }
    assert.deepEqual(errors, [], `${name}: console errors`)
    await page.close()
  }
})
