/**
 * Chaos: the whole pipeline (produce → detect → dispatch, windows, store, serve's live view),
 * each command its own process, on private Kafka, Redis and MongoDB, under a paced load, while
 * the services are really stopped and started and the network is cut and slowed. Every command
 * must keep running, resume by itself, lose nothing and decide nothing twice differently.
 *
 *   node --import tsx --test test/chaos/outages.test.ts            # bounded (CI)
 *   DAROOGHE_CHAOS_LONG=1 node --import tsx --test test/chaos/...   # `npm run chaos`: longer
 *                                                                    # outages, more rounds
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  checkDetect,
  checkDispatch,
  checkProduce,
  checkServe,
  checkStore,
  checkWindows,
  readOutputs,
  type CheckResult
} from '../helpers/chaos-checks.ts'
import { ChaosPipeline, COMMANDS, type CommandName } from '../helpers/chaos-pipeline.ts'
import { PrivateServices, type Service } from '../helpers/private-services.ts'
import { waitFor } from '../helpers/services.ts'

const LONG = process.env.DAROOGHE_CHAOS_LONG === '1'
/** How long each service stays down (a rolling restart of Kafka is about this). */
const OUTAGE_MS = Number(process.env.DAROOGHE_CHAOS_OUTAGE_MS ?? (LONG ? 30_000 : 8_000))
const ROUNDS = Number(process.env.DAROOGHE_CHAOS_ROUNDS ?? (LONG ? 3 : 1))
/** Events per second; long runs last about ten minutes, so fewer (MongoDB's h2 file grows fast). */
const RATE = Number(process.env.DAROOGHE_CHAOS_RATE ?? (LONG ? 150 : 300))
/**
 * A stalled link (every byte held, no connection closed) for longer than the clients' 30 s
 * request timeout: long runs only, it costs a minute.
 */
const STALL_MS = Number(process.env.DAROOGHE_CHAOS_STALL_MS ?? (LONG ? 45_000 : 0))
/** In every command's Redis URL: it must appear in no log line and no /health. */
const SECRET = 'chaos-s3cret-pw'
/** A command must make progress again within this long of its dependency coming back. */
const RECOVERY_LIMIT_MS = LONG ? 180_000 : 90_000
/** Every command must have committed the end of its inputs this long after the load stopped. */
const DRAIN_LIMIT_MS = LONG ? 600_000 : 120_000

type Probed = Exclude<CommandName, 'produce'>
const PROBED: readonly Probed[] = ['detect', 'dispatch', 'windows', 'store', 'serve']

interface FaultReport {
  readonly fault: string
  readonly round: number
  readonly outageMs: number
  /** From the dependency answering again to the command's progress moving again. */
  readonly recoverMs: Partial<Record<CommandName, number>>
  /** What each command's /health named down while the fault lasted. */
  readonly degraded: Partial<Record<Probed, string[]>>
}

const services = new PrivateServices()
let pipeline: ChaosPipeline
const reports: FaultReport[] = []
const healthBodies: string[] = []

/**
 * Applies a fault for OUTAGE_MS (the fault's length, not a guess at timing), restores it, and
 * polls until every command progresses again; meanwhile polls /health of every command.
 */
