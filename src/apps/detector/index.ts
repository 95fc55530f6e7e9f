export { runDetector, type DetectorDeps } from './detector.ts'
