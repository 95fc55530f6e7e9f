import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import { DaroogheError } from '../../src/errors.ts'

test('getMany returns values in key order, null where absent', async () => {
  const s = new MemoryStateStore()
  await s.writeBatch([
    ['a', '1'],
    ['b', '2']
  ])
  assert.deepEqual(await s.getMany(['b', 'x', 'a']), ['2', null, '1'])
  assert.deepEqual(await s.getMany([]), [])
})

test('writeBatch applies puts then deletes; a later put wins', async () => {
  const s = new MemoryStateStore()
  await s.writeBatch(
    [
      ['a', '1'],
      ['a', '2'],
      ['b', '3']
    ],
    ['b']
  )
  assert.deepEqual(s.snapshot(), [['a', '2']])
  assert.equal(s.size, 1)
})

test('writeBatch is all or nothing: a bad entry writes nothing', async () => {
  const s = new MemoryStateStore()
  await assert.rejects(
    s.writeBatch([
      ['a', '1'],
      ['b', 2 as unknown as string]
    ]),
    DaroogheError
  )
  assert.equal(s.size, 0)
})

test('appends add bytes at the end of a value (absent: empty), after the deletes, all or nothing', async () => {
  const s = new MemoryStateStore()
  const b = (t: string): Buffer => Buffer.from(t)
  await s.writeBatch([], [], [], [['j', b('ab')]])
  await s.writeBatch([['p', '1']], [], [['p', null]], [['j', b('cd')]])
  assert.deepEqual(await s.getManyBytes(['j']), [b('abcd')])
  // Deleted and appended in one write: the append starts a new value.
  await s.writeBatch([], ['j'], [], [['j', b('e')]])
  assert.deepEqual(await s.getMany(['j']), ['e'])
  await assert.rejects(s.writeBatch([], [], [['p', 'stale']], [['j', b('x')]]), {
    code: 'DAROOGHE_ERR_STATE_CONFLICT'
  })
  await assert.rejects(
    s.writeBatch([['q', '1']], [], [], [['j', 'text' as unknown as Buffer]]),
    DaroogheError
  )
  assert.deepEqual(await s.getMany(['j', 'q']), ['e', null], 'a refused write changed nothing')
})

test('a closed store refuses work and reports unhealthy', async () => {
  const s = new MemoryStateStore()
  assert.equal(await s.ping(), true)
  await s.close()
  assert.equal(await s.ping(), false)
  await assert.rejects(s.getMany(['a']), (e: unknown) => e instanceof DaroogheError && e.kind === 'CLOSED')
})
