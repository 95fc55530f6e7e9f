import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { runDetector } from '../../src/apps/detector/index.ts'
import type { GeneratedRecord } from '../../src/apps/generator/index.ts'
import { createProcessor, loadRuleSet, processorOptions } from '../../src/apps/processor/index.ts'
import { silentLogger } from '../../src/logger.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { start, type Running } from '../helpers/cli.ts'
import { DATA_PATHS } from '../helpers/data-paths.ts'
import type { KafkaDataPath } from '../../src/adapters/kafka/options.ts'
import { KAFKA_BROKERS, REDIS_URL, uniqueName, waitFor } from '../helpers/services.ts'
import {
  clearStateAfter,
  detectorArgs,
  generate,
  type Json,
  makeTopics,
  parse,
  produceAll,
  readTopics,
  type Topics,
  waitCommitted
} from '../helpers/pipeline.ts'

const FRAUD_RULE: Record<string, string> = {
  velocity: 'velocity',
  impossible_travel: 'impossible_travel',
  amount_anomaly: 'amount_anomaly'
}
const ERROR_CODE: Record<string, string> = {
  invalid_amount: 'ERR_AMOUNT',
  invalid_time_future: 'ERR_TIME',
  invalid_time_old: 'ERR_TIME',
  invalid_device: 'ERR_DEVICE',
  invalid_schema: 'ERR_SCHEMA',
  malformed_json: 'ERR_SCHEMA'
}

for (const dataPath of DATA_PATHS) {
  test(`generator → Kafka → detector → topics (${dataPath} data path): scenarios flagged by the right rule, errors coded, no false positives`, async t => {
    const topics = await makeTopics(t)
    const records = generate(12_000, 'detector-e2e')
    await produceAll(topics.input, records)

    const group = uniqueName('g-detect')
    const store = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: `${group}:` })
    t.after(async () => {
      await store.clear()
      await store.close()
    })
    const processor = createProcessor({
      store,
      ruleSet: loadRuleSet('default'),
      options: processorOptions({ topics })
    })
    const consumer = new KafkaLogConsumer({
      brokers: KAFKA_BROKERS,
      dataPath,
      groupId: group,
      topics: [topics.input]
    })
    const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS, dataPath })
    t.after(() => producer.close())
    const running = runDetector({ consumer, producer, processor, log: silentLogger })
    await waitCommitted(group, topics.input)
    await consumer.close()
    await running

    const valid = records.filter(r => !(r.label in ERROR_CODE))
    const outputs = await readTopics([topics.approved, topics.fraud, topics.errors, topics.alerts], recs => {
      const decided = recs.filter(r => r.topic === topics.approved || r.topic === topics.fraud).length
      const errors = recs.filter(r => r.topic === topics.errors).length
      return decided >= valid.length && errors >= records.length - valid.length
    })
    const decisions = new Map<string, Json>()
    const errors = new Map<string, Json>()
    const alerts = new Set<string>()
    for (const r of outputs) {
      const v = parse(r)
      if (r.topic === topics.errors) {
        // Undecodable payloads keep their bytes (base64); the id may not be readable from them.
        const raw = v.original_base64 ? Buffer.from(v.original_base64 as string, 'base64').toString() : null
        errors.set(raw ?? (v.transaction_id as string), v)
        if (v.transaction_id) errors.set(v.transaction_id as string, v)
      } else if (r.topic === topics.alerts) alerts.add(v.transaction_id as string)
      else decisions.set(v.transaction_id as string, v)
    }
    let scenarios = 0
    for (const r of records) {
      const code = ERROR_CODE[r.label]
      if (code !== undefined) {
        const e = errors.get(r.transactionId) ?? errors.get(r.raw)
        assert.ok(e, `${r.label} ${r.transactionId} is in the error topic`)
        assert.ok((e.error_codes as string[]).includes(code), `${r.label} carries ${code}`)
        continue
      }
      const d = decisions.get(r.transactionId)
      assert.ok(d, `${r.transactionId} (${r.label}) has a decision`)
      const rule = FRAUD_RULE[r.label]
      if (rule !== undefined) {
        scenarios++
        assert.equal(d.decision, 'fraud', `${r.label} ${r.transactionId} is fraud`)
        assert.ok((d.rules_fired as string[]).includes(rule), `${r.label} fired ${rule}`)
        assert.ok(alerts.has(r.transactionId), 'fraud raises an alert')
      } else if (r.label === 'legit') {
        assert.equal(
          d.decision,
          'approved',
          `legit ${r.transactionId} is not flagged (rules ${String(d.rules_fired)})`
        )
      }
    }
    assert.ok(scenarios > 50, `the stream had injected fraud (${scenarios})`)
  })

  test(`exactly-once in process (${dataPath} data path): two instances in turn, a read_committed reader sees each decision once`, async t => {
    const topics = await makeTopics(t)
    const records = generate(6_000, `detector-eos-${dataPath}`)
    await produceAll(topics.input, records)
    const group = uniqueName('g-eos-inproc')
    const store = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: `${group}:` })
    t.after(async () => {
      await store.clear()
      await store.close()
    })
    const instance = (name: string) => {
      const producer = new KafkaLogProducer({
        brokers: KAFKA_BROKERS,
        dataPath,
        transactionalId: uniqueName(`tx-${name}`),
        timeoutMs: 10_000
      })
      const consumer = new KafkaLogConsumer({
        brokers: KAFKA_BROKERS,
        dataPath,
        groupId: group,
        topics: [topics.input],
        maxBatchRecords: 500,
        transactionalProducer: producer
      })
      const processor = createProcessor({
        store,
        ruleSet: loadRuleSet('default'),
        options: processorOptions({ topics })
      })
      t.after(async () => {
        await consumer.close()
        await producer.close()
      })
      return {
        consumer,
        producer,
        running: runDetector({ consumer, producer, processor, log: silentLogger })
      }
    }
    // The first instance stops part-way (its open transaction, if any, is aborted); the second
    // takes over from the offsets the transactions committed.
    const first = instance('first')
    await waitFor(async () => (await committedTotal(group, topics.input)) >= 1_500, {
      what: 'transactional commits past 1500',
      timeoutMs: 90_000,
      intervalMs: 100
    })
    await first.consumer.close()
    await first.running
    await first.producer.close()
    const second = instance('second')
    await waitCommitted(group, topics.input)
    await second.consumer.close()
    await second.running

    const valid = records.filter(r => !(r.label in ERROR_CODE))
    const outputs = await readTopics([topics.approved, topics.fraud], recs => recs.length >= valid.length)
    const ids = outputs.map(r => parse(r).transaction_id as string)
    assert.equal(new Set(ids).size, valid.length, 'every valid event decided')
    assert.equal(ids.length, valid.length, 'and none twice')
  })
}

