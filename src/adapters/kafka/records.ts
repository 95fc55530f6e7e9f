import type { Message, MessageToProduce } from '@platformatic/kafka'
import type { LogRecord, OutRecord } from '../../ports/log.ts'

type KafkaMessage = Message<Buffer, Buffer, string, string>

/** Converts a consumed message to our immutable LogRecord (offsets and timestamps as numbers). */
export function toLogRecord(m: KafkaMessage): LogRecord {
  let headers: Record<string, string> = EMPTY
  if (m.headers.size > 0) {
    headers = {}
    for (const [k, v] of m.headers) setHeader(headers, k, v)
  }
  return {
    topic: m.topic,
    partition: m.partition,
    offset: Number(m.offset),
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
    timestamp: Number(m.timestamp)
  }
}

const EMPTY: Record<string, string> = Object.freeze({}) as Record<string, string>

export function toKafkaMessage(r: OutRecord): MessageToProduce<Buffer, Buffer, string, string> {
  const m: MessageToProduce<Buffer, Buffer, string, string> = {
    topic: r.topic,
    key: r.key == null ? undefined : typeof r.key === 'string' ? Buffer.from(r.key) : r.key,
    value: r.value == null ? undefined : typeof r.value === 'string' ? Buffer.from(r.value) : r.value
  }
  if (r.headers) m.headers = r.headers as Record<string, string>
  if (r.partition !== undefined) m.partition = r.partition
  if (r.timestamp !== undefined) m.timestamp = BigInt(Math.round(r.timestamp))
  return m
}

/**
 * Sets a header decoded from the wire. A header named `__proto__` is a header like any other:
 * assigned, it would set the object's prototype instead (and be lost).
 */
export function setHeader(headers: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__')
    Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true })
  else headers[name] = value
}
