/**
 * Target `http`: every route that takes a body (POST /alerts, POST /api/reports, and the other
 * methods on /alerts), through `app.inject()`, with an SSE client on /alerts/stream over a real
 * socket so that each stored alert is also serialized to a live stream. Every answer must be a
 * 2xx or 4xx with a JSON body, in bounded time; afterwards the store, the stats and the stream
 * must still answer and agree with the 201s given.
 */
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { buildApi } from '../../src/apps/api/index.ts'
import type { Random } from '../../src/domain/random.ts'
import { Metrics } from '../../src/observability/metrics.ts'
import { alertCase, caseRandom } from './cases.ts'
import { finding, type Origin } from './checks.ts'
import { describeError } from './drive.ts'
import type { Finding } from './report.ts'
import type { BatchEnv, BatchResult, BatchSpec } from './target.ts'

const TOKEN = 'fz-token'
const TIMEOUT_MS = 10_000
const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=utf-16',
  'application/json;;',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '',
  'application/vnd.api+json',
  'application/json, text/plain'
]
const AUTH = [
  `Bearer ${TOKEN}`,
  'Bearer wrong',
  'Bearer',
  `bearer   ${TOKEN}  `,
  `Basic ${TOKEN}`,
  `Bearer ${'x'.repeat(10_000)}`,
  `Bearer ${TOKEN} extra`
]

type Inject = InjectOptions & { method: 'POST' | 'PUT' | 'PATCH' | 'DELETE' }

function requestFor(
  r: Random,
  payload: Buffer | null
): { opts: Inject; secured: boolean; route: string; storing: boolean } {
  const headers: Record<string, string> = {}
  const roll = r.next()
  let method: Inject['method'] = 'POST'
  let url = '/alerts'
  if (roll < 0.04) url = '/api/reports'
  else if (roll < 0.08) method = r.pick(['PUT', 'PATCH', 'DELETE'] as const)
  else if (roll < 0.11) url = `/alerts?limit=${r.pick(['abc', '0', '-1', '99999', '%00', '1&limit=2'])}`
  else if (roll < 0.13) url = '/alerts/stream'
  if (r.chance(0.8)) headers['content-type'] = 'application/json'
  else {
    const ct = r.pick(CONTENT_TYPES)
    if (ct !== '') headers['content-type'] = ct
  }
  const secured = r.chance(0.1)
  if (secured && r.chance(0.9)) headers.authorization = r.pick(AUTH)
  const opts: Inject = { method, url, headers }
  if (payload !== null) opts.payload = payload
  const storing = method === 'POST' && (url === '/alerts' || url.startsWith('/alerts?'))
  return { opts, secured, route: `${method} ${url}`, storing }
}

interface Sse {
  frames(): string[]
  close(): void
}

/** A client of GET /alerts/stream over a real socket; its frames as they arrived. */
async function sseClient(port: number): Promise<Sse> {
  let text = ''
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/alerts/stream' }, res => {
      res.setEncoding('utf8')
      res.on('data', (d: string) => (text += d))
      res.on('error', () => {})
      resolve({ frames: () => text.split('\n\n').slice(0, -1), close: () => req.destroy() })
    })
    req.on('error', reject)
    req.end()
  })
}

function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const t = new Promise<'timeout'>(resolve => (timer = setTimeout(() => resolve('timeout'), ms)))
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

function api(token?: string): FastifyInstance {
  return buildApi({
    metrics: new Metrics({ defaultMetrics: false }),
    heartbeatMs: 3_600_000,
    statsIntervalMs: 3_600_000,
    reports: { dir: '/nonexistent/darooghe-fuzz', run: async () => ({ id: 'fz', rows: 0 }) },
    ...(token === undefined ? {} : { alertToken: token })
  })
}

