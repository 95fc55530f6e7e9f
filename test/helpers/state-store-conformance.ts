import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { uniqueName } from './services.ts'

/**
 * The RedisStateStore's behaviour, the same on one server and on a Redis Cluster. The keys of
 * the guarded writes share a hash tag (`{t:0}`), as the processor's keys of one partition do.
 */
export interface StateStoreTarget {
  /** `redis://...` of the server, or of one or more nodes of the cluster. */
  readonly url: string
  readonly ca?: string
  /** Makes every server forget its scripts (SCRIPT FLUSH on each master). */
  flushScripts(): Promise<void>
}

export function redisStateStoreConformance(label: string, target: StateStoreTarget): void {
  const connect = (keyPrefix: string): Promise<RedisStateStore> =>
    RedisStateStore.connect({ url: target.url, ...(target.ca ? { ca: target.ca } : {}), keyPrefix })
  describe(`Redis state store (${label})`, () => {
    test('pipelined MSET/MGET round trip and atomic batch', async t => {
      const store = await connect(`${uniqueName('test')}:`)
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

    test('a fenced write checks its guards and applies everything, or nothing', async t => {
      const store = await connect(`${uniqueName('test')}:`)
      t.after(async () => {
        await store.clear()
        await store.close()
      })
      // 1 200 puts: past the script's 256 keys, so the WATCH/MULTI path; the writes after it are small.
      const puts = Array.from({ length: 1_200 }, (_, i) => [`{t:0}c:${i}`, `v${i}`] as const)
      await store.writeBatch([...puts, ['{t:0}p', '10|100']], ['{t:0}gone'], [['{t:0}p', null]])
      assert.deepEqual(await store.getMany(['{t:0}c:0', '{t:0}c:1199', '{t:0}p']), ['v0', 'v1199', '10|100'])

      // Another instance moved the progress on: this one's stale guard fails, nothing is written.
      await store.writeBatch([['{t:0}p', '20|200']], [], [['{t:0}p', '10|100']])
      await assert.rejects(
        store.writeBatch(
          [
            ['{t:0}c:0', 'stale'],
            ['{t:0}p', '11|110']
          ],
          ['{t:0}c:1'],
          [['{t:0}p', '10|100']]
        ),
        (e: Error & { code?: string; retriable?: boolean }) => {
          assert.equal(e.code, 'DAROOGHE_ERR_STATE_CONFLICT')
          assert.equal(e.retriable, true)
          return true
        }
      )
      assert.deepEqual(await store.getMany(['{t:0}c:0', '{t:0}c:1', '{t:0}p']), ['v0', 'v1', '20|200'])
      // Text with any characters and binary values survive unchanged.
      const text = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i))
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i))
      await store.writeBatch(
        [
          ['{t:0}b', text],
          ['{t:0}r', bytes]
        ],
        ['{t:0}c:2'],
        [['{t:0}p', '20|200']]
      )
      assert.deepEqual(await store.getMany(['{t:0}b', '{t:0}c:2']), [text, null])
      assert.deepEqual(await store.getManyBytes(['{t:0}r', '{t:0}c:2']), [bytes, null])

      // Journals: appends extend a value in the same atomic, guarded write; a stale guard appends nothing.
      await store.writeBatch(
        [['{t:0}p', '21|210']],
        [],
        [['{t:0}p', '20|200']],
        [['{t:0}j', bytes.subarray(0, 3)]]
      )
      await store.writeBatch(
        [['{t:0}p', '22|220']],
        [],
        [['{t:0}p', '21|210']],
        [['{t:0}j', bytes.subarray(3, 5)]]
      )
      await assert.rejects(
        store.writeBatch([], [], [['{t:0}p', '21|210']], [['{t:0}j', bytes]]),
        /changed since it was read/
      )
      assert.deepEqual(await store.getManyBytes(['{t:0}j']), [bytes.subarray(0, 5)])
      // Compaction: the journal deleted and a new one started in one write.
      await store.writeBatch(
        [['{t:0}p', '23|230']],
        ['{t:0}j'],
        [['{t:0}p', '22|220']],
        [['{t:0}j', bytes.subarray(9, 10)]]
      )
      assert.deepEqual(await store.getManyBytes(['{t:0}j']), [bytes.subarray(9, 10)])

      // A large write (WATCH/MULTI) with a stale guard writes nothing either.
      const many = Array.from({ length: 300 }, (_, i) => [`{t:0}c:${i}`, 'stale'] as const)
      await assert.rejects(
        store.writeBatch([...many], ['{t:0}c:3'], [['{t:0}p', '22|220']]),
        /changed since it was read/
      )
      assert.deepEqual(await store.getMany(['{t:0}c:0', '{t:0}c:299', '{t:0}c:3', '{t:0}p']), [
        'v0',
        'v299',
        'v3',
        '23|230'
      ])
      // The server forgot its scripts (a restart, SCRIPT FLUSH): the next small write loads it again.
      await target.flushScripts()
      await store.writeBatch(
        [['{t:0}p', '24|240']],
        ['{t:0}c:4'],
        [['{t:0}p', '23|230']],
        [['{t:0}j', bytes.subarray(0, 1)]]
      )
      assert.deepEqual(await store.getMany(['{t:0}p', '{t:0}c:4']), ['24|240', null])
      assert.deepEqual(await store.getManyBytes(['{t:0}j']), [
        Buffer.concat([bytes.subarray(9, 10), bytes.subarray(0, 1)])
      ])
    })

    test('two instances racing on one guard: exactly one write lands', async t => {
      const prefix = `${uniqueName('test')}:`
      const a = await connect(prefix)
      const b = await connect(prefix)
      t.after(async () => {
        await a.clear()
        await a.close()
        await b.close()
      })
      for (let round = 0; round < 20; round++) {
        const expected = round === 0 ? null : (await a.getMany(['{t:0}p']))[0]!
        const write = (s: RedisStateStore, who: string): Promise<string> =>
          s
            .writeBatch(
              [
                [`{t:0}c:${who}`, `${who}${round}`],
                ['{t:0}p', `${who}|${round}`]
              ],
              [],
              [['{t:0}p', expected]]
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
        assert.deepEqual(await a.getMany(['{t:0}p', `{t:0}c:${w}`]), [`${w}|${round}`, `${w}${round}`])
        if (round === 0) assert.deepEqual(await a.getMany([`{t:0}c:${w === 'a' ? 'b' : 'a'}`]), [null])
      }
    })
  })
}
