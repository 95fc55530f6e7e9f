import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryLog } from '../../src/adapters/memory/index.ts'
import { logConformance } from '../helpers/log-conformance.ts'
import { uniqueName, waitFor } from '../helpers/services.ts'

for (const assignment of ['range', 'roundrobin'] as const) {
  logConformance(`memory (${assignment})`, () => {
    const log = new MemoryLog({ assignment })
    const producer = log.producer()
    const admin = log.admin()
    return {
      producer,
      admin,
      consumer: (groupId, topics, options) => log.consumer({ ...options, groupId, topics }),
      createTopic: async partitions => {
        const name = uniqueName('t-conformance')
        log.createTopic(name, partitions)
        return name
      },
      cleanup: async () => {
        await producer.close()
        await admin.close()
      }
    }
  })
}

test('the first produce creates the topic with the default partition count; unkeyed records go round robin', async () => {
  const log = new MemoryLog()
  const acks = await log
    .producer()
    .send(Array.from({ length: 12 }, (_, i) => ({ topic: 'rr', value: String(i) })))
  assert.deepEqual(log.listTopics(), [{ name: 'rr', partitions: 6 }])
  assert.deepEqual(
    acks.map(a => a.partition),
    [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]
  )
  assert.deepEqual(log.endOffsets('rr'), [2, 2, 2, 2, 2, 2])
  assert.equal(new MemoryLog({ defaultPartitions: 2 }).createTopic('x'), true)
})

test('send appends on a later turn, atomically and in call order', async () => {
  const log = new MemoryLog({ now: () => 42 })
  const producer = log.producer()
  const first = producer.send([{ topic: 't', key: 'k', value: 'a' }])
  const second = producer.send([{ topic: 't', key: 'k', value: 'b', timestamp: 7 }])
  assert.deepEqual(log.listTopics(), [], 'nothing appended synchronously')
  const [a, b] = await Promise.all([first, second])
  assert.equal(b[0]!.offset, a[0]!.offset + 1)
  const [ra, rb] = log.readRange('t', a[0]!.partition, 0, 10)
  assert.equal(ra?.timestamp, 42)
  assert.equal(rb?.timestamp, 7)
  assert.ok(Object.isFrozen(ra), 'records are immutable')
  await producer.close()
  await assert.rejects(producer.send([{ topic: 't', value: 'c' }]), { code: 'DAROOGHE_ERR_CLOSED' })
})

test('a record for a partition the topic does not have appends nothing', () => {
  const log = new MemoryLog()
  log.createTopic('t', 2)
  assert.throws(
    () =>
      log.append([
        { topic: 't', value: 'ok' },
        { topic: 't', value: 'bad', partition: 2 }
      ]),
    { code: 'DAROOGHE_ERR_INTERNAL' }
  )
  assert.deepEqual(log.endOffsets('t'), [0, 0])
})

test('the key buffer is copied: the caller may reuse it', () => {
  const log = new MemoryLog()
  const key = Buffer.from('abc')
  const [ack] = log.append([{ topic: 't', key, value: 'v' }])
  key.write('zzz')
  assert.equal(log.readRange('t', ack!.partition, 0, 1)[0]?.key?.toString(), 'abc')
})

test('range and round-robin assignment; a rebalance bumps the generation', () => {
  for (const [assignment, expected] of [
    [
      'range',
      [
        ['a:0', 'a:1', 'b:0'],
        ['a:2', 'b:1']
      ]
    ],
    [
      'roundrobin',
      [
        ['a:0', 'a:2', 'b:1'],
        ['a:1', 'b:0']
      ]
    ]
  ] as const) {
    const log = new MemoryLog({ assignment })
    log.createTopic('a', 3)
    log.createTopic('b', 2)
    const m1 = log.joinGroup('g', ['a', 'b'], 'c', () => {})
    assert.equal(m1.assignment.length, 5)
    const m2 = log.joinGroup('g', ['b', 'a'], 'c', () => {})
    const keys = (m: typeof m1) => m.assignment.map(tp => `${tp.topic}:${tp.partition}`)
    assert.deepEqual([keys(m1), keys(m2)], expected, assignment)
    assert.equal(m2.generation, 2)
    m1.leave()
    assert.equal(keys(m2).length, 5)
    assert.deepEqual(log.groupInfo('g'), { generation: 3, members: 1 })
  }
})

test('a commit of a stale generation counts only for partitions owned ever since', () => {
  const log = new MemoryLog()
  log.createTopic('t', 2)
  log.append([
    { topic: 't', value: 'x', partition: 0 },
    { topic: 't', value: 'y', partition: 1 }
  ])
  let changes = 0
  const m1 = log.joinGroup('g', ['t'], 'c', () => changes++)
  const gen1 = m1.generation
  const m2 = log.joinGroup('g', ['t'], 'c', () => {})
  assert.equal(changes, 2, 'the first member heard of both rebalances')
  // Range: m1 kept partition 0, partition 1 moved to m2.
  const accepted = m1.commit(gen1, [
    { topic: 't', partition: 0, offset: 1 },
    { topic: 't', partition: 1, offset: 1 }
  ])
  assert.equal(accepted, 1)
  assert.deepEqual(log.committedOffsets('g', 't'), [1, -1])
  m1.leave()
  assert.equal(m1.commit(m2.generation, [{ topic: 't', partition: 0, offset: 1 }]), 0, 'a member that left')
})

