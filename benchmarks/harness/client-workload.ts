/**
 * The records of the client comparison (suite 5), built before any clock starts: generator
 * events as key (customer id) and value (the JSON line) bytes, so every client sends exactly
 * the same bytes under the same keys.
 */
import { createGenerator } from '../../src/apps/generator/index.ts'
import { BENCH_CUSTOMERS, FILL_EVENT_RATE } from './fill.ts'

export interface WorkloadRecord {
  readonly key: Buffer
  readonly value: Buffer
}

export interface Workload {
  readonly records: readonly WorkloadRecord[]
  /** Bytes of all keys and values. */
  readonly bytes: number
}

/** A fixed start and seed: the payloads are byte-identical in every child process. */
const WORKLOAD_START = Date.UTC(2026, 0, 1)

export function clientWorkload(count: number): Workload {
  const generator = createGenerator({
    start: WORKLOAD_START,
    seed: 'bench-clients',
    customers: BENCH_CUSTOMERS,
    rate: FILL_EVENT_RATE,
    count
  })
  const records: WorkloadRecord[] = []
  let bytes = 0
  for (let r = generator.next(); r !== undefined; r = generator.next()) {
    const record = { key: Buffer.from(r.key), value: Buffer.from(r.raw) }
    bytes += record.key.length + record.value.length
    records.push(record)
  }
  return { records, bytes }
}
