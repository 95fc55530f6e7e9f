import assert from 'node:assert/strict'
import { createClient } from 'redis'
import { test } from 'node:test'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { REDIS_URL, uniqueName } from '../helpers/services.ts'

test('Redis state store: pipelined MSET/MGET round trip and atomic batch', async t => {
  const store = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: `${uniqueName('test')}:` })
  t.after(async () => {
    await store.clear()
    await store.close()
  })
  assert.equal(await store.ping(), true)
  const puts = Array.from({ length: 5_000 }, (_, i) => [`cust:${i}`, JSON.stringify({ n: i })] as const)
  await store.writeBatch(puts)
  const keys = puts.map(p => p[0])
  const values = await store.getMany([...keys, 'cust:missing'])
  assert.equal(values.length, 5_001)
  assert.deepEqual(JSON.parse(values[4_999]!), { n: 4_999 })
  assert.equal(values[5_000], null)

  await store.writeBatch([['cust:0', '{"n":-1}']], ['cust:1'])
  const [a, b] = await store.getMany(['cust:0', 'cust:1'])
  assert.equal(a, '{"n":-1}')
  assert.equal(b, null)
})

test('Redis state store: an unreachable Redis fails with one clear retriable error', async () => {
  await assert.rejects(
    RedisStateStore.connect({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 500 }),
    (e: Error & { code?: string; retriable?: boolean }) => {
      assert.equal(e.code, 'DAROOGHE_ERR_REDIS')
      assert.equal(e.retriable, true)
      assert.match(e.message, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/)
      return true
    }
  )
})

test('Redis state store: a fenced write checks its guards and applies everything, or nothing', async t => {
  const store = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: `${uniqueName('test')}:` })
  t.after(async () => {
    await store.clear()
    await store.close()
  })
  // 1 200 puts: past the script's 256 keys, so the WATCH/MULTI path; the writes after it are small.
  const puts = Array.from({ length: 1_200 }, (_, i) => [`c:${i}`, `v${i}`] as const)
  await store.writeBatch([...puts, ['p:t:0', '10|100']], ['gone'], [['p:t:0', null]])
  assert.deepEqual(await store.getMany(['c:0', 'c:1199', 'p:t:0']), ['v0', 'v1199', '10|100'])

  // Another instance moved the progress on: this one's stale guard fails, nothing is written.
  await store.writeBatch([['p:t:0', '20|200']], [], [['p:t:0', '10|100']])
  await assert.rejects(
    store.writeBatch(
      [
        ['c:0', 'stale'],
        ['p:t:0', '11|110']
      ],
      ['c:1'],
      [['p:t:0', '10|100']]
    ),
    (e: Error & { code?: string; retriable?: boolean }) => {
      assert.equal(e.code, 'DAROOGHE_ERR_STATE_CONFLICT')
      assert.equal(e.retriable, true)
      return true
    }
  )
  assert.deepEqual(await store.getMany(['c:0', 'c:1', 'p:t:0']), ['v0', 'v1', '20|200'])
  // Text with any characters and binary values survive unchanged.
  const text = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i))
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i))
  await store.writeBatch(
    [
      ['b:t:0', text],
      ['r:t:0', bytes]
    ],
    ['c:2'],
    [['p:t:0', '20|200']]
  )
  assert.deepEqual(await store.getMany(['b:t:0', 'c:2']), [text, null])
  assert.deepEqual(await store.getManyBytes(['r:t:0', 'c:2']), [bytes, null])

  // Journals: appends extend a value in the same atomic, guarded write; a stale guard appends nothing.
  await store.writeBatch([['p:t:0', '21|210']], [], [['p:t:0', '20|200']], [['j:t:0', bytes.subarray(0, 3)]])
  await store.writeBatch([['p:t:0', '22|220']], [], [['p:t:0', '21|210']], [['j:t:0', bytes.subarray(3, 5)]])
  await assert.rejects(
    store.writeBatch([], [], [['p:t:0', '21|210']], [['j:t:0', bytes]]),
    /changed since it was read/
  )
  assert.deepEqual(await store.getManyBytes(['j:t:0']), [bytes.subarray(0, 5)])
  // Compaction: the journal deleted and a new one started in one write.
  await store.writeBatch(
    [['p:t:0', '23|230']],
    ['j:t:0'],
    [['p:t:0', '22|220']],
    [['j:t:0', bytes.subarray(9, 10)]]
  )
  assert.deepEqual(await store.getManyBytes(['j:t:0']), [bytes.subarray(9, 10)])

  // A large write (WATCH/MULTI) with a stale guard writes nothing either.
  const many = Array.from({ length: 300 }, (_, i) => [`c:${i}`, 'stale'] as const)
  await assert.rejects(
    store.writeBatch([...many], ['c:3'], [['p:t:0', '22|220']]),
    /changed since it was read/
  )
  assert.deepEqual(await store.getMany(['c:0', 'c:299', 'c:3', 'p:t:0']), ['v0', 'v299', 'v3', '23|230'])
  // The server forgot its scripts (a restart, SCRIPT FLUSH): the next small write loads it again.
  const admin = createClient({ url: REDIS_URL })
  await admin.connect()
  await admin.scriptFlush()
  await admin.close()
  await store.writeBatch(
    [['p:t:0', '24|240']],
    ['c:4'],
    [['p:t:0', '23|230']],
    [['j:t:0', bytes.subarray(0, 1)]]
  )
  assert.deepEqual(await store.getMany(['p:t:0', 'c:4']), ['24|240', null])
  assert.deepEqual(await store.getManyBytes(['j:t:0']), [
    Buffer.concat([bytes.subarray(9, 10), bytes.subarray(0, 1)])
  ])
})

test('Redis state store: two instances racing on one guard: exactly one write lands', async t => {
  const prefix = `${uniqueName('test')}:`
  const a = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: prefix })
  const b = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: prefix })
  t.after(async () => {
    await a.clear()
    await a.close()
    await b.close()
  })
  for (let round = 0; round < 20; round++) {
    const expected = round === 0 ? null : (await a.getMany(['p:t:0']))[0]!
    const write = (s: RedisStateStore, who: string): Promise<string> =>
      s
        .writeBatch(
          [
            [`c:${who}`, `${who}${round}`],
            ['p:t:0', `${who}|${round}`]
          ],
          [],
          [['p:t:0', expected]]
        )
        .then(
          () => who,
          (e: { code?: string }) => {
            assert.equal(e.code, 'DAROOGHE_ERR_STATE_CONFLICT')
            return ''
          }
        )
    const winners = (await Promise.all([write(a, 'a'), write(b, 'b')])).filter(w => w !== '')
    assert.equal(winners.length, 1, `round ${round}: one winner`)
    const w = winners[0]!
    // The winner's values and progress, all of them; the loser's, none.
    assert.deepEqual(await a.getMany(['p:t:0', `c:${w}`]), [`${w}|${round}`, `${w}${round}`])
    if (round === 0) assert.deepEqual(await a.getMany([`c:${w === 'a' ? 'b' : 'a'}`]), [null])
  }
})
