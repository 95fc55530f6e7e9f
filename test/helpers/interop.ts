/**
 * Helpers of the interop tests: what an independent file-mode run decides for the records of
 * each input partition, the outcome of the detector's output topics as another client read
 * them, and waiting for a `darooghe detect` process to commit its input.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KafkaLogAdmin } from '../../src/adapters/kafka/index.ts'
import { runCli, type Running } from './cli.ts'
import type { Json, Topics } from './pipeline.ts'
import { KAFKA_BROKERS, waitFor } from './services.ts'

/** The outputs that depend on the events and the rules only, by transaction id. */
export interface Outcome {
  readonly decisions: Map<string, string>
  readonly alerts: Map<string, string>
  errors: number
}

/** An output record as a client read it. */
export interface ReadRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly key: Buffer | null
  readonly value: Buffer | null
}

/** A decision or alert without when, how fast and where it was read. */
export function content(v: Json): string {
  const { processed_at: _a, processing_latency_ms: _b, source: _c, created_at: _d, ...rest } = v
  return JSON.stringify(rest)
}

function addOnce(map: Map<string, string>, v: Json, what: string): void {
  const id = v.transaction_id as string
  assert.ok(!map.has(id), `one ${what} for ${id}`)
  map.set(id, content(v))
}

/**
 * What `darooghe detect --input` (file mode, in-memory state) decides for each partition's
 * records, one run per partition: state such as a merchant's fraud ratio is kept per input
 * partition, so the Kafka detector's outputs are the union of these runs.
 */
export async function fileModeOutcome(byPartition: ReadonlyMap<number, readonly Buffer[]>): Promise<Outcome> {
  const out: Outcome = { decisions: new Map(), alerts: new Map(), errors: 0 }
  const dir = await mkdtemp(join(tmpdir(), 'darooghe-interop-'))
  try {
    const runs = [...byPartition].map(async ([partition, values]) => {
      const input = join(dir, `events-${partition}.ndjson`)
      const output = join(dir, `outputs-${partition}.ndjson`)
      await writeFile(
        input,
        values.map(v => v.toString() + '\n')
      )
      const run = await runCli(['detect', '--input', input, '--output', output, '--quiet'])
      assert.equal(run.code, 0, `file-mode detect (stderr: ${run.stderr})`)
      return readFile(output, 'utf8')
    })
    for (const text of await Promise.all(runs)) {
      for (const line of text.split('\n')) {
        if (line === '') continue
        const { topic, value } = JSON.parse(line) as { topic: string; value: Json }
        if (topic === 'darooghe.error_logs') out.errors++
        else if (topic === 'darooghe.fraud_alerts') addOnce(out.alerts, value, 'alert')
        else addOnce(out.decisions, value, 'decision')
      }
    }
    return out
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * The outcome of the detector's output topics as a client read them: fails on a decision or
 * alert seen twice, or an output not keyed by its customer.
 */
export function outcomeOf(topics: Topics, records: readonly ReadRecord[]): Outcome {
  const out: Outcome = { decisions: new Map(), alerts: new Map(), errors: 0 }
  for (const r of records) {
    if (r.topic === topics.errors) {
      out.errors++
      continue
    }
    const v = JSON.parse(r.value!.toString()) as Json
    const at = `${r.topic}:${r.partition}:${r.offset}`
    assert.equal(r.key?.toString(), v.customer_id, `${at} keyed by its customer`)
    if (r.topic === topics.alerts) addOnce(out.alerts, v, 'alert')
    else if (r.topic === topics.approved || r.topic === topics.fraud) addOnce(out.decisions, v, 'decision')
    else assert.fail(`a record of an unexpected topic: ${at}`)
  }
  return out
}

/** What differs between two maps by transaction id, in a few lines; '' when nothing does. */
function difference(got: ReadonlyMap<string, string>, want: ReadonlyMap<string, string>): string {
  const missing = [...want.keys()].filter(id => !got.has(id))
  const extra = [...got.keys()].filter(id => !want.has(id))
  const changed = [...want.keys()].filter(id => got.has(id) && got.get(id) !== want.get(id))
  if (missing.length + extra.length + changed.length === 0) return ''
  const lines = [
    `${missing.length} missing, ${extra.length} extra, ${changed.length} different of ${want.size}`
  ]
  if (missing.length > 0) lines.push(`missing e.g. ${missing.slice(0, 3).join(', ')}`)
  if (extra.length > 0) lines.push(`extra e.g. ${extra.slice(0, 3).join(', ')}`)
  for (const id of changed.slice(0, 2)) lines.push(`got  ${got.get(id)}`, `want ${want.get(id)}`)
  return lines.join('\n')
}

/** Asserts two outcomes are the same, naming what differs. */
export function assertSameOutcome(got: Outcome, want: Outcome, who: string): void {
  assert.equal(difference(got.decisions, want.decisions), '', `${who}: decisions`)
  assert.equal(difference(got.alerts, want.alerts), '', `${who}: alerts`)
  assert.equal(got.errors, want.errors, `${who}: error records`)
}

/**
 * Waits until `group` committed `targets` (default: the end offsets of `topic`) in every
 * partition; fails as soon as the detector stops.
 */
export async function waitDecided(
  detector: Running,
  group: string,
  topic: string,
  targets?: readonly number[]
): Promise<void> {
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  try {
    const ends = targets ?? (await admin.endOffsets(topic))
    let last: number[] = []
    const outcome = await waitFor(
      async () => {
        if (detector.child.exitCode !== null) return 'stopped'
        last = await admin.committedOffsets(group, topic)
        return last.every((c, i) => c >= ends[i]!) && 'committed'
      },
      { what: `group ${group} to commit ${ends.join(',')} on ${topic}`, timeoutMs: 120_000, intervalMs: 200 }
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; committed ${last.join(',')}`)
    })
    assert.equal(outcome, 'committed', `the detector stopped: ${detector.stderr}`)
  } finally {
    await admin.close()
  }
}
