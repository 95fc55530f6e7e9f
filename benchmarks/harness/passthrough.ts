/**
 * The Kafka floor under the detector: the same consumer and producer on the same input, with
 * no processing at all. Each record is forwarded with a filler of the size a decision adds to
 * its event, so the bytes produced match the detector's; offsets are committed after the acks
 * as the detector does. What the detector cannot beat on this machine, whatever it computes.
 */
import type { OutRecord } from '../../src/ports/log.ts'
import { cpuSecondsPerThousand, ratePerSecond } from '../lib/stats.ts'
import type { LogBackend } from './backend.ts'
import { BATCH_RECORDS } from './detector-run.ts'
import { type BenchEnv, waitFor } from './env.ts'

/** Bytes a decision adds to its event (decision fields, trace, latency, source), measured. */
export const DECISION_SUFFIX_BYTES = 480

export interface PassThroughRun {
  readonly eventsPerSecond: number
  readonly cpuSecondsPer1000: number
}

export async function measurePassThrough(
  env: BenchEnv,
  backend: LogBackend,
  input: string,
  partitions: number,
  expected: number
): Promise<PassThroughRun> {
  const out = env.name('passthrough')
  await backend.createTopics([out], partitions)
  const consumer = backend.consumer({
    groupId: env.name('passthrough-group'),
    topics: [input],
    maxBatchRecords: BATCH_RECORDS,
    clientId: 'darooghe-bench-passthrough'
  })
  const producer = backend.producer('darooghe-bench-passthrough')
  const filler = Buffer.alloc(DECISION_SUFFIX_BYTES, 0x20)
  let records = 0
  let t0 = 0
  const running = consumer.run({
    onBatch: async recs => {
      if (t0 === 0) t0 = Date.now()
      const outs: OutRecord[] = new Array(recs.length)
      for (let i = 0; i < recs.length; i++) {
        const r = recs[i]!
        outs[i] = {
          topic: out,
          key: r.key,
          value: r.value === null ? filler : Buffer.concat([r.value, filler]),
          timestamp: r.timestamp,
          headers: r.headers
        }
      }
      await producer.send(outs)
      records += recs.length
    }
  })
  let failure: unknown = null
  running.catch(e => (failure = e))
  const cpu0 = process.cpuUsage()
  try {
    await waitFor(() => failure !== null || records >= expected, 600_000, 10)
    if (failure !== null) throw failure
    const t1 = Date.now()
    const cpu = process.cpuUsage(cpu0)
    return {
      eventsPerSecond: ratePerSecond(records, t1 - t0),
      cpuSecondsPer1000: cpuSecondsPerThousand(cpu.user + cpu.system, records)
    }
  } finally {
    await consumer.close()
    await running.catch(() => {})
    await producer.close()
  }
}