/** The decision content that depends on state (not on processing time). */
function content(v: Json): string {
  return JSON.stringify([v.decision, v.risk_score, v.rules_fired, v.trace])
}

/** Decisions of the same records processed once, in memory, without crashes: the reference. */
async function referenceDecisions(records: readonly GeneratedRecord[], partitionOf: Map<string, number>) {
  const processor = createProcessor({ store: new MemoryStateStore(), ruleSet: loadRuleSet('default') })
  const byPartition = new Map<number, LogRecord[]>()
  for (const r of records) {
    const p = partitionOf.get(r.transactionId)!
    const list = byPartition.get(p) ?? []
    list.push({
      topic: 'in',
      partition: p,
      offset: list.length,
      key: Buffer.from(r.key),
      value: Buffer.from(r.raw),
      headers: {},
      timestamp: r.eventTimeMs
    })
    byPartition.set(p, list)
  }
  const out = new Map<string, string>()
  for (const list of byPartition.values()) {
    const { outputs } = await processor.processBatch(list)
    for (const o of outputs) {
      const v = JSON.parse(o.value!.toString()) as Json
      if (v.decision !== undefined && v.alert_id === undefined)
        out.set(v.transaction_id as string, content(v))
    }
  }
  return out
}

function startDetector(
  topics: Topics,
  group: string,
  dataPath: KafkaDataPath,
  extra: string[] = []
): Running {
  return start(
    ['detect', ...extra, ...detectorArgs(topics, group), '--batch-size', '1000', '--log-level', 'warn'],
    { env: { DAROOGHE_KAFKA_DATA_PATH: dataPath } }
  )
}

async function committedTotal(group: string, topic: string): Promise<number> {
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  try {
    return (await admin.committedOffsets(group, topic)).reduce((a, b) => a + Math.max(0, b), 0)
  } finally {
    await admin.close()
  }
}

