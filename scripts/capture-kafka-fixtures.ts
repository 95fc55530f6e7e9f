/**
 * Captures the Kafka protocol fixtures of test/fixtures/kafka/ from a running broker and kcat:
 *
 * - `fetch-v12.hex` … `fetch-v17.hex`: Fetch response bodies (after the response header) for a
 *   topic whose partition i kcat wrote with compression i (none, gzip, snappy, lz4, zstd);
 * - `produce-v9.hex` … `produce-v11.hex`: our Produce request bodies for fixed records, and
 *   `produce-v9-response.hex` …: the broker's response bodies to them;
 * - `fixtures.json`: what the tests compare against (topic, topic id, the records kcat wrote,
 *   the produce request's records and time).
 *
 * Usage: node --import tsx scripts/capture-kafka-fixtures.ts [host:port]   (default 127.0.0.1:9092)
 * Run it again only when the fixtures must change (a new protocol version): the unit tests read
 * the files and need no broker.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import {
  Admin,
  Connection,
  fetchV12,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  type Reader
} from '@platformatic/kafka'
import type { OutRecord } from '../src/ports/log.ts'
import { encodeProduceRequest } from '../src/adapters/kafka/protocol/produce-v9-v11.ts'

const broker = process.argv[2] ?? '127.0.0.1:9092'
const [host, port] = broker.split(':') as [string, string]
const dir = new URL('../test/fixtures/kafka/', import.meta.url)
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
const FETCH = { 12: fetchV12, 13: fetchV13, 14: fetchV14, 15: fetchV15, 16: fetchV16, 17: fetchV17 }

/** The lines kcat writes to each partition: `key|value`, and one without a key. */
function kcatLines(codec: string): string[] {
  const lines = []
  for (let n = 0; n < 4; n++)
    lines.push(`k-${codec}-${n}|{"n":${n},"codec":"${codec}","pad":"${'x'.repeat(40 * n)}"}`)
  lines.push(`no key for ${codec}`)
  return lines
}

const PRODUCE_NOW = 1_767_225_600_000
function produceRecords(topic: string): OutRecord[] {
  return [
    { topic, partition: 0, key: 'c-1', value: '{"amount":120000}', headers: { label: 'legit' } },
    { topic, partition: 0, key: null, value: 'no key', timestamp: PRODUCE_NOW + 7 },
    { topic, partition: 1, key: 'c-2', value: Buffer.from([0, 1, 2, 255]), headers: {} },
    { topic, partition: 1, key: 'ü', value: null, timestamp: PRODUCE_NOW - 3 }
  ]
}

function send<T>(c: Connection, apiKey: number, version: number, body: () => never): Promise<T> {
  return new Promise((resolve, reject) => {
    const capture = (_id: number, _key: number, _v: number, reader: Reader) =>
      Buffer.from(reader.buffer.buffer.subarray(reader.position))
    c.send(apiKey, version, body, capture as never, true, true, (error, value) =>
      error ? reject(error) : resolve(value as T)
    )
  })
}

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true })
  const suffix = randomUUID().slice(0, 8)
  const codecTopic = `fixtures-codecs-${suffix}`
  const produceTopic = `fixtures-produce-${suffix}`
  const admin = new Admin({ clientId: 'fixtures', bootstrapBrokers: [broker] })
  const connection = new Connection('fixtures')
  try {
    await admin.createTopics({ topics: [codecTopic], partitions: CODECS.length, replicas: 1 })
    await admin.createTopics({ topics: [produceTopic], partitions: 2, replicas: 1 })
    for (const [partition, codec] of CODECS.entries()) {
      execFileSync(
        'kcat',
        [
          '-P',
          '-b',
          broker,
          '-t',
          codecTopic,
          '-p',
          String(partition),
          '-z',
          codec,
          '-K',
          '|',
          '-H',
          'via=kcat'
        ],
        { input: kcatLines(codec).join('\n') + '\n' }
      )
    }
    const metadata = await admin.metadata({ topics: [codecTopic] })
    const topicId = metadata.topics.get(codecTopic)!.id
    await connection.connect(host, Number(port))
    for (const [version, api] of Object.entries(FETCH)) {
      const v = Number(version)
      const topics = [
        {
          topicId: v >= 13 ? topicId : codecTopic,
          partitions: CODECS.map((_, partition) => ({
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: 0n,
            lastFetchedEpoch: -1,
            partitionMaxBytes: 1 << 20
          }))
        }
      ]
      const body = await send<Buffer>(connection, 1, v, () =>
        (api.createRequest as (...a: unknown[]) => never)(0, 1, 1 << 20, 0, 0, -1, topics, [], '')
      )
      writeFileSync(new URL(`fetch-v${v}.hex`, dir), body.toString('hex') + '\n')
    }
    const records = produceRecords(produceTopic)
    const batches = [
      { topic: produceTopic, partition: 0, indexes: [0, 1], baseSequence: -1 },
      { topic: produceTopic, partition: 1, indexes: [2, 3], baseSequence: -1 }
    ]
    for (const v of [9, 10, 11]) {
      const request = encodeProduceRequest(records, batches, -1, 30_000, null, PRODUCE_NOW)
      writeFileSync(new URL(`produce-v${v}.hex`, dir), request.buffer.toString('hex') + '\n')
      const body = await send<Buffer>(connection, 0, v, () => request as never)
      writeFileSync(new URL(`produce-v${v}-response.hex`, dir), body.toString('hex') + '\n')
    }
    const fixtures = {
      capturedWith: {
        broker: 'Apache Kafka 4.1 (KRaft)',
        kcat: execFileSync('kcat', ['-V']).toString().split('\n')[0]
      },
      codecTopic,
      topicId,
      kcat: Object.fromEntries(
        CODECS.map((codec, partition) => [partition, { codec, lines: kcatLines(codec) }])
      ),
      produce: {
        topic: produceTopic,
        now: PRODUCE_NOW,
        records: records.map(r => ({
          ...r,
          key: r.key ?? null,
          value: Buffer.isBuffer(r.value) ? { hex: r.value.toString('hex') } : r.value
        }))
      }
    }
    writeFileSync(new URL('fixtures.json', dir), JSON.stringify(fixtures, null, 2) + '\n')
    await admin.deleteTopics({ topics: [codecTopic, produceTopic] })
    console.log(`fixtures written to ${dir.pathname}`)
  } finally {
    await connection.close().catch(() => {})
    await admin.close()
  }
}

await main()
