/**
 * The benchmark harness: `npm run bench [-- --quick] [--only detector,latency,max,stages,embedded,clients]`.
 * Runs the suites against the local Kafka and Redis (unique topics, groups and Redis keys per
 * run, all deleted at the end), writes benchmarks/results/<ISO date>.json and regenerates
 * docs/benchmarks.md. See benchmarks/README.md.
 *
 * Each group of suites runs in a fresh child process (`--child <group> --out <file>`), so one
 * suite's heap and JIT state cannot slow the next one down: latency measured after a
 * throughput run in the same process was several times worse.
 */
import { spawn } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as prettier from 'prettier'
import { parseBrokers } from '../src/adapters/kafka/index.ts'
import { kafkaBackend, memoryBackend, type LogBackend } from './harness/backend.ts'
import { type BenchEnv, conditions, openEnv } from './harness/env.ts'
import { renderMarkdown } from './lib/markdown.ts'
import type { Report } from './lib/types.ts'
import { clientsSuite } from './suites/clients.ts'
import { detectorSuite, prefill, type Prefilled } from './suites/detector.ts'
import { liveMaxSuite, liveSuite } from './suites/live.ts'
import { httpSuite } from './suites/http.ts'
import { stagesSuite } from './suites/stages.ts'
import { sinkSuite } from './suites/sink.ts'
import { analyzeSuite } from './suites/analyze.ts'

