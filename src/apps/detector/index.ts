export { runDetector, type DetectorDeps } from './detector.ts'
export { addBatch, emptyTotals, type BatchTotals } from './totals.ts'
