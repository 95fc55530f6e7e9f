import { setTimeout as delay } from 'node:timers/promises'
import { MemoryLog, MemoryStateStore } from '../../adapters/memory/index.ts'
import type { Logger } from '../../logger.ts'
import type { LogProducer } from '../../ports/log.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { runDetector } from '../detector/index.ts'
import { createGenerator, createPacer } from '../generator/index.ts'
import type { GeneratorOptions } from '../generator/index.ts'
import { createProcessor, loadRuleSet, processorOptions, type BatchStats } from '../processor/index.ts'
import { runProducer } from '../producer/index.ts'

export interface DemoOptions {
  readonly generator: GeneratorOptions
  readonly rules: string
  readonly log: Logger
  readonly signal: AbortSignal
  /** The event log; default: a new embedded MemoryLog. */
  readonly memoryLog?: MemoryLog
  /** State store; default: the embedded in-memory store. */
  readonly store?: StateStore
  /** Called after every processed batch. */
  readonly onBatch?: (stats: BatchStats) => void
  /** Called for every alert produced (the decoded alert object). */
  readonly onAlert?: (alert: Record<string, unknown>) => void
}

export interface DemoHandle {
  readonly log: MemoryLog
  /** Resolves when generator and detector have stopped (after `signal` aborts). */
  readonly done: Promise<void>
}

/**
 * The whole pipeline in one process on the embedded log and state: generator → producer →
 * `darooghe.transactions` → detector → output topics; alerts are read back from the alerts
 * topic by a consumer of their own, as the dispatcher would.
 */
export function startDemo(o: DemoOptions): DemoHandle {
  const log = o.memoryLog ?? new MemoryLog()
  const store = o.store ?? new MemoryStateStore()
  const options = processorOptions({})
  const topics = options.topics
  const processor = createProcessor({ store, ruleSet: loadRuleSet(o.rules), options })
  const detectorConsumer = log.consumer({ groupId: 'darooghe-detector', topics: ['darooghe.transactions'] })
  const detectorProducer: LogProducer = log.producer()
  const alertsConsumer = log.consumer({ groupId: 'darooghe-demo-alerts', topics: [topics.alerts] })
  const generator = createGenerator(o.generator)
  const wallStart = Date.now()

  const stopAll = async (): Promise<void> => {
    await detectorConsumer.close()
    await alertsConsumer.close()
  }
  o.signal.addEventListener('abort', () => void stopAll(), { once: true })

  const producing = runProducer({
    generator,
    pacer: createPacer(generator.options, wallStart),
    producer: log.producer(),
    topic: 'darooghe.transactions',
    log: o.log,
    clock: Date.now,
    sleep: (ms, signal) => delay(Math.max(0, ms), undefined, signal ? { signal } : undefined).catch(() => {}),
    signal: o.signal,
    batchSize: 200,
    lingerMs: 20
  })
  const detecting = runDetector({
    consumer: detectorConsumer,
    producer: detectorProducer,
    processor,
    log: o.log,
    signal: o.signal,
    onBatch: stats => o.onBatch?.(stats)
  })
  const alerting = alertsConsumer.run({
    onBatch: async records => {
      for (const r of records) {
        if (r.value) o.onAlert?.(JSON.parse(r.value.toString()) as Record<string, unknown>)
      }
    }
  })
  const done = Promise.all([producing, detecting, alerting]).then(() => undefined)
  return { log, done }
}