const SUITES = [
  'detector',
  'embedded',
  'stages',
  'latency',
  'max',
  'http',
  'clients',
  'sink',
  'analyze'
] as const
type Suite = (typeof SUITES)[number]
/** Each runs in its own child process. */
const GROUPS: readonly (readonly Suite[])[] = [
  ['detector'],
  ['embedded'],
  ['stages'],
  ['latency'],
  ['max'],
  ['http'],
  // Spawns one more process per client (benchmarks/harness/client-child.ts).
  ['clients'],
  ['sink'],
  ['analyze']
]

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    brokers: { type: 'string', default: '127.0.0.1:9092' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    mongo: { type: 'string', default: 'mongodb://127.0.0.1:27017' },
    events: { type: 'string' },
    'no-doc': { type: 'boolean', default: false },
    child: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (values.help) {
  console.log(
    `usage: npm run bench -- [--quick] [--only ${SUITES.join(',')}] [--events N] [--brokers h:p] [--redis url] [--mongo url] [--no-doc]`
  )
  process.exit(0)
}
const only = (values.only ?? SUITES.join(',')).split(',').map(s => s.trim())
for (const s of only) {
  if (!(SUITES as readonly string[]).includes(s)) {
    console.error(`bench: unknown suite '${s}' (suites: ${SUITES.join(', ')})`)
    process.exit(2)
  }
}
const quick = values.quick
const plan = quick
  ? {
      events: 100_000,
      runs: 1,
      workerRuns: 1,
      embeddedRuns: 1,
      clientRuns: 1,
      live: { rates: [1_000, 5_000], windowMs: 10_000, warmupMs: 5_000 },
      liveMax: { rates: [10_000, 20_000], windowMs: 10_000, warmupMs: 5_000 },
      http: { rates: [500, 2_000], windowMs: 10_000, warmupMs: 5_000 },
      stageEvents: 30_000,
      sinkEvents: 20_000,
      analyzeEvents: 200_000
    }
  : {
      events: 1_000_000,
      runs: 3,
      // Fewer runs where one run is long, so that the full run stays under 20 minutes.
      workerRuns: 2,
      embeddedRuns: 1,
      clientRuns: 1,
      // The rates of issue 16, 60 s each after a 15 s warm-up; 20,000/s is in suite 2.
      live: { rates: [1_000, 5_000, 10_000, 20_000], windowMs: 60_000, warmupMs: 15_000 },
      liveMax: { rates: [30_000, 40_000], windowMs: 60_000, warmupMs: 15_000 },
      http: { rates: [500, 2_000], windowMs: 60_000, warmupMs: 10_000 },
      stageEvents: 200_000,
      // mongo-java-server (H2) writes a few thousand documents per second: 1M would take ten minutes.
      sinkEvents: 100_000,
      analyzeEvents: 1_000_000
    }
if (values.events !== undefined) plan.events = Number(values.events)
if (!Number.isSafeInteger(plan.events) || plan.events < 20_000) {
  console.error(`bench: --events must be an integer >= 20000 (got '${values.events}')`)
  process.exit(2)
}
const log = (line: string): void => console.log(line)

/** The services each suite talks to: checked before the first suite, not found missing an hour in. */
const NEEDS: Record<Suite, readonly ('kafka' | 'redis' | 'mongo')[]> = {
  detector: ['kafka', 'redis'],
  embedded: [],
  stages: ['kafka', 'redis'],
  latency: ['kafka', 'redis'],
  max: ['kafka', 'redis'],
  http: ['kafka', 'redis'],
  clients: ['kafka'],
  sink: ['mongo'],
  analyze: []
}

/** host:port of a service address (`h:p`, or a URL with a host and port). */
function endpoint(address: string, defaultPort: number): { host: string; port: number } {
  if (!address.includes('://')) {
    const [host, port] = address.split(':')
    return { host: host!, port: Number(port ?? defaultPort) }
  }
  const u = new URL(address)
  return { host: u.hostname, port: Number(u.port || defaultPort) }
}

function reachable(host: string, port: number, timeoutMs = 3_000): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect({ host, port })
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

async function preflight(suites: readonly Suite[]): Promise<void> {
  const services = {
    kafka: { flag: '--brokers', ...endpoint(parseBrokers(values.brokers)[0]!, 9092) },
    redis: { flag: '--redis', ...endpoint(values.redis, 6379) },
    mongo: { flag: '--mongo', ...endpoint(values.mongo, 27017) }
  }
  const needed = new Set(suites.flatMap(s => NEEDS[s]))
  for (const name of needed) {
    const { host, port, flag } = services[name]
    if (!(await reachable(host, port))) {
      console.error(
        `bench: ${name} is not reachable at ${host}:${port} (needed by ${suites.filter(s => NEEDS[s].includes(name)).join(', ')}): start it (bash scripts/services.sh up) or pass ${flag}`
      )
      process.exit(2)
    }
  }
}

type GroupResult = Omit<Report, 'conditions' | 'suites' | 'notes'> & { notes: string[]; loads: string[] }

async function prefillLogged(env: BenchEnv, backend: LogBackend): Promise<Prefilled> {
  log(`pre-filling ${plan.events.toLocaleString('en-US')} events on ${backend.name}…`)
  const input = await prefill(env, backend, plan.events)
  const rate = Math.round(input.fill.events / input.seconds).toLocaleString('en-US')
  log(`  done in ${input.seconds.toFixed(1)} s (${rate} events/s)`)
  return input
}

/** Runs the selected suites of one group in this process. */
async function runGroup(suites: readonly Suite[]): Promise<GroupResult> {
  const env = openEnv({ brokers: parseBrokers(values.brokers), redisUrl: values.redis, quick })
  const r: { -readonly [K in keyof GroupResult]: GroupResult[K] } = { notes: [], loads: [] }
  const suite = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const before = loadavg()[0]!
    const result = await fn()
    r.loads.push(`${name} ${before.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`)
    return result
  }
  try {
    if (suites.includes('detector')) {
      const kafka = kafkaBackend(env)
      const input = await prefillLogged(env, kafka)
      log(`1. detector throughput (Kafka, Redis state), ${plan.runs} run(s)`)
      r.detector = await suite('detector', () =>
        detectorSuite(env, kafka, input, plan.runs, 'redis', log, plan.workerRuns)
      )
    }
    if (suites.includes('embedded')) {
      const memory = memoryBackend()
      const input = await prefillLogged(env, memory)
      log(`6. embedded mode (MemoryLog, memory state), ${plan.embeddedRuns} run(s)`)
      r.embedded = await suite('embedded', () =>
        detectorSuite(env, memory, input, plan.embeddedRuns, 'memory', log, 0)
      )
    }
    if (suites.includes('stages')) {
      log('4. stages')
      r.stages = await suite('stages', () => stagesSuite(env, plan.stageEvents, log))
    }
    if (suites.includes('latency')) {
      log('2. live latency: the Kafka floor and the detector, each in processes of their own')
      r.live = await suite('latency', () => liveSuite(env, plan.live, log))
    }
    if (suites.includes('max')) {
      log('3. the highest rate the detector holds')
      r.liveMax = await suite('max', () => liveMaxSuite(env, plan.liveMax, log))
    }
    if (suites.includes('http')) {
      log('9. POST /v1/decisions: serve, detect and the HTTP load in processes of their own')
      r.http = await suite('http', () => httpSuite(env, plan.http, log))
    }
    if (suites.includes('clients')) {
      log(`5. Kafka client comparison, ${plan.clientRuns} run(s) per client`)
      r.clients = await suite('clients', () => clientsSuite(env, plan.events, plan.clientRuns, log))
    }
    if (suites.includes('sink')) {
      log(`7. MongoDB sink, ${plan.sinkEvents.toLocaleString('en-US')} events`)
      r.sink = await suite('sink', () => sinkSuite({ events: plan.sinkEvents, mongoUrl: values.mongo }))
      log(`  ${Math.round(r.sink.eventsPerSecond).toLocaleString('en-US')} events/s`)
    }
    if (suites.includes('analyze')) {
      log(`8. batch analytics, ${plan.analyzeEvents.toLocaleString('en-US')} events`)
      r.analyze = await suite('analyze', () => analyzeSuite({ events: plan.analyzeEvents }))
      log(`  ${r.analyze.seconds.toFixed(1)} s`)
    }
  } finally {
    await env.cleanup().catch(e => console.error(`bench: cleanup failed: ${String(e)}`))
  }
  return r
}

