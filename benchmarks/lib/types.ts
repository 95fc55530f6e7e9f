import type { AnalyzeSuiteResult } from '../suites/analyze.ts'
import type { SinkResult } from '../suites/sink.ts'
/** Shapes of a benchmark report: what `benchmarks/results/<date>.json` holds. */
import type { Percentiles, Summary } from './stats.ts'

export interface Conditions {
  readonly date: string
  readonly quick: boolean
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly node: string
  /** V8 flags of the benchmark process (e.g. the young-generation size), when any. */
  readonly nodeFlags?: string
  readonly kafka: string
  readonly kafkaClient: string
  readonly platform: string
}

export interface DetectorResult {
  /** 'redis' or 'memory' state store; 'kafka' or 'memory' log. */
  readonly store: string
  readonly log: string
  readonly events: number
  readonly partitions: number
  readonly meanMessageBytes: number
  readonly batchRecords: number
  readonly eventsPerSecond: Summary
  readonly cpuSecondsPer1000: Summary
  readonly peakRssMiB: Summary
  /** Output counts of the last run. */
  readonly outputs: Readonly<Record<string, number>>
  readonly note: string
  /** `darooghe detect --workers N` on the same input (Kafka + Redis only). */
  readonly workers?: { readonly count: number; readonly eventsPerSecond: Summary }
  /** The same consumer and producer with no processing (Kafka + Redis only): the floor. */
  readonly passThrough?: { readonly eventsPerSecond: Summary; readonly cpuSecondsPer1000: Summary }
}

export interface LatencyResult extends Percentiles {
  readonly targetRate: number
  readonly durationS: number
  readonly sent: number
  readonly achievedSendRate: number
  readonly decisions: number
  readonly achievedDecisionRate: number
  /** Expected decisions not read before the grace period ended (counted in the histogram at the cut-off). */
  readonly missing: number
}

export interface LatencySuiteResult {
  readonly partitions: number
  readonly meanMessageBytes: number
  readonly batchRecords: number
  readonly windows: readonly LatencyResult[]
}

export interface MaxThroughputResult {
  readonly p99LimitMs: number
  readonly windowS: number
  readonly partitions: number
  readonly steps: readonly (LatencyResult & { readonly passed: boolean })[]
  readonly maxSustainableRate: number | null
}

export interface StageResult {
  readonly name: string
  readonly eventsPerSecond: Summary
  readonly detail: string
}

/** One client of the comparison (suite 5): its medians, or why it did not run. */
export interface ClientResult {
  /** npm package name, e.g. 'kafkajs'. */
  readonly client: string
  /** Installed version, or null when it is not installed. */
  readonly version: string | null
  /** Set when the client did not run, e.g. 'not installable here: …'. */
  readonly unavailable?: string
  readonly produceEventsPerSecond?: Summary
  readonly produceMBPerSecond?: Summary
  readonly consumeEventsPerSecond?: Summary
  readonly consumeMBPerSecond?: Summary
  /** From the consumer's start (connect, group join) to its first record, ms. */
  readonly consumeStartMs?: Summary
}

/** Suite 5: the same produce and consume workloads with each Kafka client. */
export interface ClientsSuiteResult {
  readonly events: number
  readonly partitions: number
  readonly meanMessageBytes: number
  /** Records per produce call; one call in flight at a time. */
  readonly batchRecords: number
  readonly runs: number
  /** The settings every client ran with, one line each. */
  readonly settings: readonly string[]
  readonly clients: readonly ClientResult[]
}

/** One window of the live suites (benchmarks/live): latency from the intended send time, ms. */
export interface LiveWindowResult {
  readonly rate: number
  readonly sent: number
  readonly achievedSendRate: number
  readonly received: number
  readonly missing: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly p999: number
  readonly max: number
}

/** Suite 2: the Kafka floor and the detector on the same paced load, each in its own processes. */
export interface LiveSuiteResult {
  readonly partitions: number
  readonly meanEventBytes: number
  readonly windowS: number
  readonly warmupS: number
  readonly floor: readonly LiveWindowResult[]
  readonly detector: readonly LiveWindowResult[]
}

/** Suite 3: the detector's rate stepped up; the highest that held p99 under the limit. */
export interface LiveMaxResult {
  readonly p99LimitMs: number
  readonly windowS: number
  readonly partitions: number
  readonly steps: readonly (LiveWindowResult & { readonly passed: boolean })[]
  readonly maxSustainableRate: number | null
}

/** One rate of suite 9 (POST /v1/decisions), latency from each request's due time, ms. */
export interface HttpWindowResult {
  readonly rate: number
  readonly sent: number
  readonly statuses: Readonly<Record<string, number>>
  readonly errors: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  /** The decisions' processing_latency_ms (request received by the API → decided by the detector). */
  readonly decidedP50?: number
  readonly decidedP99?: number
}

export interface HttpSuiteResult {
  readonly windowS: number
  readonly warmupS: number
  readonly windows: readonly HttpWindowResult[]
}

export interface Report {
  readonly conditions: Conditions
  readonly suites: readonly string[]
  readonly detector?: DetectorResult
  readonly embedded?: DetectorResult
  readonly latency?: LatencySuiteResult
  readonly maxThroughput?: MaxThroughputResult
  readonly live?: LiveSuiteResult
  readonly liveMax?: LiveMaxResult
  readonly http?: HttpSuiteResult
  readonly stages?: readonly StageResult[]
  readonly clients?: ClientsSuiteResult
  readonly sink?: SinkResult
  readonly analyze?: AnalyzeSuiteResult
  readonly notes: readonly string[]
}
