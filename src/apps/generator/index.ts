/**
 * The payment-event generator ("pulse"): a deterministic, labelled stream of DarooghePulse
 * events. See README.md for the traffic model and which events carry which label.
 */
export { createGenerator } from './generator.ts'
export type { Generator, GeneratorStats } from './generator.ts'
export type { GeneratedRecord } from './events.ts'
export { formatEventLine, TimestampFormatter } from './events.ts'
export {
  DEFAULT_HISTORY_DAYS,
  DEFAULT_HISTORY_EVENTS,
  GENERATOR_DEFAULTS,
  legitCapacityPerSecond,
  peakRatePerSecond,
  resolveGeneratorOptions
} from './options.ts'
export type { GeneratorOptions, ResolvedGeneratorOptions } from './options.ts'
export { createPacer, intensityAt, dayFactor, hourFactor, TEHRAN_OFFSET_MS } from './arrivals.ts'
export type { Pacer } from './arrivals.ts'
export { FRAUD_KINDS, INVALID_KINDS } from './scenarios.ts'
export { FAR_CITIES, TEHRAN_BOX } from './places.ts'
export { createNdjsonWriter } from './ndjson-writer.ts'
export type { NdjsonWriter, NdjsonWriterOptions } from './ndjson-writer.ts'
export { labelLine, runGenerator } from './run.ts'
export type { RunOptions, RunResult } from './run.ts'
export { createProgress } from './progress.ts'
export type { Progress } from './progress.ts'
