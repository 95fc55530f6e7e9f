import { setTimeout as delay } from 'node:timers/promises'
import { MemoryStateStore } from '../../adapters/memory/index.ts'
import type { Logger } from '../../logger.ts'
import type { Alert, AlertSink } from '../../ports/alert-sink.ts'
import type { LogConsumer } from '../../ports/log.ts'
import type { DocumentStore } from '../../ports/document-store.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { runDetector } from '../detector/index.ts'
import { decodeAlerts, Dispatcher, FileAlertSink } from '../dispatcher/index.ts'
import { RejectCounter } from '../guard/record-guard.ts'
import { createGenerator, createPacer } from '../generator/index.ts'
import type { GeneratorOptions } from '../generator/index.ts'
import { DEFAULT_LIVE_TOPICS, LiveView, runLiveView } from '../live/index.ts'
import {
  createProcessor,
  DEFAULT_TOPICS,
  loadRuleSet,
  processorOptions,
  type BatchStats,
  type ProcessorTopics
} from '../processor/index.ts'
import { runProducer } from '../producer/index.ts'
import { DEFAULT_STORE_TOPICS, runStore, type StoreTopics } from '../store/index.ts'
import { runWindows } from '../windows/index.ts'
import { memoryBackend, type DemoBackend } from './backend.ts'
import { drain } from './drain.ts'
import { DEFAULT_REPLY_TOPIC } from '../../domain/reply.ts'

export interface DemoOptions {
  readonly generator: GeneratorOptions
  readonly rules: string
  readonly log: Logger
  readonly signal: AbortSignal
  /** The log; default: a new embedded log. */
  readonly backend?: DemoBackend
  /** Processor state; default: the embedded in-memory store. */
  readonly store?: StateStore
  /** The dispatcher's delivery dedupe; default: in memory. */
  readonly dedupe?: StateStore
  /** NDJSON file the dispatcher appends alerts to (fsync per batch). Default: no file. */
  readonly alertsFile?: string
  /** More alert sinks (the API's alert store in `darooghe demo`). */
  readonly sinks?: readonly AlertSink[]
  /** Where decisions, alerts and windows are stored (MongoDB with --mongo); default: not stored. */
  readonly documents?: DocumentStore
  /** The dashboard's view; default: a new LiveView on the demo's topics (a given one must read the same names). */
  readonly live?: LiveView
  /** Put before every topic and group name (tests on a shared Kafka). Default ''. */
  readonly prefix?: string
  /** Partitions of topics the demo creates. Default 6. */
  readonly partitions?: number
  /** Groups start at the end of their topics when they have no commit (Kafka: skip old history). Default false. */
  readonly fromLatest?: boolean
  /** Called after every processed batch. */
  readonly onBatch?: (stats: BatchStats) => void
  /** Called for every alert the dispatcher delivered (the decoded alert). */
  readonly onAlert?: (alert: Alert) => void
}

export interface DemoHandle {
  readonly backend: DemoBackend
  readonly live: LiveView
  readonly dispatcher: Dispatcher
  /** Resolves once everything drained, committed and closed (after `signal` aborts). */
  readonly done: Promise<void>
}

/** The demo's consumer groups, one per stage (the topic browser shows their lag). */
export const DEMO_GROUPS = Object.freeze({
  detector: 'darooghe-demo-detector',
  dispatcher: 'darooghe-demo-dispatcher',
  live: 'darooghe-demo-live',
  windows: 'darooghe-demo-windows',
  store: 'darooghe-demo-store'
})

export function demoGroups(prefix: string): typeof DEMO_GROUPS {
  return Object.fromEntries(
    Object.entries(DEMO_GROUPS).map(([k, v]) => [k, prefix + v])
  ) as typeof DEMO_GROUPS
}

/**
 * The whole pipeline in one process: generator → producer → `darooghe.transactions` →
 * detector → decision and alert topics → dispatcher (file + in-process sinks), the windows
 * stage and the LiveView, each stage a consumer group of its own on the same log. On abort the
 * generator stops, every group is given a moment to catch up (drain, commit), then the
 * consumers close in pipeline order and producers, sinks and stores are closed.
 */