test('readRange and lastRecords for the topic browser', () => {
  let clock = 0
  const log = new MemoryLog({ now: () => ++clock })
  log.createTopic('t', 2)
  for (let i = 0; i < 6; i++) log.append([{ topic: 't', value: String(i), partition: i % 2 }])
  const values = (rs: { value: Buffer | null }[]) => rs.map(r => r.value?.toString())
  assert.deepEqual(values(log.readRange('t', 0, 1, 5)), ['2', '4'])
  assert.deepEqual(values(log.readRange('t', 1, 0, 2)), ['1', '3'])
  assert.deepEqual(values(log.lastRecords('t', 3)), ['3', '4', '5'])
  assert.deepEqual(log.readRange('nope', 0, 0, 5), [])
  assert.deepEqual(log.lastRecords('nope', 5), [])
})

test('bounded retention drops the oldest records and moves the start offset', () => {
  const log = new MemoryLog({ retentionRecords: 4 })
  log.createTopic('t', 1)
  for (let i = 0; i < 10; i++) log.append([{ topic: 't', value: String(i) }])
  const [start] = log.startOffsets('t')
  assert.ok(start! > 0 && start! <= 6, `start ${start}`)
  assert.deepEqual(log.endOffsets('t'), [10])
  assert.equal(log.readRange('t', 0, 0, 100)[0]?.offset, start)
})

test('fromBeginning false starts a new group at the end', async t => {
  const log = new MemoryLog()
  log.createTopic('t', 1)
  log.append([{ topic: 't', value: 'old' }])
  const c = log.consumer({ groupId: 'g', topics: ['t'], fromBeginning: false })
  t.after(() => c.close())
  const seen: string[] = []
  let assigned = false
  const running = c.run({
    onAssignment: () => {
      assigned = true
    },
    onBatch: async rs => {
      seen.push(...rs.map(r => r.value!.toString()))
    }
  })
  await waitFor(() => assigned)
  log.append([{ topic: 't', value: 'new' }])
  await waitFor(() => seen.length > 0)
  assert.deepEqual(seen, ['new'])
  await c.close()
  await running
  await assert.rejects(c.run({ onBatch: async () => {} }), { code: 'DAROOGHE_ERR_CLOSED' })
})

test('a failing onBatch rejects run and hands the partitions to the rest of the group', async t => {
  const log = new MemoryLog()
  log.createTopic('t', 2)
  log.append([{ topic: 't', value: 'x', partition: 0 }])
  const bad = log.consumer({ groupId: 'g', topics: ['t'] })
  const good = log.consumer({ groupId: 'g', topics: ['t'] })
  t.after(() => good.close())
  // bad joins first: range gives it partition 0, which holds the record.
  const badRun = bad.run({
    onBatch: async () => {
      throw new Error('boom')
    }
  })
  const goodRun = good.run({ onBatch: async () => {} })
  await assert.rejects(badRun, /boom/)
  assert.equal(good.assignment().length, 2)
  await waitFor(() => log.committedOffsets('g', 't')[0] === 1, { what: 'the other member reads the record' })
  await good.close()
  await goodRun
})

test('a rebalance during a batch: the moved partition goes to its new owner, the kept one is committed', async t => {
  const log = new MemoryLog()
  log.createTopic('t', 2)
  log.append([
    { topic: 't', value: 'x', partition: 0 },
    { topic: 't', value: 'y', partition: 1 }
  ])
  const a = log.consumer({ groupId: 'g', topics: ['t'] })
  const b = log.consumer({ groupId: 'g', topics: ['t'] })
  t.after(() => Promise.all([a.close(), b.close()]))
  const seenA: string[] = []
  const seenB: string[] = []
  let release = (): void => {}
  const gate = new Promise<void>(resolve => (release = resolve))
  let inBatch = false
  const runA = a.run({
    onBatch: async rs => {
      seenA.push(...rs.map(r => r.value!.toString()))
      inBatch = true
      await gate
    }
  })
  await waitFor(() => inBatch)
  const runB = b.run({ onBatch: async rs => void seenB.push(...rs.map(r => r.value!.toString())) })
  await waitFor(() => seenB.length === 1)
  release()
  await waitFor(() => log.committedOffsets('g', 't')[0] === 1, { what: "a's commit of the kept partition" })
  assert.deepEqual(log.committedOffsets('g', 't'), [1, 1])
  log.append([{ topic: 't', value: 'z', partition: 1 }])
  await waitFor(() => seenB.length === 2)
  assert.deepEqual(seenA.sort(), ['x', 'y'])
  assert.deepEqual(seenB, ['y', 'z'])
  await Promise.all([a.close(), b.close()])
  await Promise.all([runA, runB])
})

test('a consumer of a topic that does not exist yet is assigned it when the first produce creates it', async t => {
  const log = new MemoryLog({ defaultPartitions: 3 })
  const c = log.consumer({ groupId: 'g', topics: ['later'] })
  t.after(() => c.close())
  const assignments: number[] = []
  const seen: string[] = []
  const running = c.run({
    onAssignment: tps => void assignments.push(tps.length),
    onBatch: async rs => void seen.push(...rs.map(r => r.value!.toString()))
  })
  await waitFor(() => assignments.length === 1)
  await log.producer().send([{ topic: 'later', key: 'k', value: 'v' }])
  await waitFor(() => seen.length === 1)
  assert.deepEqual(assignments, [0, 3])
  await c.close()
  await running
})
