export {
  DEFAULT_WINDOWS,
  WindowAggregator,
  windowId,
  type AggregatorOptions,
  type AggregatorSnapshot,
  type MerchantTotal,
  type WindowResult,
  type WindowRow,
  type WindowSpec
} from './aggregator.ts'
export {
  ANALYTICS_TOPIC,
  rowOf,
  runWindows,
  windowRowOf,
  type WindowsDeps,
  type WindowsTotals
} from './stage.ts'
