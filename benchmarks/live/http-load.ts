/**
 * HTTP load on `POST /v1/decisions`, in a process of its own: unique valid generator events at a
 * fixed rate for a fixed time, then one JSON line with the status counts and the latency.
 *
 *   node --import tsx benchmarks/live/http-load.ts --url http://127.0.0.1:8080 --rate 2000 --duration 60s
 *     [--warmup 5s] [--customers 100000] [--token SECRET] [--connections 256] [--engine paced|autocannon]
 *
 * `paced` (default): request *i* is due at `start + i / rate` and sent then, open loop, over
 * keep-alive connections (up to --connections); its latency is counted from when it was due,
 * so a client or server stall is charged to every request behind it (no coordinated omission).
 * `autocannon`: autocannon's own rate limit (`overallRate`), for comparison. It sends each
 * connection's quota of the second back to back from the start of every second and then waits,
 * so its arrivals come in bursts at several times the nominal rate.
 * Requests in the warm-up are sent but not counted. Each event's `timestamp` is its send time.
 */
import { Agent, request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { createGenerator } from '../../src/apps/generator/index.ts'
import { parseDuration } from '../../src/config/units.ts'
import { latencyHistogram, percentilesMs, recordLatencyMs } from '../lib/stats.ts'

interface Args {
  url: string
  rate: number
  durationMs: number
  warmupMs: number
  customers: number
  connections: number
  token: string | undefined
  engine: 'paced' | 'autocannon'
}

function parseArgs(argv: readonly string[]): Args {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!
    if (!k.startsWith('--') || argv[i + 1] === undefined) throw new Error(`usage: ${k} needs a value`)
    flags.set(k.slice(2), argv[i + 1]!)
  }
  const num = (k: string, d: number): number => {
    const v = Number(flags.get(k) ?? d)
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`--${k} must be a positive number`)
    return v
  }
  const engine = flags.get('engine') ?? 'paced'
  if (engine !== 'paced' && engine !== 'autocannon') throw new Error('--engine is paced or autocannon')
  return {
    url: flags.get('url') ?? 'http://127.0.0.1:8080',
    rate: num('rate', 500),
    durationMs: parseDuration(flags.get('duration') ?? '30s', '--duration'),
    warmupMs: flags.has('warmup') ? parseDuration(flags.get('warmup')!, '--warmup') : 5_000,
    customers: num('customers', 100_000),
    connections: num('connections', 256),
    token: flags.get('token'),
    engine
  }
}

/** Valid events (no injected fraud or invalid ones), built before the clock starts. */
function events(a: Args, count: number): Record<string, unknown>[] {
  const gen = createGenerator({
    start: Date.now(),
    seed: `http-load-${Date.now()}`,
    customers: a.customers,
    rate: a.rate,
    count,
    invalidRate: 0,
    fraudRate: 0
  })
  const out: Record<string, unknown>[] = []
  for (let r = gen.next(); r !== undefined; r = gen.next())
    if (r.event !== undefined) out.push({ ...r.event })
  return out
}

const run = `load-${Date.now().toString(36)}`
/** The stream's `processing_latency_ms` of a decision (the last one in the text is the stream's). */
const PROCESSING_LATENCY = /"processing_latency_ms":(\d+)[^"]*"processed_at"/

/** The event of request i, stamped now, with an id no other run uses. */
function body(e: Record<string, unknown>, i: number): string {
  return JSON.stringify({ ...e, transaction_id: `${run}-${i}`, timestamp: new Date().toISOString() })
}

async function paced(a: Args, list: Record<string, unknown>[]): Promise<Record<string, unknown>> {
  const target = new URL('/v1/decisions', a.url)
  const agent = new Agent({ keepAlive: true, maxSockets: a.connections })
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (a.token) headers.authorization = `Bearer ${a.token}`
  const fromDue = latencyHistogram()
  const service = latencyHistogram()
  const processing = latencyHistogram()
  const statuses: Record<string, number> = {}
  let errors = 0
  let done = 0
  const total = list.length
  const warm = Math.round((a.rate * a.warmupMs) / 1000)
  const start = performance.now() + 50
  const due = (i: number): number => start + (i * 1000) / a.rate
  let finished!: () => void
  const all = new Promise<void>(resolve => (finished = resolve))
  const settle = (i: number, sentAt: number, status: string): void => {
    const now = performance.now()
    if (i >= warm) {
      statuses[status] = (statuses[status] ?? 0) + 1
      recordLatencyMs(fromDue, now - due(i))
      recordLatencyMs(service, now - sentAt)
    }
    if (++done === total) finished()
  }
  let behindMax = 0
  for (let i = 0; i < total;) {
    const now = performance.now()
    if (due(i) > now) {
      await sleep(Math.min(1, due(i) - now))
      continue
    }
    behindMax = Math.max(behindMax, now - due(i))
    // Everything due by now goes out in this turn.
    for (; i < total && due(i) <= now; i++) {
      const n = i
      const payload = body(list[n]!, n)
      const sentAt = performance.now()
      const req = request(target, { method: 'POST', agent, headers }, res => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (text += d))
        res.on('end', () => {
          const m = PROCESSING_LATENCY.exec(text)
          if (m !== null && n >= warm) recordLatencyMs(processing, Number(m[1]))
          settle(n, sentAt, String(res.statusCode))
        })
      })
      req.on('error', () => {
        if (n >= warm) errors++
        settle(n, sentAt, 'error')
      })
      req.end(payload)
    }
  }
  await all
  agent.destroy()
  const counted = total - warm
  return {
    sent: counted,
    statuses,
    errors,
    latencyFromDueMs: percentilesMs(fromDue),
    serviceTimeMs: percentilesMs(service),
    // The decision's own field: from the request reaching the API to the detector deciding.
    processingLatencyMs: percentilesMs(processing),
    senderBehindMaxMs: Math.round(behindMax * 10) / 10
  }
}

async function withAutocannon(a: Args, list: Record<string, unknown>[]): Promise<Record<string, unknown>> {
  let i = 0
  const result = await autocannon({
    url: new URL('/v1/decisions', a.url).toString(),
    connections: Math.min(a.connections, a.rate),
    overallRate: a.rate,
    duration: Math.round((a.durationMs + a.warmupMs) / 1000),
    requests: [
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(a.token ? { authorization: `Bearer ${a.token}` } : {})
        },
        setupRequest: req => ({ ...req, body: body(list[i % list.length]!, i++) })
      }
    ]
  })
  return {
    sent: result.requests.sent,
    statuses: { '2xx': result['2xx'], non2xx: result.non2xx },
    errors: result.errors + result.timeouts,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max
    },
    note: 'autocannon counts the warm-up too, and its rate limit sends in bursts at the start of each second'
  }
}

const a = parseArgs(process.argv.slice(2))
const list = events(a, Math.round((a.rate * (a.durationMs + a.warmupMs)) / 1000))
// The population built above is garbage now: collect it before the clock starts, when exposed.
;(globalThis as { gc?: () => void }).gc?.()
const startedAt = new Date().toISOString()
const result = a.engine === 'paced' ? await paced(a, list) : await withAutocannon(a, list)
process.stdout.write(
  `${JSON.stringify({
    url: a.url,
    engine: a.engine,
    rate: a.rate,
    durationS: a.durationMs / 1000,
    warmupS: a.warmupMs / 1000,
    customers: a.customers,
    startedAt,
    ...result
  })}\n`
)
