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

test('a closed store refuses work and reports unhealthy', async () => {
  const s = new MemoryStateStore()
  assert.equal(await s.ping(), true)
  await s.close()
  assert.equal(await s.ping(), false)
  await assert.rejects(s.getMany(['a']), (e: unknown) => e instanceof DaroogheError && e.kind === 'CLOSED')
})