async function checkNothingLostNorDoubleCounted(topics: Topics, records: GeneratedRecord[]): Promise<void> {
  const valid = records.filter(r => !(r.label in ERROR_CODE))
  const outputs = await readTopics([topics.approved, topics.fraud], recs => {
    const ids = new Set(recs.map(r => parse(r).transaction_id))
    return ids.size >= valid.length
  })
  const partitionOf = new Map<string, number>()
  const first = new Map<string, string>()
  for (const r of outputs) {
    const v = parse(r)
    const id = v.transaction_id as string
    const bytes = r.value!.toString()
    const prev = first.get(id)
    if (prev !== undefined) assert.equal(bytes, prev, `re-emitted decision for ${id} is byte-identical`)
    else first.set(id, bytes)
    partitionOf.set(id, (v.source as { partition: number }).partition)
  }
  for (const r of valid) assert.ok(first.has(r.transactionId), `${r.transactionId} was decided`)
  const reference = await referenceDecisions(valid, partitionOf)
  for (const [id, bytes] of first) {
    assert.equal(
      content(JSON.parse(bytes) as Json),
      reference.get(id),
      `decision for ${id} as without crashes`
    )
  }
}

for (const dataPath of DATA_PATHS) {
  test(`detector killed with SIGKILL three times mid-stream (${dataPath} data path): nothing lost, state never double-counted`, async t => {
    const topics = await makeTopics(t)
    const records = generate(15_000, 'detector-kill')
    await produceAll(topics.input, records)
    const group = uniqueName('g-kill')
    clearStateAfter(t, group)
    const marks = [2_000, 6_000, 10_000]
    for (const mark of marks) {
      const d = startDetector(topics, group, dataPath)
      t.after(() => d.child.kill('SIGKILL'))
      await waitFor(async () => (await committedTotal(group, topics.input)) >= mark, {
        what: `commits past ${mark}`,
        timeoutMs: 90_000,
        intervalMs: 100
      })
      d.child.kill('SIGKILL')
      await d.exited
    }
    const last = startDetector(topics, group, dataPath)
    t.after(() => last.child.kill('SIGKILL'))
    await waitCommitted(group, topics.input)
    last.child.kill('SIGTERM')
    await last.exited
    await checkNothingLostNorDoubleCounted(topics, records)
  })

  test(`two detectors in one group, one killed (${dataPath} data path): the other takes its partitions and decides every event`, async t => {
    const topics = await makeTopics(t)
    const records = generate(10_000, 'detector-pair')
    const group = uniqueName('g-pair')
    clearStateAfter(t, group)
    const a = startDetector(topics, group, dataPath)
    const b = startDetector(topics, group, dataPath)
    t.after(() => a.child.kill('SIGKILL'))
    t.after(() => b.child.kill('SIGKILL'))
    await produceAll(topics.input, records.slice(0, 4_000))
    await waitFor(async () => (await committedTotal(group, topics.input)) >= 2_000, {
      what: 'the pair to start deciding',
      timeoutMs: 90_000,
      intervalMs: 100
    })
    a.child.kill('SIGKILL')
    await a.exited
    await produceAll(topics.input, records.slice(4_000))
    await waitCommitted(group, topics.input)
    b.child.kill('SIGTERM')
    await b.exited
    await checkNothingLostNorDoubleCounted(topics, records)
  })

  test(`exactly-once (${dataPath} data path): a read_committed reader sees each decision exactly once across SIGKILLs`, async t => {
    const topics = await makeTopics(t)
    const records = generate(8_000, 'detector-eos')
    await produceAll(topics.input, records)
    const group = uniqueName('g-eos')
    clearStateAfter(t, group)
    const eos = ['--exactly-once', '--instance-id', 'test-instance']
    for (const mark of [1_500, 4_500]) {
      const d = startDetector(topics, group, dataPath, eos)
      t.after(() => d.child.kill('SIGKILL'))
      await waitFor(async () => (await committedTotal(group, topics.input)) >= mark, {
        what: `transactional commits past ${mark}`,
        // A restarted instance waits for its crashed predecessor's transaction to be rolled back.
        timeoutMs: 150_000,
        intervalMs: 100
      })
      d.child.kill('SIGKILL')
      await d.exited
    }
    const last = startDetector(topics, group, dataPath, eos)
    t.after(() => last.child.kill('SIGKILL'))
    await waitCommitted(group, topics.input)
    last.child.kill('SIGTERM')
    await last.exited

    const valid = records.filter(r => !(r.label in ERROR_CODE))
    const outputs = await readTopics([topics.approved, topics.fraud], recs => recs.length >= valid.length)
    // Everything committed is read; a duplicate would make the count exceed the valid events.
    const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
    t.after(() => admin.close())
    const ids = outputs.map(r => parse(r).transaction_id as string)
    assert.equal(new Set(ids).size, valid.length, 'every valid event decided')
    assert.equal(ids.length, valid.length, 'and none twice')
  })
}
