/**
 * The report of issue 17: events written by kcat with `-z zstd` (and every other codec) into the
 * input topic, read by a real `darooghe detect` process on Node 20, where node:zlib has no zstd.
 * The detector must decide every event and keep running.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { start } from '../helpers/cli.ts'
import {
  clearStateAfter,
  detectorArgs,
  generate,
  makeTopics,
  parse,
  readTopics,
  waitCommitted
} from '../helpers/pipeline.ts'
import { KAFKA_BROKERS, uniqueName } from '../helpers/services.ts'

const run = promisify(execFile)
const CODECS = ['zstd', 'none', 'gzip', 'snappy', 'lz4'] as const

test('kcat -z zstd (and every codec) into the input topic: darooghe detect decides every event', async t => {
  const events = generate(1_000, 'codecs-detector')
  const topics = await makeTopics(t, CODECS.length)
  const dir = await mkdtemp(join(tmpdir(), 'darooghe-codecs-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  for (const [partition, codec] of CODECS.entries()) {
    const mine = events.filter((_, i) => i % CODECS.length === partition)
    const file = join(dir, codec)
    await writeFile(file, mine.map(e => `${e.key}@@K@@${e.raw}@@R@@`).join(''))
    await run('kcat', [
      '-P',
      '-b',
      KAFKA_BROKERS.join(','),
      '-t',
      topics.input,
      '-p',
      String(partition),
      '-z',
      codec,
      '-K',
      '@@K@@',
      '-D',
      '@@R@@',
      '-l',
      file
    ])
  }
  const group = uniqueName('g-codecs')
  clearStateAfter(t, group)
  const detector = start(['detect', ...detectorArgs(topics, group), '--log-level', 'warn'])
  t.after(() => detector.child.kill('SIGKILL'))
  await waitCommitted(group, topics.input)
  assert.equal(detector.child.exitCode, null, `the detector is still running (stderr: ${detector.stderr})`)

  const outs = await readTopics(
    [topics.approved, topics.fraud, topics.errors],
    recs => recs.length >= events.length
  )
  const ids = new Set(outs.map(r => String(parse(r).transaction_id ?? '')))
  const missing = events.filter(e => !ids.has(e.transactionId)).map(e => e.transactionId)
  assert.deepEqual(missing.slice(0, 5), [], 'every event has a decision or an error record')
  const undecodable = outs.filter(r =>
    (parse(r).error_codes as string[] | undefined)?.includes('ERR_UNDECODABLE_BATCH')
  )
  assert.equal(undecodable.length, 0)
  assert.doesNotMatch(detector.stderr, /not supported/)
})
