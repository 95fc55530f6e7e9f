import { createWriteStream, type WriteStream } from 'node:fs'
import { once } from 'node:events'
import type { RecordAck } from '../../ports/log.ts'
import type { PendingRecord } from './producer.ts'

/**
 * NDJSON log of every acknowledged event: transaction id, key, label, partition, offset, the
 * time it was handed to the producer and the time its batch was acknowledged.
 */
export class SentLog {
  readonly #out: WriteStream
  #failed: Error | null = null

  constructor(path: string) {
    this.#out = createWriteStream(path, { flags: 'a', highWaterMark: 1 << 20 })
    this.#out.on('error', err => (this.#failed = err))
  }

  write(batch: readonly PendingRecord[], acks: readonly RecordAck[], ackedAt: number): void {
    if (this.#failed) throw this.#failed
    let chunk = ''
    const acked = new Date(ackedAt).toISOString()
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!
      const a = acks[i]
      chunk += `{"transaction_id":"${p.source.transactionId}","key":"${p.source.key}","label":"${p.source.label}","partition":${a?.partition ?? -1},"offset":${a?.offset ?? -1},"sent_at":"${new Date(p.sentAt).toISOString()}","acked_at":"${acked}"}\n`
    }
    this.#out.write(chunk)
  }

  async close(): Promise<void> {
    this.#out.end()
    if (!this.#out.closed) await once(this.#out, 'close')
    if (this.#failed) throw this.#failed
  }
}