export async function httpBatch(spec: BatchSpec, env: BatchEnv): Promise<BatchResult> {
  const c = { target: 'http' as const, seed: spec.seed, batch: spec.range }
  const open = api()
  const secured = api(TOKEN)
  const findings: Finding[] = []
  let requests = 0
  let stored = 0
  const tally: Record<string, number> = {}
  await open.listen({ host: '127.0.0.1', port: 0 })
  const sse = await sseClient((open.server.address() as AddressInfo).port)
  try {
    for (const k of spec.cases) {
      const h = alertCase(spec.seed, k, env.alerts)
      const r = caseRandom(spec.seed, 'http', k)
      r.next() // a stream of its own, after what alertCase drew
      for (const payload of h.payloads) {
        const origin: Origin = { case: k, mutations: h.mutations, payload }
        const { opts, secured: toSecured, route, storing } = requestFor(r, payload)
        requests++
        const app = toSecured ? secured : open
        let res
        try {
          res = await within(app.inject(opts), TIMEOUT_MS)
        } catch (error) {
          findings.push(finding(c, origin, 'http-threw', `${route}: ${describeError(error)}`))
          continue
        }
        if (res === 'timeout') {
          findings.push(finding(c, origin, 'http-hang', `${route}: no answer in ${TIMEOUT_MS} ms`))
          continue
        }
        tally[res.statusCode] = (tally[res.statusCode] ?? 0) + 1
        const problem = answerProblem(res.statusCode, String(res.headers['content-type'] ?? ''), res.body)
        if (problem)
          findings.push(
            finding(
              c,
              origin,
              res.statusCode >= 500 ? 'http-5xx' : 'http-answer',
              `${route} ${opts.headers?.['content-type'] ?? '(no type)'}: ${problem}`
            )
          )
        if (res.statusCode === 201 && app === open && storing) stored++
      }
    }
    findings.push(...(await afterwards(open, sse, stored, c)))
  } finally {
    sse.close()
    for (const app of [open, secured]) {
      if ((await within(app.close(), TIMEOUT_MS)) === 'timeout')
        findings.push(finding(c, null, 'http-hang', 'close() did not finish'))
    }
  }
  return { findings, records: requests, hostile: requests, threw: false, tally }
}

function answerProblem(status: number, type: string, body: string): string | null {
  if (!(status >= 200 && status < 500)) return `status ${status}: ${body.slice(0, 160)}`
  if (!type.startsWith('application/json')) return `status ${status} with content-type '${type}'`
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return `status ${status}, body not JSON: ${body.slice(0, 120)}`
  }
  if (status >= 400) {
    const e = json as { error?: unknown; message?: unknown }
    if (typeof e?.error !== 'string' || typeof e.message !== 'string')
      return `status ${status} without {error, message}: ${body.slice(0, 120)}`
  }
  return null
}

/** The store, the stats and the stream still answer, and agree with the 201s given. */
async function afterwards(
  app: FastifyInstance,
  sse: Sse,
  stored: number,
  c: { target: 'http'; seed: string; batch: readonly [number, number] }
): Promise<Finding[]> {
  const out: Finding[] = []
  const page = await app.inject({ method: 'GET', url: '/alerts?limit=500' })
  const problem = answerProblem(page.statusCode, String(page.headers['content-type'] ?? ''), page.body)
  if (problem || page.statusCode !== 200)
    out.push(finding(c, null, 'http-store', `GET /alerts after the batch: ${problem ?? page.statusCode}`))
  else {
    const n = (page.json() as { alerts: unknown[] }).alerts.length
    if (n !== Math.min(stored, 500))
      out.push(finding(c, null, 'http-store', `GET /alerts lists ${n} alerts after ${stored} were stored`))
  }
  const stats = await app.inject({ method: 'GET', url: '/api/stats' })
  if (stats.statusCode !== 200)
    out.push(
      finding(c, null, 'http-store', `GET /api/stats: ${stats.statusCode} ${stats.body.slice(0, 120)}`)
    )
  else if ((stats.json() as { api: { alerts_stored: number } }).api.alerts_stored !== stored)
    out.push(
      finding(c, null, 'http-store', `stats count ${stats.body.slice(0, 120)} stored; 201s: ${stored}`)
    )
  // The alert frames arrive over the socket; wait for them (bounded), then read them all.
  const alerts = (): string[] => sse.frames().filter(f => f.includes('event: alert'))
  const deadline = Date.now() + TIMEOUT_MS
  while (alerts().length < stored && Date.now() < deadline)
    await new Promise(resolve => setImmediate(resolve))
  if (alerts().length !== stored)
    out.push(
      finding(c, null, 'sse', `${alerts().length} alert frames on the stream for ${stored} stored alerts`)
    )
  for (const f of sse.frames()) {
    const data = f.split('\n').find(l => l.startsWith('data: '))
    if (data === undefined) continue
    try {
      JSON.parse(data.slice(6))
    } catch {
      out.push(finding(c, null, 'sse', `a frame's data is not JSON: ${data.slice(0, 120)}`))
    }
  }
  return out
}
