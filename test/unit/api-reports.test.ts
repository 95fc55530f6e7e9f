import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { MemoryDocumentStore } from '../../src/adapters/memory/index.ts'
import { reportFromStore } from '../../src/apps/analytics/index.ts'
import { buildApi } from '../../src/apps/api/index.ts'
import { reportRoutes } from '../../src/apps/api/routes-reports.ts'
import { Metrics } from '../../src/observability/metrics.ts'
import { FIXTURE } from '../helpers/analytics-fixture.ts'

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')

async function setup(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'darooghe-reports-'))
  const app = Fastify()
  reportRoutes(app, { reportDir: dir })
  t.after(async () => {
    await app.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { app, dir }
}

test('before any report: 404 with a JSON error naming the fix', async t => {
  const { app } = await setup(t)
  for (const url of ['/reports/latest', '/api/reports/latest', '/reports/latest/charts/heatmap.png']) {
    const res = await app.inject({ url })
    assert.equal(res.statusCode, 404, url)
    assert.match(res.headers['content-type'] as string, /application\/json/)
    const body = res.json() as { error: string; message: string }
    assert.equal(body.error, 'not_found')
    assert.match(body.message, /darooghe analyze --out/)
  }
})

test('serves the latest report page, its JSON and its charts', async t => {
  const { app, dir } = await setup(t)
  await mkdir(join(dir, 'charts'))
  await writeFile(join(dir, 'report.html'), '<!doctype html><title>r1</title>')
  await writeFile(join(dir, 'report.json'), JSON.stringify({ run: { id: 'r1' } }))
  await writeFile(join(dir, 'charts', 'daily-volume.png'), PNG)

  const html = await app.inject({ url: '/reports/latest' })
  assert.equal(html.statusCode, 200)
  assert.match(html.headers['content-type'] as string, /text\/html/)
  assert.match(html.body, /<title>r1<\/title>/)

  const json = await app.inject({ url: '/api/reports/latest' })
  assert.equal(json.statusCode, 200)
  assert.deepEqual(json.json(), { run: { id: 'r1' } })

  const png = await app.inject({ url: '/reports/latest/charts/daily-volume.png' })
  assert.equal(png.statusCode, 200)
  assert.equal(png.headers['content-type'], 'image/png')
  assert.deepEqual(png.rawPayload, PNG)

  // a newer run replaces the files: the next request sees it
  await writeFile(join(dir, 'report.json'), JSON.stringify({ run: { id: 'r2' } }))
  assert.deepEqual((await app.inject({ url: '/api/reports/latest' })).json(), { run: { id: 'r2' } })
})

test('chart names cannot reach outside the charts folder', async t => {
  const { app, dir } = await setup(t)
  await writeFile(join(dir, 'secret.png'), PNG)
  for (const url of [
    '/reports/latest/charts/..%2Fsecret.png',
    '/reports/latest/charts/Heatmap.png',
    '/reports/latest/charts/missing.png'
  ]) {
    const res = await app.inject({ url })
    assert.equal(res.statusCode, 404, url)
  }
})

test('POST /api/reports analyses the stored history, stores the results and serves the new report', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'darooghe-run-report-'))
  const documents = new MemoryDocumentStore()
  // The transactions collection as the store sink writes it: the event plus a Date event_time.
  await documents.upsertMany(
    'transactions',
    FIXTURE.map(e => ({ ...e, _id: e.transaction_id, event_time: new Date(e.timestamp as string) }))
  )
  const app = buildApi({
    metrics: new Metrics(),
    reports: { dir, run: () => reportFromStore(documents, { dir, source: { kind: 'memory', name: 'test' } }) }
  })
  t.after(async () => {
    await app.close()
    await rm(dir, { recursive: true, force: true })
  })
  assert.equal((await app.inject({ url: '/api/reports/latest' })).statusCode, 404)
  const res = await app.inject({ method: 'POST', url: '/api/reports' })
  assert.equal(res.statusCode, 201, res.body)
  const body = res.json() as { run_id: string; rows: number; url: string }
  assert.equal(body.rows, FIXTURE.length)
  assert.equal(body.url, '/reports/latest')
  const latest = (await app.inject({ url: '/api/reports/latest' })).json() as {
    run: { id: string }
    results: { summary: { total_value: number } }
  }
  assert.equal(latest.run.id, body.run_id)
  assert.equal(latest.results.summary.total_value, 1_260_000)
  assert.match((await app.inject({ url: '/reports/latest' })).body, /<html/i)
  // The run is stored with its results, one document per report collection.
  assert.equal(await documents.count('analytics_summary'), 1)
})
