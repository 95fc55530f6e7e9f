import { ProduceAcks, Producer, stringSerializer } from '@platformatic/kafka'
import { DaroogheError } from '../../errors.ts'
import type { LogProducer, OutRecord } from '../../ports/log.ts'
import { baseOptions, type KafkaConnection } from './options.ts'
import { toKafkaMessage } from './records.ts'

export interface KafkaProducerOptions extends KafkaConnection {
  /** Idempotent producer (no duplicates on retry). Default true; forces acks=all. */
  readonly idempotent?: boolean
  /** 'all' (-1), 'leader' (1) or 'none' (0). Default 'all'. */
  readonly acks?: 'all' | 'leader' | 'none'
  /** Compression of record batches. Default 'none' (loopback: CPU costs more than bytes). */
  readonly compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
}

const acksValue = { all: ProduceAcks.ALL, leader: ProduceAcks.LEADER, none: ProduceAcks.NO_RESPONSE } as const

/** LogProducer on @platformatic/kafka: one `send` is one produce request per broker. */
export class KafkaLogProducer implements LogProducer {
  readonly #producer: Producer<Buffer, Buffer, string, string>
  readonly #acks: number
  #closed = false

  constructor(options: KafkaProducerOptions) {
    const idempotent = options.idempotent ?? true
    this.#acks = idempotent ? ProduceAcks.ALL : acksValue[options.acks ?? 'all']
    this.#producer = new Producer({
      ...baseOptions(options, 'producer'),
      idempotent,
      acks: this.#acks,
      compression: options.compression ?? 'none',
      autocreateTopics: true,
      serializers: { headerKey: stringSerializer, headerValue: stringSerializer }
    })
  }

  async send(records: readonly OutRecord[]): Promise<void> {
    if (this.#closed) throw new DaroogheError('CLOSED', 'producer is closed')
    if (records.length === 0) return
    const messages = new Array(records.length)
    for (let i = 0; i < records.length; i++) messages[i] = toKafkaMessage(records[i]!)
    try {
      await this.#producer.send({ messages, acks: this.#acks })
    } catch (cause) {
      throw new DaroogheError('KAFKA', `produce of ${records.length} records failed`, { cause })
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#producer.close()
  }
}
