import assert from 'node:assert/strict'
import { test } from 'node:test'
import { abortedBatches } from '../../src/adapters/kafka/library-fetcher.ts'

type Partition = Parameters<typeof abortedBatches>[0]
type Batch = NonNullable<Partition['records']>[number]

const TRANSACTIONAL = 1 << 4
const CONTROL = 1 << 5

function batch(
  firstOffset: number,
  count: number,
  producerId: number,
  attributes = 0,
  markerType?: number
): Batch {
  const key = markerType === undefined ? null : Buffer.from([0, 0, 0, markerType])
  return {
    firstOffset: BigInt(firstOffset),
    lastOffsetDelta: count - 1,
    producerId: BigInt(producerId),
    attributes,
    records: [{ key }]
  } as unknown as Batch
}

function partition(records: Batch[], aborted: [producerId: number, firstOffset: number][]): Partition {
  return {
    records,
    abortedTransactions: aborted.map(([p, o]) => ({ producerId: BigInt(p), firstOffset: BigInt(o) }))
  } as unknown as Partition
}

test('an aborted transaction whose marker is not in this response is still skipped', () => {
  const plain = batch(0, 5, 1)
  const aborted = batch(5, 4, 2, TRANSACTIONAL)
  const skip = abortedBatches(partition([plain, aborted], [[2, 5]]))
  assert.deepEqual([...skip], [aborted])
})

test('after its abort marker, the same producer’s next transaction is read', () => {
  const aborted = batch(0, 3, 2, TRANSACTIONAL)
  const marker = batch(3, 1, 2, TRANSACTIONAL | CONTROL, 0)
  const next = batch(4, 2, 2, TRANSACTIONAL)
  const commit = batch(6, 1, 2, TRANSACTIONAL | CONTROL, 1)
  const other = batch(7, 2, 3, TRANSACTIONAL)
  const skip = abortedBatches(partition([aborted, marker, next, commit, other], [[2, 0]]))
  assert.deepEqual([...skip], [aborted])
})

test('an aborted range starts at its first offset, not before; non-transactional batches are kept', () => {
  const earlier = batch(0, 2, 2, TRANSACTIONAL) // a committed transaction of the same producer
  const plain = batch(2, 2, 9)
  const aborted = batch(4, 2, 2, TRANSACTIONAL)
  const skip = abortedBatches(partition([earlier, plain, aborted], [[2, 4]]))
  assert.deepEqual([...skip], [aborted])
  assert.equal(abortedBatches(partition([earlier], [])).size, 0)
})