export async function startDemo(o: DemoOptions): Promise<DemoHandle> {
  const prefix = o.prefix ?? ''
  const groups = demoGroups(prefix)
  const backend = o.backend ?? memoryBackend(undefined, () => Object.values(groups))
  const store = o.store ?? new MemoryStateStore()
  const dedupe = o.dedupe ?? new MemoryStateStore()
  const prefixed = Object.fromEntries(
    Object.entries(DEFAULT_TOPICS).map(([k, v]) => [k, prefix + v])
  ) as unknown as ProcessorTopics
  const replies = `${prefix}${DEFAULT_REPLY_TOPIC}`
  const options = processorOptions({
    keyPrefix: `${prefix}darooghe-demo:`,
    topics: prefixed,
    replyTopics: [replies]
  })
  const topics = options.topics
  const input = `${prefix}darooghe.transactions`
  const live =
    o.live ??
    new LiveView({
      topics: { ...topics, analytics: `${prefix}${DEFAULT_LIVE_TOPICS.analytics}` }
    })
  // The topics the demo writes. Nothing in it writes late events: the detector decides late
  // payments, flagged.
  const written = [topics.approved, topics.fraud, topics.alerts, topics.errors, live.topics.analytics]
  await backend.ensureTopics([input, ...written, replies], o.partitions ?? 6)
  const fromBeginning = !o.fromLatest
  const processor = createProcessor({
    store,
    ruleSet: loadRuleSet(o.rules),
    options,
    delivery: 'outputs-first'
  })
  const sinks: AlertSink[] = [...(o.sinks ?? [])]
  if (o.alertsFile) sinks.push(new FileAlertSink(o.alertsFile))
  const dispatcher = new Dispatcher({ sinks, dedupe, log: o.log })
  const alertRejects = new RejectCounter({ log: o.log, reader: 'dispatch' })

  const consumers: [string, LogConsumer][] = [
    [groups.detector, backend.consumer({ groupId: groups.detector, topics: [input], fromBeginning })],
    [
      groups.dispatcher,
      backend.consumer({
        groupId: groups.dispatcher,
        topics: [topics.alerts],
        fromBeginning,
        maxBatchRecords: 500
      })
    ],
    [
      groups.windows,
      backend.consumer({
        groupId: groups.windows,
        topics: [topics.approved, topics.fraud],
        fromBeginning
      })
    ],
    [groups.live, backend.consumer({ groupId: groups.live, topics: live.subscriptions(), fromBeginning })]
  ]
  const storeTopics: StoreTopics = {
    ...topics,
    late: `${prefix}${DEFAULT_STORE_TOPICS.late}`,
    analytics: live.topics.analytics
  }
  if (o.documents) {
    consumers.push([
      groups.store,
      backend.consumer({
        groupId: groups.store,
        topics: written,
        fromBeginning
      })
    ])
  }
  const consumerOf = (group: string): LogConsumer => consumers.find(([g]) => g === group)![1]
  // Stops on the caller's abort, or when a stage fails (the others then drain and close too).
  const stop = new AbortController()
  o.signal.addEventListener('abort', () => stop.abort(), { once: true })
  if (o.signal.aborted) stop.abort()
  let failure: unknown
  const stage = (p: Promise<unknown>): Promise<unknown> =>
    p.catch((error: unknown) => {
      failure ??= error
      o.log.error({ err: error }, 'a demo stage failed; stopping')
      stop.abort()
    })
  const generator = createGenerator(o.generator)
  const producing = stage(
    runProducer({
      generator,
      // A record is due at its own event time: starting the pacer's clock when the stages were
      // up instead (hundreds of ms after the generator's start) sent every event that much after
      // it happened, and the dashboard showed it as latency.
      pacer: createPacer(generator.options, Math.min(Date.now(), generator.options.start)),
      producer: backend.producer(),
      topic: input,
      log: o.log,
      clock: Date.now,
      sleep: (ms, signal) =>
        delay(Math.max(0, ms), undefined, signal ? { signal } : undefined).catch(() => {}),
      signal: stop.signal,
      batchSize: 200,
      // Nothing lingers on the way of a payment: the sender sends what is due as soon as it is.
      lingerMs: 0
    })
  )
  // The stages stop after the drain, not at the abort: they finish what the generator produced.
  const drained = new AbortController()
  const running = [
    runDetector({
      consumer: consumerOf(groups.detector),
      producer: backend.producer(),
      processor,
      log: o.log,
      signal: drained.signal,
      onBatch: stats => o.onBatch?.(stats)
    }),
    consumerOf(groups.dispatcher).run({
      onBatch: async records => {
        const alerts = decodeAlerts(records, r => alertRejects.add(r))
        await dispatcher.dispatchBatch(alerts)
        for (const a of alerts) o.onAlert?.(a)
      }
    }),
    runWindows({
      consumer: consumerOf(groups.windows),
      producer: backend.producer(),
      store,
      stateKey: `${prefix}darooghe-demo:windows:state`,
      log: o.log,
      signal: drained.signal,
      topic: live.topics.analytics
    }),
    runLiveView({ consumer: consumerOf(groups.live), view: live }),
    o.documents
      ? runStore({
          consumer: consumerOf(groups.store),
          store: o.documents,
          topics: storeTopics,
          log: o.log,
          signal: drained.signal
        })
      : undefined
  ].map(p => p && stage(p))

  const stopped = new Promise<void>(resolve => {
    if (stop.signal.aborted) resolve()
    stop.signal.addEventListener('abort', () => resolve(), { once: true })
  })
  const shutdown = async (): Promise<void> => {
    await stopped
    await producing
    // Let each stage catch up with what was produced, so its last batches are committed.
    await drain(
      backend.browser,
      consumers.map(([g]) => g),
      { timeoutMs: 5_000 }
    )
    drained.abort()
    for (const [, c] of consumers) await c.close()
  }
  const done = Promise.all([shutdown(), ...running]).finally(async () => {
    for (const s of sinks) await s.close?.()
    await backend.close()
    await store.close()
    await dedupe.close()
    await o.documents?.close()
  })
  return {
    backend,
    live,
    dispatcher,
    done: done.then(() => {
      if (failure !== undefined) throw failure
    })
  }
}
