/**
 * One client of suite 5 in its own Node process, so the JIT state and heap of one client
 * cannot slow the next one down: `node --import tsx benchmarks/harness/client-child.ts
 * --client kafkajs --brokers h:p --input <topic> --expected N --events N --batch B
 * --produce-topics t1,t2 --groups g1,g2 --out <file>`. Runs produce then consume once per
 * produce topic and writes a ClientOutcome (JSON) to --out; a client that cannot be loaded
 * is reported there, not as a failure.
 */
import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { parseBrokers } from '../../src/adapters/kafka/index.ts'
import type { ClientOutcome, ClientRunTimes } from '../lib/clients.ts'
import { ratePerSecond } from '../lib/stats.ts'
import {
  CLIENTS,
  type ClientDriver,
  type ClientName,
  installedVersion,
  loadDriver
} from './client-drivers.ts'
import { clientWorkload } from './client-workload.ts'

const { values } = parseArgs({
  options: {
    client: { type: 'string' },
    brokers: { type: 'string', default: '127.0.0.1:9092' },
    input: { type: 'string' },
    expected: { type: 'string' },
    events: { type: 'string' },
    batch: { type: 'string' },
    'produce-topics': { type: 'string' },
    groups: { type: 'string' },
    out: { type: 'string' }
  }
})
const client = values.client as ClientName
if (!CLIENTS.includes(client) || !values.input || !values.out) {
  console.error(`client-child: --client (${CLIENTS.join(', ')}), --input and --out are required`)
  process.exit(2)
}
const topics = (values['produce-topics'] ?? '').split(',').filter(Boolean)
const groups = (values.groups ?? '').split(',').filter(Boolean)
const events = Number(values.events)
const expected = Number(values.expected)
const batch = Number(values.batch)

/** Why a client could not be loaded; the Confluent client's install needs the internet. */
const INSTALL_HINTS: Partial<Record<ClientName, string>> = {
  '@confluentinc/kafka-javascript':
    'its install downloads a prebuilt librdkafka binary from github.com, which this machine cannot reach, and the fallback source build downloads librdkafka’s dependencies (zlib, OpenSSL, zstd, curl) as well'
}

function unavailable(error: unknown): string {
  const e = error as { code?: string; message?: string }
  const message = String(e?.message ?? error).split('\n')[0]!
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(message)) {
    // The error names absolute paths of this checkout: the reason is enough.
    return `not installable here: ${INSTALL_HINTS[client] ?? 'the package is not installed'}`
  }
  return `could not be loaded: ${message}`
}

async function main(): Promise<ClientOutcome> {
  const version = installedVersion(client)
  let driver: ClientDriver
  try {
    driver = await loadDriver(client, {
      brokers: parseBrokers(values.brokers),
      clientId: 'darooghe-bench-clients'
    })
  } catch (error) {
    return { client, version, unavailable: unavailable(error), runs: [] }
  }
  const workload = clientWorkload(events)
  const runs: ClientRunTimes[] = []
  for (let i = 0; i < topics.length; i++) {
    const produceMs = await driver.produce(topics[i]!, workload.records, batch)
    const c = await driver.consume(values.input!, groups[i]!, expected)
    const rate = (n: number, ms: number) => Math.round(ratePerSecond(n, ms)).toLocaleString('en-US')
    console.log(
      `  ${client} run ${i + 1}/${topics.length}: produce ${rate(events, produceMs)} events/s, ` +
        `consume ${rate(c.records, c.ms)} events/s (first record after ${Math.round(c.startMs)} ms)`
    )
    runs.push({
      produceMs,
      produceBytes: workload.bytes,
      consumeStartMs: c.startMs,
      consumeMs: c.ms,
      consumedRecords: c.records,
      consumedBytes: c.bytes
    })
  }
  return { client, version, runs }
}

const outcome = await main()
await writeFile(values.out, JSON.stringify(outcome))
// A client may keep sockets or timers alive after disconnecting; the result is written.
process.exit(0)
