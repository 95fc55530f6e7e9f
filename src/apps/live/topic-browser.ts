import type { MemoryLog } from '../../adapters/memory/index.ts'
import { outputLimits } from '../../domain/json-keys.ts'
import { parseJsonWithin } from '../../domain/limits.ts'
import type { LogRecord } from '../../ports/log.ts'

export interface GroupLag {
  readonly group: string
  /** Committed next offset per partition, -1 where none. */
  readonly committed: readonly number[]
  /** End offset − committed per partition (the whole partition where nothing is committed). */
  readonly lag: readonly number[]
  readonly total_lag: number
}

export interface TopicSummary {
  readonly name: string
  readonly partitions: number
  /** Next offset to be written per partition. */
  readonly end_offsets: readonly number[]
  readonly messages: number
  /** Groups with a commit on this topic. */
  readonly groups: readonly GroupLag[]
}

/** A record as the topic browser shows it: the value parsed when it is JSON, text otherwise. */
export interface BrowsedMessage {
  readonly partition: number
  readonly offset: number
  readonly timestamp: string
  readonly key: string | null
  readonly headers: Readonly<Record<string, string>>
  readonly value: unknown
}

/** Topics, offsets, lag and recent messages of a log, for the dashboard. */
export interface TopicBrowser {
  topics(): Promise<TopicSummary[]>
  /** The `limit` newest records of a topic, newest first; undefined when the topic does not exist. */
  messages(topic: string, limit: number): Promise<BrowsedMessage[] | undefined>
  close?(): Promise<void>
}

export function lagOf(group: string, end: readonly number[], committed: readonly number[]): GroupLag {
  const lag = end.map((e, p) => Math.max(0, e - Math.max(0, committed[p] ?? -1)))
  return { group, committed, lag, total_lag: lag.reduce((s, n) => s + n, 0) }
}

export function browsed(r: LogRecord): BrowsedMessage {
  return {
    partition: r.partition,
    offset: r.offset,
    timestamp: isoTime(r.timestamp),
    key: r.key === null ? null : clippedText(r.key),
    headers: r.headers,
    value: parseValue(r.value)
  }
}

/** Any topic can be browsed, its input included: what is shown is parsed behind the limits. */
const BROWSE_LIMITS = outputLimits()
/** Text shown of a value that is not JSON (or beyond the limits). */
const SHOWN_BYTES = 4096

/** A record timestamp is whatever its producer set: one beyond Date's range is shown as the number. */
function isoTime(ms: number): string {
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString()
}

function parseValue(v: Buffer | null): unknown {
  if (v === null) return null
  const parsed = parseJsonWithin(v, BROWSE_LIMITS)
  return parsed.ok ? parsed.value : clippedText(v)
}

function clippedText(bytes: Buffer): string {
  if (bytes.length <= SHOWN_BYTES) return bytes.toString('utf8')
  return `${bytes.toString('utf8', 0, SHOWN_BYTES)}… (${bytes.length} bytes)`
}

/**
 * The browser over the embedded log. The log does not list its groups, so the caller names
 * the ones to report (the demo knows its own).
 */
export class MemoryTopicBrowser implements TopicBrowser {
  constructor(
    readonly log: MemoryLog,
    readonly groups: () => readonly string[]
  ) {}

  async topics(): Promise<TopicSummary[]> {
    return this.log.listTopics().map(t => {
      const end = this.log.endOffsets(t.name)
      const start = this.log.startOffsets(t.name)
      const groups = this.groups()
        .map(g => ({ g, committed: this.log.committedOffsets(g, t.name) }))
        .filter(({ committed }) => committed.some(o => o >= 0))
        .map(({ g, committed }) => lagOf(g, end, committed))
      const messages = end.reduce((s, e, p) => s + e - (start[p] ?? 0), 0)
      return { name: t.name, partitions: t.partitions, end_offsets: end, messages, groups }
    })
  }

  async messages(topic: string, limit: number): Promise<BrowsedMessage[] | undefined> {
    if (this.log.partitionCount(topic) === 0) return undefined
    return this.log.lastRecords(topic, limit).reverse().map(browsed)
  }
}
