import { readFileSync } from 'node:fs'

/** The captured protocol bytes of test/fixtures/kafka/ (see scripts/capture-kafka-fixtures.ts). */
const dir = new URL('../fixtures/kafka/', import.meta.url)

export function fixtureBytes(name: string): Buffer {
  return Buffer.from(readFileSync(new URL(`${name}.hex`, dir), 'utf8').trim(), 'hex')
}

export interface KafkaFixtures {
  readonly codecTopic: string
  readonly topicId: string
  /** Per partition: the codec kcat wrote it with and the lines it read (`key|value`, or a value). */
  readonly kcat: Record<string, { codec: string; lines: string[] }>
  readonly produce: {
    readonly topic: string
    readonly now: number
    readonly records: {
      topic: string
      partition: number
      key: string | null
      value: string | null | { hex: string }
      headers?: Record<string, string>
      timestamp?: number
    }[]
  }
}

export const fixtures = JSON.parse(readFileSync(new URL('fixtures.json', dir), 'utf8')) as KafkaFixtures

/** What kcat wrote for a line: `key|value`, or a value alone (null key). */
export function kcatRecord(line: string): { key: string | null; value: string } {
  const bar = line.indexOf('|')
  return bar < 0 ? { key: null, value: line } : { key: line.slice(0, bar), value: line.slice(bar + 1) }
}
