/**
 * The Kafka floor of the live latency benchmark, in a process of its own: the detector's own
 * consumer and producer forwarding each record (key, headers, value plus a filler of a
 * decision's size) with no processing, committing after the acks as the detector does. What no
 * processor on this machine can beat with this data path. Prints `{"ready":true}` once it owns
 * its partitions; stops on SIGTERM.
 */
import { KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import type { OutRecord } from '../../src/ports/log.ts'
import { DECISION_SUFFIX_BYTES } from '../harness/passthrough.ts'
import { jsonArg } from './protocol.ts'

const args = jsonArg<{ brokers: string[]; input: string; output: string; group: string }>()
const consumer = new KafkaLogConsumer({
  brokers: args.brokers,
  groupId: args.group,
  topics: [args.input],
  clientId: 'darooghe-bench-floor'
})
const producer = new KafkaLogProducer({ brokers: args.brokers, clientId: 'darooghe-bench-floor' })
const filler = Buffer.alloc(DECISION_SUFFIX_BYTES, 0x20)
process.once('SIGTERM', () => void consumer.close())
await consumer.run({
  onAssignment: a => {
    if (a.length > 0) process.stdout.write('{"ready":true}\n')
  },
  onBatch: async records => {
    const out: OutRecord[] = new Array(records.length)
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      out[i] = {
        topic: args.output,
        key: r.key,
        value: r.value === null ? filler : Buffer.concat([r.value, filler]),
        timestamp: r.timestamp,
        headers: r.headers
      }
    }
    await producer.send(out)
  }
})
await producer.close()