async function fault(
  t: TestContext,
  name: string,
  round: number,
  apply: () => Promise<void>,
  restore: () => Promise<void>,
  expectDegraded: Partial<Record<Probed, readonly string[]>>
): Promise<FaultReport> {
  for (const c of COMMANDS) pipeline.assertAlive(c)
  const degraded: Partial<Record<Probed, Set<string>>> = {}
  let polling = true
  const poller = (async () => {
    while (polling) {
      await Promise.all(
        PROBED.map(async c => {
          try {
            const h = await pipeline.health(c)
            if (h.status === 'degraded') {
              const seen = (degraded[c] ??= new Set())
              for (const d of h.down) seen.add(d)
              if (healthBodies.length < 200) healthBodies.push(h.text)
            }
          } catch {
            // a command busy or restarting its API: polled again
          }
        })
      )
      await sleep(500)
    }
  })()
  const started = Date.now()
  await apply()
  await sleep(OUTAGE_MS)
  await restore()
  const upAt = Date.now()
  const outageMs = upAt - started
  const base = await pipeline.progress()
  const recoverMs: Partial<Record<CommandName, number>> = {}
  try {
    await waitFor(
      async () => {
        for (const c of COMMANDS) pipeline.assertAlive(c)
        const now = await pipeline.progress()
        for (const c of COMMANDS) {
          if (recoverMs[c] !== undefined) continue
          const b = base[c]
          const v = now[c]
          if (v !== null && (b === null || v > b)) recoverMs[c] = Date.now() - upAt
        }
        return COMMANDS.every(c => recoverMs[c] !== undefined)
      },
      { what: `every command to progress after ${name}`, timeoutMs: RECOVERY_LIMIT_MS, intervalMs: 250 }
    )
    // A moment more of /health polling: a dependency reported down only by a late retry shows too.
    await waitFor(() => PROBED.every(c => namedOneOf(degraded[c], expectDegraded[c])), {
      what: `/health to have named the dependency during ${name}`,
      timeoutMs: 5_000,
      intervalMs: 250
    }).catch(() => {})
  } finally {
    polling = false
    await poller
  }
  const report: FaultReport = {
    fault: name,
    round,
    outageMs,
    recoverMs,
    degraded: Object.fromEntries(Object.entries(degraded).map(([c, s]) => [c, [...s].sort()]))
  }
  reports.push(report)
  t.diagnostic(
    `${name} #${round}: down ${outageMs} ms; recovered ${JSON.stringify(recoverMs)}; /health degraded ${JSON.stringify(report.degraded)}`
  )
  for (const c of COMMANDS) pipeline.assertAlive(c)
  for (const [c, deps] of Object.entries(expectDegraded) as [Probed, string[]][]) {
    assert.ok(
      namedOneOf(degraded[c], deps),
      `${c}'s /health named ${deps.join(' or ')} down during ${name} (saw ${JSON.stringify(report.degraded)})`
    )
  }
  return report
}

/** Whether /health named one of `deps` (nothing expected: true). */
function namedOneOf(seen: Set<string> | undefined, deps: readonly string[] | undefined): boolean {
  return deps === undefined || deps.some(d => seen?.has(d) === true)
}

/** Seconds since the suite started, for the report of its phases. */
const phases: string[] = []
const suiteStart = Date.now()
const phase = (what: string): void =>
  void phases.push(`${((Date.now() - suiteStart) / 1000).toFixed(1)}s ${what}`)

const down = (s: Service) => () => services.stop(s)
const up = (s: Service) => () => services.restart(s)

