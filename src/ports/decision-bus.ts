import type { LogRecord, OutRecord } from './log.ts'

/**
 * Request-reply over the log, the API's side of it (`POST /v1/decisions`): event records go
 * to the input topic with reply headers (src/domain/reply.ts), and the detector's replies are
 * read back from the reply topic. Implemented on Kafka and on the embedded log.
 */
export interface DecisionBus {
  /**
   * Creates the input and reply topics if they do not exist, and starts reading every
   * partition of the reply topic from its current end, without a consumer group (each API
   * instance reads all replies and keeps the ones it waits for). Resolves once positioned: a
   * reply to any record sent after that reaches `onReply`. Reading goes on until `close()`,
   * through outages (retried with backoff).
   */
  start(onReply: (replies: readonly LogRecord[]) => void): Promise<void>
  /**
   * Appends one record to the input topic, keyed as the record says (`key` routes it to its
   * partition as every producer does). Resolves once acknowledged; rejects when it could not
   * be written (the caller may not know whether it was). Records of one partition are appended
   * in call order; records of different partitions do not wait for each other.
   */
  send(record: OutRecord): Promise<void>
  close(): Promise<void>
}
