import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { BatchStats } from '../apps/processor/processor.ts'
import type { Dependency, DependencySink } from './dependencies.ts'
import { SlidingMax } from './sliding-max.ts'

/** Prefix of every Darooghe metric (the default Node process metrics get it too). */
export const METRIC_PREFIX = 'darooghe_'

/** Our own series, without the default process metrics; the Grafana dashboard may use only these (and the defaults). */
export const METRIC_NAMES = [
  'darooghe_events_total',
  'darooghe_alerts_raised_total',
  'darooghe_validation_errors_total',
  'darooghe_rule_hits_total',
  'darooghe_processing_latency_seconds',
  'darooghe_processing_latency_max_seconds',
  'darooghe_consumer_lag',
  'darooghe_dispatcher_deliveries_total',
  'darooghe_dispatcher_failures_total',
  'darooghe_batches_total',
  'darooghe_batch_size',
  'darooghe_dependency_up',
  'darooghe_dependency_retries_total'
] as const

export type MetricName = (typeof METRIC_NAMES)[number]

export type EventOutcome = 'approved' | 'fraud' | 'error' | 'late' | 'duplicate'

/** What observeBatch reads from the processor's BatchStats. */
export type BatchMetricsInput = Pick<
  BatchStats,
  | 'approved'
  | 'fraud'
  | 'alerts'
  | 'errors'
  | 'late'
  | 'duplicatesSkipped'
  | 'errorCodes'
  | 'ruleHits'
  | 'latencyMaxMs'
  | 'latencySumMs'
  | 'records'
>

export interface MetricsOptions {
  /** Collect the default Node process metrics (CPU, memory, event-loop lag, GC). Default true. */
  readonly defaultMetrics?: boolean
  /** Window of the max-latency gauge, in ms. Default 60 000. */
  readonly maxWindowMs?: number
  /** Clock for the sliding max window. Default Date.now. */
  readonly now?: () => number
}

/** 1 ms to 5 s, denser where a healthy pipeline lives (tens of ms). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
const BATCH_SIZE_BUCKETS = [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

/**
 * Darooghe's Prometheus metrics over a private Registry (never prom-client's global one, so
 * that several instances, e.g. in tests or in `darooghe demo`, do not collide).
 */
export class Metrics implements DependencySink {
  readonly registry: Registry
  readonly events: Counter<'outcome'>
  readonly alertsRaised: Counter
  readonly validationErrors: Counter<'code'>
  readonly ruleHits: Counter<'rule'>
  readonly latency: Histogram
  readonly latencyMax: Gauge
  readonly consumerLag: Gauge<'topic' | 'partition'>
  readonly deliveries: Counter<'sink' | 'outcome'>
  readonly failures: Counter<'sink'>
  readonly batches: Counter
  readonly batchSize: Histogram
  readonly dependencyUp: Gauge<'dependency'>
  readonly dependencyRetries: Counter<'dependency'>
  readonly #max: SlidingMax
  readonly #now: () => number