describe('chaos: outages never stop a command', { concurrency: false }, () => {
  before(async () => {
    phase('start services')
    await services.start()
    phase('start the pipeline')
    pipeline = new ChaosPipeline(services, { rate: RATE, secret: SECRET })
    await pipeline.start()
    phase('warm up')
    // Warm: the detector has decided some events and the store stored some.
    await waitFor(
      async () =>
        ((await pipeline.committed('detect')) ?? 0) > RATE && ((await pipeline.committed('store')) ?? 0) > 0,
      {
        what: 'the pipeline to run',
        timeoutMs: 120_000,
        intervalMs: 500
      }
    )
    phase('faults')
  })

  after(async () => {
    // Each command's log stays with the services' directory (DAROOGHE_CHAOS_KEEP=1 keeps it).
    for (const [c, p] of pipeline?.procs ?? []) writeFileSync(join(services.dir, `${c}.log`), p.stderr)
    await pipeline?.close()
    await services.destroy()
  })

  test('the Kafka broker stopped and started (same data dir and cluster id)', async t => {
    const cluster = services.kafkaClusterId()
    for (let round = 1; round <= ROUNDS; round++) {
      await fault(t, 'kafka restart', round, down('kafka'), up('kafka'), {
        detect: ['kafka'],
        dispatch: ['kafka'],
        windows: ['kafka'],
        store: ['kafka'],
        serve: ['kafka']
      })
    }
    assert.equal(services.kafkaClusterId(), cluster, 'the restarted broker kept its storage and cluster id')
  })

  test('Redis stopped and started', async t => {
    for (let round = 1; round <= ROUNDS; round++) {
      await fault(t, 'redis restart', round, down('redis'), up('redis'), {
        detect: ['redis'],
        dispatch: ['redis'],
        windows: ['redis'],
        serve: ['redis']
      })
    }
  })

  test('MongoDB stopped and started', async t => {
    for (let round = 1; round <= ROUNDS; round++) {
      await fault(t, 'mongo restart', round, down('mongo'), up('mongo'), {
        store: ['mongo'],
        serve: ['mongo']
      })
    }
  })

  test('network partition: every connection to Kafka, Redis and MongoDB cut, then slowed (and stalled, in long runs)', async t => {
    const proxies = Object.values(services.proxies)
    for (let round = 1; round <= ROUNDS; round++) {
      await fault(
        t,
        'network partition',
        round,
        async () => {
          for (const p of proxies) await p.down()
        },
        async () => {
          for (const p of proxies) await p.up()
        },
        // A command busy retrying one dependency does not call the others meanwhile: any one
        // of its dependencies named down is right.
        {
          detect: ['kafka', 'redis'],
          dispatch: ['kafka', 'redis'],
          windows: ['kafka', 'redis'],
          store: ['kafka', 'mongo'],
          serve: ['kafka', 'redis', 'mongo']
        }
      )
    }
    if (STALL_MS > 0) {
      await fault(
        t,
        'stalled link',
        1,
        async () => {
          for (const p of proxies) p.hold()
          await sleep(STALL_MS - OUTAGE_MS)
        },
        async () => {
          for (const p of proxies) p.release()
        },
        {}
      )
    }
    // A slow link (250 ms each way on every connection) is no outage: everything goes on.
    for (const p of proxies) p.delayMs = 250
    try {
      const before = await pipeline.progress()
      await waitFor(
        async () => {
          const now = await pipeline.progress()
          return COMMANDS.every(c => (now[c] ?? 0) > (before[c] ?? 0))
        },
        { what: 'every command to progress over a slow network', timeoutMs: 60_000, intervalMs: 500 }
      )
    } finally {
      for (const p of proxies) p.delayMs = 0
    }
    for (const c of COMMANDS) pipeline.assertAlive(c)
  })

  test('nothing lost, nothing decided twice differently; every command stops cleanly', async t => {
    phase('drain')
    assert.equal(
      await pipeline.stop('produce'),
      0,
      `produce exits 0:\n${pipeline.procs.get('produce')!.stderr.slice(-2000)}`
    )
    const sent = pipeline.sentCount()
    t.diagnostic(`produce: ${sent} events acknowledged`)
    for (const c of PROBED) {
      await waitFor(async () => (pipeline.assertAlive(c), pipeline.drained(c)), {
        what: `${c} to commit the end of its inputs`,
        timeoutMs: DRAIN_LIMIT_MS,
        intervalMs: 500
      }).catch((e: Error) => {
        throw new Error(`${e.message}; its log ends:\n${pipeline.procs.get(c)!.stderr.slice(-4000)}`)
      })
    }
    phase('read the outputs')
    const outputs = await readOutputs(pipeline)
    const results: CheckResult[] = [
      checkProduce(pipeline, outputs),
      checkDetect(outputs),
      checkDispatch(pipeline, outputs),
      checkWindows(outputs),
      await checkStore(services.mongoUrl('chaos'), outputs),
      await checkServe(pipeline, outputs)
    ]
    for (const r of results)
      t.diagnostic(
        `${r.command}: ${JSON.stringify(r.counts)}${r.problems.length ? ` PROBLEMS: ${r.problems.join('; ')}` : ''}`
      )
    for (const c of PROBED)
      assert.equal(
        await pipeline.stop(c),
        0,
        `${c} exits 0 on SIGTERM:\n${pipeline.procs.get(c)!.stderr.slice(-2000)}`
      )
    for (const [c, p] of pipeline.procs) {
      assert.ok(!`${p.stdout}${p.stderr}`.includes(SECRET), `${c} never logs the Redis password`)
    }
    assert.ok(!healthBodies.some(b => b.includes(SECRET)), '/health never shows the Redis password')
    phase('stopped')
    // The warnings show the rate limit: a few per fault, not one per attempt.
    for (const [c, p] of pipeline.procs) {
      const warnings = p.stderr.split('\n').filter(l => l.includes('"level":40')).length
      t.diagnostic(`${c}: ${warnings} warnings logged over ${reports.length} faults`)
    }
    t.diagnostic(`faults: ${JSON.stringify(reports)}`)
    t.diagnostic(`phases: ${phases.join(', ')}`)
    for (const line of services.log) t.diagnostic(line.split('\n')[0]!.slice(0, 200))
    assert.deepEqual(
      results.filter(r => r.problems.length > 0).map(r => `${r.command}: ${r.problems.join('; ')}`),
      []
    )
  })
})
