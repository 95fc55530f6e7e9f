export { Backtest, ERROR_LABELS, FRAUD_LABELS, type BacktestReport } from './backtest.ts'
export type { Outcome } from './records.ts'
export { loadRuleSet, RULES_DIR, shippedRuleSets } from './load-rules.ts'
export {
  DEFAULT_PROCESSOR_OPTIONS,
  DEFAULT_TOPICS,
  processorOptions,
  systemClock,
  type ProcessorOptions,
  type ProcessorOverrides,
  type ProcessorTopics
} from './options.ts'
export {
  createProcessor,
  type BatchResult,
  type BatchStats,
  type Processor,
  type ProcessorDeps
} from './processor.ts'
export { seedProfiles } from './seed-profiles.ts'
export { CUSTOMERS, MERCHANTS, PROFILES, profileKey } from './stores.ts'