  constructor(options: MetricsOptions = {}) {
    this.registry = new Registry()
    this.#now = options.now ?? Date.now
    this.#max = new SlidingMax(options.maxWindowMs ?? 60_000)
    const registers = [this.registry]
    const p = METRIC_PREFIX
    this.events = new Counter({
      name: `${p}events_total`,
      help: 'Events processed, by outcome (approved, fraud, error, duplicate; late: decisions late for their customer, also counted as approved or fraud).',
      labelNames: ['outcome'] as const,
      registers
    })
    this.alertsRaised = new Counter({
      name: `${p}alerts_raised_total`,
      help: 'Fraud alerts raised.',
      registers
    })
    this.validationErrors = new Counter({
      name: `${p}validation_errors_total`,
      help: 'Invalid events, by validation error code (one event may count under several codes).',
      labelNames: ['code'] as const,
      registers
    })
    this.ruleHits = new Counter({
      name: `${p}rule_hits_total`,
      help: 'Fraud rules fired, by rule.',
      labelNames: ['rule'] as const,
      registers
    })
    this.latency = new Histogram({
      name: `${p}processing_latency_seconds`,
      help: 'Processing latency per decision (record timestamp to processed), recorded as the batch mean.',
      buckets: LATENCY_BUCKETS,
      registers
    })
    const max = this.#max
    const now = this.#now
    this.latencyMax = new Gauge({
      name: `${p}processing_latency_max_seconds`,
      help: 'Largest processing latency seen over the last 60 seconds.',
      registers,
      collect() {
        this.set(max.get(now()) / 1000)
      }
    })
    this.consumerLag = new Gauge({
      name: `${p}consumer_lag`,
      help: 'Messages between the committed offset and the end of the partition.',
      labelNames: ['topic', 'partition'] as const,
      registers
    })
    this.deliveries = new Counter({
      name: `${p}dispatcher_deliveries_total`,
      help: 'Alert deliveries by the dispatcher, by sink and outcome.',
      labelNames: ['sink', 'outcome'] as const,
      registers
    })
    this.failures = new Counter({
      name: `${p}dispatcher_failures_total`,
      help: 'Failed delivery attempts by the dispatcher, by sink.',
      labelNames: ['sink'] as const,
      registers
    })
    this.batches = new Counter({ name: `${p}batches_total`, help: 'Poll batches processed.', registers })
    this.batchSize = new Histogram({
      name: `${p}batch_size`,
      help: 'Records per processed poll batch.',
      buckets: BATCH_SIZE_BUCKETS,
      registers
    })
    this.dependencyUp = new Gauge({
      name: `${p}dependency_up`,
      help: 'Whether a dependency (kafka, redis, mongo) answers this process: 0 while an operation against it is being retried.',
      labelNames: ['dependency'] as const,
      registers
    })
    this.dependencyRetries = new Counter({
      name: `${p}dependency_retries_total`,
      help: 'Operations retried after a failure of a dependency (kafka, redis, mongo).',
      labelNames: ['dependency'] as const,
      registers
    })
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: p })
  }

  /**
   * Records one processed batch. The processor gives only the sum and the max of the batch's
   * latencies, not each one, so the histogram gets the batch mean once per decision: counts and
   * sum are exact, the distribution is smoothed within a batch. The true max goes to the gauge.
   */
  observeBatch(stats: BatchMetricsInput): void {
    this.batches.inc()
    this.batchSize.observe(stats.records)
    addIf(this.events, { outcome: 'approved' }, stats.approved)
    addIf(this.events, { outcome: 'fraud' }, stats.fraud)
    addIf(this.events, { outcome: 'error' }, stats.errors)
    addIf(this.events, { outcome: 'late' }, stats.late)
    addIf(this.events, { outcome: 'duplicate' }, stats.duplicatesSkipped)
    if (stats.alerts > 0) this.alertsRaised.inc(stats.alerts)
    for (const [code, n] of Object.entries(stats.errorCodes)) addIf(this.validationErrors, { code }, n ?? 0)
    for (const [rule, n] of Object.entries(stats.ruleHits)) addIf(this.ruleHits, { rule }, n)
    const decisions = stats.approved + stats.fraud
    if (decisions > 0) {
      const meanSeconds = stats.latencySumMs / decisions / 1000
      for (let i = 0; i < decisions; i++) this.latency.observe(meanSeconds)
      this.#max.add(this.#now(), stats.latencyMaxMs)
    }
  }

  /** Current lag of one partition. */
  setConsumerLag(topic: string, partition: number, lag: number): void {
    this.consumerLag.set({ topic, partition: String(partition) }, lag)
  }

  /** One delivery by the dispatcher; a failed attempt also counts under failures. */
  observeDelivery(sink: string, outcome: 'delivered' | 'failed' | 'dead_letter' | 'duplicate'): void {
    this.deliveries.inc({ sink, outcome })
    if (outcome === 'failed') this.failures.inc({ sink })
  }

  setDependencyUp(dependency: Dependency, up: boolean): void {
    this.dependencyUp.set({ dependency }, up ? 1 : 0)
  }

  countRetry(dependency: Dependency): void {
    this.dependencyRetries.inc({ dependency })
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}

function addIf<L extends string>(c: Counter<L>, labels: Partial<Record<L, string>>, n: number): void {
  if (n > 0) c.inc(labels, n)
}
