/**
 * Guards a bump of @platformatic/kafka. The direct data path (fetcher.ts, producer.ts,
 * produce-request.ts, record-batches.ts) uses parts of the library that are not its public
 * API: symbols, the connection pool, the fetch request builders, Writer/Reader internals. A
 * minor release may change any of them without notice, so the version is pinned and this test
 * checks every assumption. When it fails after a bump, follow "Bumping @platformatic/kafka" in
 * src/adapters/kafka/README.md before changing the pin here.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  compressionsAlgorithmsByBitmask,
  Connection,
  ConnectionPool,
  Consumer,
  crc32c,
  fetchV12,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  kGetApi,
  kGetConnection,
  kOptions,
  Producer,
  Reader,
  Writer
} from '@platformatic/kafka'

const PINNED = '1.35.0'
const BUMP =
  'the direct Kafka data path relies on this library internal: re-verify it (see ' +
  '"Bumping @platformatic/kafka" in src/adapters/kafka/README.md), or run with ' +
  'darooghe.kafka.data.path=library until the direct path is adapted'

function packageJson(path: string): { version?: string; dependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(path, 'utf8')) as { version?: string; dependencies?: Record<string, string> }
}

test('the installed @platformatic/kafka is the exact version package.json pins', () => {
  const ours = packageJson(fileURLToPath(new URL('../../package.json', import.meta.url)))
  const spec = ours.dependencies?.['@platformatic/kafka']
  assert.equal(
    spec,
    PINNED,
    `package.json must pin @platformatic/kafka exactly (no ^ or ~): the direct data path uses its internals; ${BUMP}`
  )
  const entry = fileURLToPath(import.meta.resolve('@platformatic/kafka'))
  const installed = packageJson(new URL('../package.json', `file://${entry}`).pathname).version
  assert.equal(
    installed,
    PINNED,
    `installed @platformatic/kafka ${installed} is not the pinned ${PINNED}: run npm ci`
  )
})

test('the internal symbols are exported and the clients implement them', () => {
  for (const [name, s] of Object.entries({ kGetApi, kGetConnection, kOptions })) {
    assert.equal(typeof s, 'symbol', `${name} is no longer a symbol export; ${BUMP}`)
  }
  assert.equal(typeof Consumer.prototype[kGetApi], 'function', `Consumer[kGetApi]; ${BUMP}`)
  assert.equal(typeof Producer.prototype[kGetApi], 'function', `Producer[kGetApi]; ${BUMP}`)
  assert.equal(typeof Producer.prototype[kGetConnection], 'function', `Producer[kGetConnection]; ${BUMP}`)
})

test('a client keeps its connection options under kOptions (the fetcher copies them)', async () => {
  const consumer = new Consumer({
    clientId: 'guard',
    bootstrapBrokers: ['127.0.0.1:1'],
    groupId: 'guard',
    timeout: 1234,
    retries: 2,
    tls: { rejectUnauthorized: false },
    sasl: { mechanism: 'PLAIN', username: 'u', password: 'p' }
  })
  try {
    const options = consumer[kOptions] as unknown as Record<string, unknown>
    assert.equal(options.clientId, 'guard', `kOptions.clientId; ${BUMP}`)
    assert.deepEqual(options.bootstrapBrokers, ['127.0.0.1:1'], `kOptions.bootstrapBrokers; ${BUMP}`)
    // TLS and SASL must reach the fetcher's own pool through these options.
    assert.deepEqual(options.tls, { rejectUnauthorized: false }, `kOptions.tls; ${BUMP}`)
    assert.equal((options.sasl as { mechanism?: string }).mechanism, 'PLAIN', `kOptions.sasl; ${BUMP}`)
    const pool = new ConnectionPool('guard-fetch', options)
    assert.equal(typeof pool.get, 'function', `ConnectionPool.get(broker); ${BUMP}`)
    assert.equal(typeof pool.close, 'function', `ConnectionPool.close(); ${BUMP}`)
    await pool.close()
  } finally {
    await consumer.close(true)
  }
})

test('Connection.send takes (apiKey, version, payload, parser, reqTags, resTags, callback)', () => {
  assert.equal(Connection.prototype.send.length, 7, `Connection.send arity; ${BUMP}`)
})

test('the fetch request builders v12..v17 take the nine arguments the fetcher passes', () => {
  const builders = { 12: fetchV12, 13: fetchV13, 14: fetchV14, 15: fetchV15, 16: fetchV16, 17: fetchV17 }
  const topicId = '0123456789abcdef0123456789abcdef'.replace(
    /(.{8})(.{4})(.{4})(.{4})(.{12})/,
    '$1-$2-$3-$4-$5'
  )
  for (const [version, api] of Object.entries(builders)) {
    const v = Number(version)
    assert.equal(api.createRequest.length, 9, `fetchV${v}.createRequest arity; ${BUMP}`)
    const topics = [
      {
        topicId: v >= 13 ? topicId : 'payments',
        partitions: [
          {
            partition: 3,
            currentLeaderEpoch: -1,
            fetchOffset: 42n,
            lastFetchedEpoch: -1,
            partitionMaxBytes: 512
          }
        ]
      }
    ]
    const writer = api.createRequest(777, 1, 4096, 1, 0, -1, topics, [], '')
    assert.ok(writer instanceof Writer, `fetchV${v}.createRequest returns a Writer; ${BUMP}`)
    const bytes = writer.buffer
    // v12-v14 start with replica_id (-1), v15+ moved it to a tagged field: max_wait_ms first.
    const maxWaitAt = v >= 15 ? 0 : 4
    if (v < 15) assert.equal(bytes.readInt32BE(0), -1, `fetchV${v} replica_id; ${BUMP}`)
    assert.equal(bytes.readInt32BE(maxWaitAt), 777, `fetchV${v} max_wait_ms position; ${BUMP}`)
    assert.equal(bytes.readInt32BE(maxWaitAt + 8), 4096, `fetchV${v} max_bytes position; ${BUMP}`)
    assert.equal(bytes.readInt8(maxWaitAt + 12), 1, `fetchV${v} isolation_level position; ${BUMP}`)
    assert.ok(
      bytes.includes(Buffer.from([0, 0, 0, 0, 0, 0, 0, 42])),
      `fetchV${v} carries fetch_offset; ${BUMP}`
    )
  }
})

test('Writer, Reader and crc32c behave as produce-request.ts and fetcher.ts assume', () => {
  const writer = Writer.create().append(Buffer.from([1, 2, 3]))
  assert.deepEqual([...writer.buffer], [1, 2, 3], `Writer.create().append(); ${BUMP}`)
  assert.equal(writer.length, 3, `Writer.length; ${BUMP}`)
  assert.equal(typeof writer.context, 'object', `Writer.context (noResponse flag); ${BUMP}`)
  const reader = Reader.from(Buffer.from([9, 8, 7, 6]))
  reader.position = 2
  // The parsers read reader.buffer.buffer from reader.position as one contiguous Buffer.
  assert.ok(Buffer.isBuffer(reader.buffer.buffer), `Reader.buffer.buffer is a Buffer; ${BUMP}`)
  assert.equal(
    reader.buffer.buffer[reader.position],
    7,
    `Reader.position indexes Reader.buffer.buffer; ${BUMP}`
  )
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283, `crc32c check value; ${BUMP}`)
})

test('compressionsAlgorithmsByBitmask maps the record-batch codec bits to decompressSync', () => {
  for (const codec of [1, 2, 3, 4]) {
    const algorithm = (compressionsAlgorithmsByBitmask as Record<number, { decompressSync?: unknown }>)[codec]
    assert.equal(typeof algorithm?.decompressSync, 'function', `codec ${codec}; ${BUMP}`)
  }
  const gzip = compressionsAlgorithmsByBitmask[1]!
  const packed = (gzip as unknown as { compressSync(b: Buffer): Buffer }).compressSync(
    Buffer.from('darooghe')
  )
  assert.equal(gzip.decompressSync(packed).toString(), 'darooghe', `gzip round trip; ${BUMP}`)
})
