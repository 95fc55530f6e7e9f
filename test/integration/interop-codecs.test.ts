/**
 * Compressed record batches from a client nobody here wrote: kcat (librdkafka) produces the
 * generator's events with each codec, a real `darooghe detect` decides them, kcat reads the
 * outputs back, and they are what independent file-mode runs decide for the same events.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { start } from '../helpers/cli.ts'
import { assertSameOutcome, fileModeOutcome, outcomeOf, waitDecided } from '../helpers/interop.ts'
import { kcatConsume, kcatConsumeTopics, kcatProduce, type KcatCodec } from '../helpers/kcat.ts'
import { clearStateAfter, detectorArgs, generate, makeTopics } from '../helpers/pipeline.ts'
import { KAFKA_BROKERS, uniqueName } from '../helpers/services.ts'

const CODECS: readonly KcatCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const PARTITIONS = 3
const EVENTS = generate(1_500, 'interop-codecs')

/** Bytes the broker keeps for `topic`: compressed batches stay compressed on disk. */
async function storedBytes(topic: string): Promise<number> {
  const admin = new Admin({ clientId: 'test-log-dirs', bootstrapBrokers: KAFKA_BROKERS })
  try {
    const partitions = Array.from({ length: PARTITIONS }, (_, i) => i)
    const dirs = await admin.describeLogDirs({ topics: [{ name: topic, partitions }] })
    let total = 0
    for (const broker of dirs)
      for (const dir of broker.results)
        for (const t of dir.topics) for (const p of t.partitions) total += Number(p.partitionSize)
    return total
  } finally {
    await admin.close()
  }
}

/** The input's records per partition, in offset order, as kcat reads them back. */
async function partitionsOf(topic: string): Promise<Map<number, Buffer[]>> {
  const byPartition = new Map<number, Buffer[]>()
  for (const r of await kcatConsume(topic)) {
    const list = byPartition.get(r.partition) ?? []
    list.push(r.value!)
    byPartition.set(r.partition, list)
  }
  return byPartition
}

for (const codec of CODECS) {
  test(`kcat -z ${codec} → darooghe detect → kcat -C: every decision as file mode decides it`, async t => {
    const topics = await makeTopics(t, PARTITIONS)
    const records = EVENTS.map(e => ({ key: e.key, value: Buffer.from(e.raw) }))
    // librdkafka's own partitioner by key: each customer's events stay in order in one partition.
    await kcatProduce(topics.input, records, { partition: null, compression: codec })

    const raw = records.reduce((n, r) => n + r.value.length, 0)
    const stored = await storedBytes(topics.input)
    if (codec === 'none') assert.ok(stored > raw, `uncompressed: ${stored} stored bytes for ${raw}`)
    else assert.ok(stored < raw * 0.7, `${codec} batches kept compressed: ${stored} stored bytes for ${raw}`)

    const group = uniqueName(`g-codec-${codec}`)
    clearStateAfter(t, group)
    const args = ['detect', ...detectorArgs(topics, group), '--batch-size', '500', '--log-level', 'warn']
    const detector = start(args)
    t.after(() => detector.child.kill('SIGKILL'))
    await waitDecided(detector, group, topics.input)

    const got = outcomeOf(
      topics,
      await kcatConsumeTopics([topics.approved, topics.fraud, topics.alerts, topics.errors])
    )
    const want = await fileModeOutcome(await partitionsOf(topics.input))
    assert.ok(want.decisions.size > 1_400 && want.alerts.size > 0, 'the reference decided the stream')
    assertSameOutcome(got, want, `kcat -z ${codec}`)

    detector.child.kill('SIGTERM')
    assert.equal(await detector.exited, 0, detector.stderr)
  })
}
