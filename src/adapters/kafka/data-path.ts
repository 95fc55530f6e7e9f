import type { Consumer } from '@platformatic/kafka'
import type { LogRecord, TopicPartition } from '../../ports/log.ts'
import { type FetcherOptions, KafkaFetcher } from './fetcher.ts'
import { LibraryFetcher } from './library-fetcher.ts'
import type { KafkaDataPath } from './options.ts'

/**
 * Where a consumer's records come from, behind one switch (`darooghe.kafka.data.path`):
 * `direct` is our Fetch requests and record-batch decoder (fetcher.ts), `library` the client
 * library's public `Consumer.fetch()` (library-fetcher.ts). Group membership, commits and
 * the batch loop above are the same for both (consumer.ts).
 */
export interface RecordFetcher {
  /**
   * Sets the partitions to fetch, each from the group's committed offset (or the configured
   * end when it has none); forgets the others. Returns the partitions that had no committed
   * offset, with where they start.
   */
  seek(partitions: readonly TopicPartition[]): Promise<{ topic: string; partition: number; offset: number }[]>
  /** One round from every leader; moves the positions past the records returned. */
  fetch(): Promise<LogRecord[]>
  /** Partitions (`topic:partition`) with records the last round knew of, not fetched yet. */
  behind(): Set<string>
  close(): Promise<void>
}

export function makeFetcher(
  path: KafkaDataPath,
  consumer: Consumer<Buffer, Buffer, string, string>,
  options: FetcherOptions
): RecordFetcher {
  return path === 'library' ? new LibraryFetcher(consumer, options) : new KafkaFetcher(consumer, options)
}
