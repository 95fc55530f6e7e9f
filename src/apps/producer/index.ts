export { backoffDelay, type BackoffOptions } from './backoff.ts'
export {
  runProducer,
  type PendingRecord,
  type ProducerRunOptions,
  type ProducerRunResult
} from './producer.ts'
export { SentLog } from './sent-log.ts'
