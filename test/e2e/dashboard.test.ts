import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { chromium, type Page } from 'playwright-core'
import { ROOT, start } from '../helpers/cli.ts'
import { waitFor } from '../helpers/services.ts'

const SHOTS = join(ROOT, 'artifacts', 'dashboard')

/** Sum of the events/s points the throughput chart currently holds. */
const chartedEvents = (page: Page): Promise<number> =>
  page.evaluate(() => {
    const w = globalThis as unknown as {
      darooghe: { charts: Record<string, { data: { datasets: { data: { y: number }[] }[] } }> }
    }
    return w.darooghe.charts.throughput!.data.datasets[0]!.data.reduce((s, p) => s + (p.y ?? 0), 0)
  })

test('the dashboard of a running demo shows live data, alert traces and the topic browser', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-dashboard-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(SHOTS, { recursive: true })
  const demo = start([
    'demo',
    '--port',
    '0',
    '--rate',
    '200',
    '--seed',
    '7',
    '--fraud-rate',
    '0.05',
    '--alerts-file',
    join(dir, 'alerts.log'),
    '--report-dir',
    join(dir, 'report')
  ])
  t.after(() => demo.child.kill('SIGKILL'))
  const url = (
    await waitFor(() => /dashboard: (http:\/\/\S+)/.exec(demo.stdout), {
      what: 'the dashboard URL',
      timeoutMs: 60_000
    })
  )[1]!

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking']
  })
  t.after(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 })
  const problems: string[] = []
  page.on('console', m => {
    if (m.type() === 'error') problems.push(m.text())
  })
  page.on('pageerror', e => problems.push(e.message))
  page.on('requestfailed', r => {
    // The live stream is cut when the page closes; anything else failing is a problem.
    if (!r.url().includes('/api/live/stream')) problems.push(`request failed: ${r.url()}`)
  })
  await page.goto(url)

  // Alerts arrive in the feed, newest first.
  await page.waitForSelector('#alerts li.alert', { timeout: 60_000 })
  // The throughput chart grows between two observations.
  const first = await waitFor(async () => (await chartedEvents(page)) || undefined, {
    what: 'charted events'
  })
  await waitFor(async () => (await chartedEvents(page)) > first, { what: 'the throughput chart to grow' })
  await waitFor(async () => (await page.textContent('#health-text')) === 'live', {
    what: 'the health pill to say live'
  })
  // Enough history for the screenshot to show lines rather than a first point.
  await page.waitForFunction(
    () =>
      [
        ...(
          globalThis as unknown as { darooghe: { state: { latency: Map<number, { count: number }> } } }
        ).darooghe.state.latency.values()
      ].filter(p => p.count > 0).length >= 3,
    undefined,
    { timeout: 60_000 }
  )
  // The windows stage publishes a 1-minute window once the watermark passes its end; the
  // commission, merchants and volume charts fill from it.
  await page.locator('.chart-box:not(.is-empty) #chart-commission').waitFor({ timeout: 150_000 })
  await page.locator('.chart-box:not(.is-empty) #chart-merchants').waitFor()
  await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true })

  // Clicking an alert opens its decision trace: the rules and their numbers.
  // Pinned by id: new alerts keep arriving at the top of the feed.
  const id = (await page.locator('#alerts li.alert').first().getAttribute('data-id'))!
  const alert = page.locator(`#alerts li.alert[data-id="${id}"]`)
  const fired = (await alert.locator('.rule-tag').first().textContent())!
  await alert.click()
  const dialog = page.locator('#trace')
  await dialog.waitFor({ state: 'visible' })
  const rule = dialog.locator(`.rule[data-rule="${fired}"]`)
  await rule.waitFor()
  assert.match((await rule.locator('.badge').textContent())!, /^fired$/)
  assert.match((await rule.locator('.numbers').textContent())!, /\d/)
  assert.match((await dialog.locator('#trace-facts').textContent())!, new RegExp(id.replace(/^alert-/, '')))
  await page.screenshot({ path: join(SHOTS, 'alert-trace.png') })
  await page.keyboard.press('Escape')
  await dialog.waitFor({ state: 'hidden' })

  // The topic browser lists the input topic with its partitions and shows its messages.
  await page.click('.tab[data-view="topics"]')
  const row = page.locator('#topics-table tr[data-topic="darooghe.transactions"]')
  await row.waitFor()
  assert.equal(await row.locator('td').nth(1).textContent(), '6')
  await row.click()
  await page.locator('#partitions-table tr[data-partition="5"]').waitFor()
  assert.match((await page.locator('#partitions-table thead').textContent())!, /darooghe-demo-detector/)
  await page.locator('#messages .message pre').first().waitFor()
  assert.match((await page.locator('#messages .message pre').first().textContent())!, /"transaction_id"/)
  await page.screenshot({ path: join(SHOTS, 'topic-browser.png') })

  // "Report": the batch analytics over the history the demo stored so far, in a new tab.
  const [report] = await Promise.all([page.context().waitForEvent('page'), page.click('#report-button')])
  report.on('console', m => {
    if (m.type() === 'error') problems.push(`report: ${m.text()}`)
  })
  report.on('pageerror', e => problems.push(`report: ${e.message}`))
  await report.waitForURL(/\/reports\/latest$/, { timeout: 60_000 })
  await report.locator('canvas').first().waitFor()
  assert.match((await report.textContent('body'))!, /source: memory demo/)
  await report.screenshot({ path: join(SHOTS, 'report.png'), fullPage: true })

  assert.deepEqual(problems, [])
  // Ctrl-C with the page still open (its live stream connected): the demo still ends cleanly.
  demo.child.kill('SIGINT')
  assert.equal(await demo.exited, 0, demo.stderr)
  assert.match(demo.stdout, /stopped cleanly/)
})
