/**
 * Suite 5: the same produce and consume workloads with each Kafka client, each client in its
 * own child process (benchmarks/harness/client-child.ts). Produce: the same generator records
 * to a fresh 6-partition topic per run. Consume: one topic pre-filled here, read from the
 * earliest offset to its end by a fresh group per run.
 */
import { spawn } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { kafkaBackend } from '../harness/backend.ts'
import { CLIENTS, type ClientName, FETCH, installedVersion } from '../harness/client-drivers.ts'
import type { BenchEnv } from '../harness/env.ts'
import { BENCH_CUSTOMERS } from '../harness/fill.ts'
import { type ClientOutcome, clientResult } from '../lib/clients.ts'
import type { ClientsSuiteResult } from '../lib/types.ts'
import { PARTITIONS, prefill } from './detector.ts'

/** Records per produce call: about what our producer puts in one request (768 KiB chunks). */
export const CLIENT_BATCH_RECORDS = 1_000

export async function clientsSuite(
  env: BenchEnv,
  events: number,
  runs: number,
  log: (line: string) => void
): Promise<ClientsSuiteResult> {
  log(`  pre-filling ${events.toLocaleString('en-US')} events for the consumers…`)
  const input = await prefill(env, kafkaBackend(env), events)
  const results = []
  for (const client of CLIENTS) {
    // Created here, not in the child, and deleted as soon as the client is done: at 1M
    // events a produce topic holds about half a gigabyte.
    const topics = Array.from({ length: runs }, () => env.name('clients-produce'))
    await env.admin.createTopics(topics.map(name => ({ name, partitions: PARTITIONS })))
    const groups = Array.from({ length: runs }, () => env.name('clients-group'))
    try {
      const outcome = await runClient(env, client, {
        input: input.topic,
        expected: input.fill.events,
        events,
        topics,
        groups
      })
      if (outcome.unavailable) log(`  ${client}: ${outcome.unavailable}`)
      results.push(clientResult(outcome, events))
    } finally {
      await env.admin.deleteTopics(topics).catch(() => {})
    }
  }
  return {
    events,
    partitions: PARTITIONS,
    meanMessageBytes: input.fill.bytes / input.fill.events,
    batchRecords: CLIENT_BATCH_RECORDS,
    runs,
    settings: [
      `records: generator events (${BENCH_CUSTOMERS.toLocaleString('en-US')} customers, the default fraud and invalid rates) keyed by customer id, built before the clock starts; the same bytes for every client`,
      `produce: ${CLIENT_BATCH_RECORDS.toLocaleString('en-US')} records per send call, one call in flight, acks=all (-1), idempotence off (the default of all three clients), no compression, Java-compatible murmur2 partitioning, a fresh ${PARTITIONS}-partition topic per run; timed from the first call to the last acknowledgement`,
      `consume: the same pre-filled ${PARTITIONS}-partition topic, a fresh group per run from the earliest offset, batch-wise, values left as bytes, no offset commits; fetch min ${FETCH.minBytes} byte, max ${FETCH.maxBytes / 2 ** 20} MiB (${FETCH.maxBytesPerPartition / 2 ** 20} MiB per partition), wait ≤ ${FETCH.maxWaitMs} ms; timed from the first record to the last, the start (connect, group join, first fetch) reported apart`,
      'each client in its own Node process; MB = 10^6 bytes of keys and values'
    ],
    clients: results
  }
}

interface ChildArgs {
  readonly input: string
  readonly expected: number
  readonly events: number
  readonly topics: readonly string[]
  readonly groups: readonly string[]
}

const CHILD = fileURLToPath(new URL('../harness/client-child.ts', import.meta.url))

/** Runs one client's runs in a fresh child process; a crashed child is reported, not thrown. */
async function runClient(env: BenchEnv, client: ClientName, a: ChildArgs): Promise<ClientOutcome> {
  const out = join(tmpdir(), `darooghe-bench-${process.pid}-${client.replace(/\W+/g, '-')}.json`)
  const args = ['--import', 'tsx', CHILD, '--client', client]
  args.push('--brokers', env.brokers.join(','), '--input', a.input, '--expected', String(a.expected))
  args.push('--events', String(a.events), '--batch', String(CLIENT_BATCH_RECORDS))
  args.push('--produce-topics', a.topics.join(','), '--groups', a.groups.join(','), '--out', out)
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' })
    child.on('error', reject)
    child.on('exit', resolve)
  })
  try {
    if (code !== 0)
      return {
        client,
        version: installedVersion(client),
        unavailable: `run failed (exit code ${code}; see the log)`,
        runs: []
      }
    return JSON.parse(await readFile(out, 'utf8')) as ClientOutcome
  } finally {
    await rm(out, { force: true })
  }
}
