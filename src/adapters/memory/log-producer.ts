import { DaroogheError } from '../../errors.ts'
import type { LogProducer, OutRecord, RecordAck } from '../../ports/log.ts'
import type { MemoryLog } from './log.ts'

/**
 * LogProducer on the embedded log. A send is appended atomically on a later turn of the
 * event loop (never synchronously), and sends of one producer land in call order.
 */
export class MemoryLogProducer implements LogProducer {
  readonly #log: MemoryLog
  #closed = false
  /** The log stores copies of the values (see MemoryLog.append). */
  readonly copiesRecords = true

  constructor(log: MemoryLog) {
    this.#log = log
  }

  async send(records: readonly OutRecord[]): Promise<RecordAck[]> {
    if (this.#closed) throw new DaroogheError('CLOSED', 'producer is closed')
    if (records.length === 0) return []
    // Taken now: the caller may reuse its array once send returned, as with the Kafka adapter.
    const batch = records.slice()
    await new Promise<void>(resolve => setImmediate(resolve))
    return this.#log.append(batch)
  }

  async close(): Promise<void> {
    this.#closed = true
  }
}
