import { LABEL_HEADER, SCENARIO_HEADER } from '../../domain/event.ts'
import { isRetriable } from '../../errors.ts'
import { Outage, retryOptions, type Resilience } from '../../retry.ts'
import type { Logger } from '../../logger.ts'
import type { LogProducer, OutRecord, RecordAck } from '../../ports/log.ts'
import type { Pacer } from '../generator/arrivals.ts'
import type { GeneratedRecord } from '../generator/events.ts'
import type { Generator } from '../generator/generator.ts'
import type { BackoffOptions } from './backoff.ts'

export interface ProducerRunOptions {
  readonly generator: Generator
  readonly pacer: Pacer
  readonly producer: LogProducer
  readonly topic: string
  readonly log: Logger
  /** Wall clock, epoch ms. */
  readonly clock: () => number
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  readonly signal?: AbortSignal
  /** Records per produce request. Default 2 000. */
  readonly batchSize?: number
  /** How long a partial batch may wait for more records, ms. Default 5. */
  readonly lingerMs?: number
  /** Records buffered while the broker is away before the generator is paused. Default 100 000. */
  readonly maxBuffered?: number
  readonly backoff?: BackoffOptions
  /**
   * How long a batch is retried through a Kafka outage (--retry-for), and the health tracker.
   * Default: for ever. Shutdown does not abandon a batch being retried: records already
   * generated are delivered.
   */
  readonly resilience?: Resilience
  /** Called once per acknowledged batch (sent-log, progress). */
  readonly onAcked?: (batch: readonly PendingRecord[], acks: readonly RecordAck[], ackedAt: number) => void
  /** Put the label and scenario id in record headers (never in the payload). Default true. */
  readonly labelHeaders?: boolean
}

/** A generated record waiting to be sent, with the time it was handed to the producer. */
export interface PendingRecord {
  readonly source: GeneratedRecord
  readonly out: OutRecord
  readonly sentAt: number
}

export interface ProducerRunResult {
  readonly sent: number
  readonly retries: number
  readonly maxBuffered: number
  readonly elapsedMs: number
  readonly reason: 'done' | 'signal'
}

/**
 * Streams the generator into the log: a pacing loop fills a bounded buffer, a sender loop
 * drains it in batches with one produce request in flight. A failed batch is retried as the
 * same batch (so the idempotent producer's sequence numbers make the retry exactly-once) with
 * capped exponential backoff and jitter; while it waits, the buffer fills up to `maxBuffered`
 * and then the generator waits too (back-pressure), so nothing is dropped.
 */
export async function runProducer(o: ProducerRunOptions): Promise<ProducerRunResult> {
  const batchSize = o.batchSize ?? 2_000
  const lingerMs = o.lingerMs ?? 5
  const maxBuffered = o.maxBuffered ?? 100_000
  const labelHeaders = o.labelHeaders ?? true
  const started = o.clock()
  const buffer: PendingRecord[] = []
  let head = 0
  let generating = true
  let reason: ProducerRunResult['reason'] = 'done'
  let sent = 0
  let retries = 0
  let peak = 0
  let wakeSender: (() => void) | null = null
  let wakeGenerator: (() => void) | null = null
  const notify = (which: 'sender' | 'generator'): void => {
    const w = which === 'sender' ? wakeSender : wakeGenerator
    if (which === 'sender') wakeSender = null
    else wakeGenerator = null
    w?.()
  }
  const buffered = (): number => buffer.length - head

  const generate = async (): Promise<void> => {
    try {
      for (;;) {
        if (o.signal?.aborted) {
          reason = 'signal'
          return
        }
        while (buffered() >= maxBuffered) {
          await new Promise<void>(r => (wakeGenerator = r))
          if (o.signal?.aborted) {
            reason = 'signal'
            return
          }
        }
        const record = o.generator.next()
        if (record === undefined) return
        const due = o.pacer.dueAt(record)
        const now = o.clock()
        if (due > now) {
          notify('sender')
          await o.sleep(due - now, o.signal)
          if (o.signal?.aborted) {
            reason = 'signal'
            return
          }
        }
        buffer.push({ source: record, out: toOutRecord(o.topic, record, labelHeaders), sentAt: o.clock() })
        if (buffered() > peak) peak = buffered()
        if (buffered() >= batchSize) notify('sender')
      }
    } finally {
      generating = false
      notify('sender')
    }
  }

  const send = async (): Promise<void> => {
    for (;;) {
      if (buffered() === 0) {
        if (!generating) return
        await new Promise<void>(r => (wakeSender = r))
        continue
      }
      if (lingerMs > 0 && buffered() < batchSize && generating) {
        // Linger briefly so a paced stream still goes out in batches (0: never wait).
        await Promise.race([o.sleep(lingerMs), new Promise<void>(r => (wakeSender = r))])
        wakeSender = null
      }
      const end = Math.min(buffer.length, head + batchSize)
      const batch = buffer.slice(head, end)
      const acks = await sendWithRetry(batch)
      head = end
      if (head > 65_536 && head * 2 > buffer.length) {
        buffer.splice(0, head)
        head = 0
      }
      sent += batch.length
      o.onAcked?.(batch, acks, o.clock())
      notify('generator')
    }
  }

  const sendWithRetry = async (batch: readonly PendingRecord[]): Promise<RecordAck[]> => {
    const records = batch.map(p => p.out)
    // The same records array each time: the producer sends what is not yet acknowledged with
    // the same sequence numbers. Warnings are rate-limited (a few, then every 30 s).
    const outage = new Outage(`produce a batch of ${batch.length} records`, o.log, {
      ...retryOptions(o.resilience, o.backoff),
      dependency: 'kafka'
    })
    try {
      for (;;) {
        try {
          const acks = await o.producer.send(records)
          outage.succeeded()
          return acks
        } catch (error) {
          if (isRetriable(error)) {
            retries++
            if (outage.attempts === 0)
              o.log.warn({ buffered: buffered() }, 'produce failed: buffering while retrying')
          }
          await outage.failed(error)
        }
      }
    } finally {
      outage.end()
    }
  }

  await Promise.all([generate(), send()])
  return { sent, retries, maxBuffered: peak, elapsedMs: o.clock() - started, reason }
}

function toOutRecord(topic: string, r: GeneratedRecord, labelHeaders: boolean): OutRecord {
  let headers: Record<string, string> | undefined
  if (labelHeaders) {
    headers = { [LABEL_HEADER]: r.label }
    if (r.scenarioId !== undefined) headers[SCENARIO_HEADER] = r.scenarioId
  }
  return { topic, key: r.key, value: r.raw, headers, timestamp: r.eventTimeMs }
}
