export { runDetector, type DetectorDeps } from './detector.ts'
export { addBatch, emptyTotals, type BatchTotals } from './totals.ts'
export { StageLog } from './stage-log.ts'
export type { BatchStages } from './detector.ts'
