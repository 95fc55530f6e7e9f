import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { buildApi } from '../../src/apps/api/index.ts'
import { Metrics } from '../../src/observability/metrics.ts'

interface SseEvent {
  event: string
  data: string
  id?: string
}

type Reader = ReadableStreamDefaultReader<Uint8Array> & { buffer?: string }

/**
 * Reads server-sent events until `until` accepts one (or the stream ends). A reader, not
 * `for await`, so that stopping does not cancel the stream and it can be read on.
 */
async function readEvents(
  reader: Reader,
  until: (e: SseEvent, all: SseEvent[]) => boolean,
  onEvent: (e: SseEvent) => void = () => {}
): Promise<SseEvent[]> {
  const all: SseEvent[] = []
  const decoder = new TextDecoder()
  let buffer = reader.buffer ?? ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    buffer += decoder.decode(value, { stream: true })
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const e: SseEvent = { event: 'message', data: '' }
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) e.event = 'comment'
        else if (line.startsWith('event: ')) e.event = line.slice(7)
        else if (line.startsWith('data: ')) e.data += line.slice(6)
        else if (line.startsWith('id: ')) e.id = line.slice(4)
      }
      if (block.startsWith('retry:')) continue
      all.push(e)
      onEvent(e)
      if (until(e, all)) {
        reader.buffer = buffer
        return all
      }
    }
  }
  return all
}

const alert = {
  alert_id: 'alert-tx-sse',
  created_at: '2026-01-01T12:00:00.000Z',
  severity: 'critical',
  customer_id: 'cust-1',
  transaction_id: 'tx-sse',
  risk_score: 97,
  rules_fired: ['velocity'],
  trace: { velocity: { fired: true, count: 6 } },
  decision: 'fraud'
}

test('GET /alerts/stream pushes stats, heartbeats and new alerts, and forgets a client that leaves', async t => {
  const app = buildApi({
    metrics: new Metrics({ defaultMetrics: false }),
    stats: () => ({ events_total: 5 }),
    heartbeatMs: 30,
    statsIntervalMs: 40
  })
  t.after(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const abort = new AbortController()
  t.after(() => abort.abort())
  const res = await fetch(`${base}/alerts/stream`, { signal: abort.signal })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
  assert.ok(res.body)

  let posted = false
  const reader: Reader = res.body.getReader()
  const events = await readEvents(
    reader,
    e => e.event === 'alert',
    e => {
      // Post once the stream is known to be live (its first stats event arrived).
      if (e.event === 'stats' && !posted) {
        posted = true
        void fetch(`${base}/alerts`, {
          method: 'POST',
          // Connection: close, so that the server's close() need not wait for undici's keep-alive.
          headers: { 'content-type': 'application/json', connection: 'close' },
          body: JSON.stringify(alert)
        }).then(r => r.text())
      }
    }
  )
  const stats = events.find(e => e.event === 'stats')
  assert.ok(stats)
  assert.equal(JSON.parse(stats.data).events_total, 5)
  assert.equal(JSON.parse(stats.data).api.stream_clients, 1)
  const got = events.at(-1)!
  assert.equal(got.event, 'alert')
  assert.equal(got.id, 'alert-tx-sse')
  assert.deepEqual(JSON.parse(got.data), alert)

  // Heartbeats and periodic stats keep coming.
  const more = await readEvents(reader, (_e, all) => all.some(x => x.event === 'comment') && all.length >= 3)
  assert.ok(more.some(e => e.event === 'comment'))
  abort.abort()

  // The server notices the disconnect.
  const deadline = Date.now() + 2000
  for (;;) {
    const s = (await app.inject({ method: 'GET', url: '/api/stats' })).json()
    if (s.api.stream_clients === 0) break
    assert.ok(Date.now() < deadline, 'client still registered after disconnect')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
})

test('close() ends open streams instead of hanging', async () => {
  const app = buildApi({ metrics: new Metrics({ defaultMetrics: false }) })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as AddressInfo).port
  const res = await fetch(`http://127.0.0.1:${port}/alerts/stream`)
  assert.ok(res.body)
  const reading = readEvents(res.body.getReader(), () => false)
  await app.close()
  // The body ends (rather than the test timing out).
  const events = await reading
  assert.ok(events.every(e => e.event === 'stats' || e.event === 'comment'))
})