/** Runs a group in a fresh child process and reads back its partial report. */
async function runChild(suites: readonly Suite[]): Promise<GroupResult> {
  const out = join(tmpdir(), `darooghe-bench-${process.pid}-${suites.join('-')}.json`)
  // The children run with the parent's V8 flags (the young-generation size the report states).
  const v8Flags = process.execArgv.filter(a => a.startsWith('--max-'))
  const args = [...v8Flags, '--import', 'tsx', 'benchmarks/run.ts', '--child', suites.join(','), '--out', out]
  args.push('--brokers', values.brokers, '--redis', values.redis, '--events', String(plan.events))
  args.push('--mongo', values.mongo)
  if (quick) args.push('--quick')
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' })
    child.on('error', reject)
    child.on('exit', resolve)
  })
  if (code !== 0) throw new Error(`bench: suites ${suites.join(', ')} failed (exit code ${code})`)
  const partial = JSON.parse(await readFile(out, 'utf8')) as GroupResult
  await rm(out, { force: true })
  return partial
}

if (values.child !== undefined) {
  const result = await runGroup(values.child.split(',') as Suite[])
  await writeFile(values.out ?? '/dev/stdout', JSON.stringify(result))
  process.exit(0)
}

await preflight(only as Suite[])
const t0 = Date.now()
const report: { -readonly [K in keyof Report]: Report[K] } = {
  conditions: conditions(quick),
  suites: only,
  notes: []
}
const loads: string[] = []
const notes: string[] = []
// A group that fails is reported and the others still run: one broken suite does not throw
// away a quarter of an hour of measurements.
const failed: string[] = []
for (const group of GROUPS) {
  const suites = group.filter(s => only.includes(s))
  if (suites.length === 0) continue
  log(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${suites.join(', ')}`)
  try {
    const { loads: l, notes: n, ...results } = await runChild(suites)
    Object.assign(report, results)
    loads.push(...l)
    notes.push(...n)
  } catch (error) {
    console.error(String(error instanceof Error ? error.message : error))
    failed.push(...suites)
  }
}
if (failed.length > 0) {
  report.suites = only.filter(s => !failed.includes(s))
  notes.push(`Failed, not in this report: ${failed.join(', ')} (see the run's output).`)
}
report.notes = [
  ...notes,
  `1-minute load average of the machine (${report.conditions.cores} cores) before → after each suite: ${loads.join('; ')}. A load above the core count means other work competed with the benchmark.`,
  'Everything (Kafka broker, Redis, the detector, the paced producer and the readers) runs on the same machine and shares its cores. In the latency suites the paced producer, the system under test (`darooghe detect`, or the pass-through floor) and the reader are three processes. Each group of suites runs in a fresh Node process.'
]
const file = `benchmarks/results/${report.conditions.date.replaceAll(':', '-')}.json`
await mkdir('benchmarks/results', { recursive: true })
await writeFile(file, JSON.stringify(report, null, 2) + '\n')
if (!values['no-doc']) {
  // Formatted like the rest of the repository, so `npm run lint` stays clean after a run.
  const doc = 'docs/benchmarks.md'
  const options = { ...(await prettier.resolveConfig(doc)), filepath: doc }
  await writeFile(doc, await prettier.format(renderMarkdown(report), options))
}
log(
  `[${((Date.now() - t0) / 1000).toFixed(0)} s] wrote ${file}${values['no-doc'] ? '' : ' and docs/benchmarks.md'}`
)
if (failed.length > 0) {
  console.error(`bench: ${failed.join(', ')} failed; the report holds the other suites`)
  process.exit(1)
}
