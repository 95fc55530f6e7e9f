/**
 * Generator throughput: `node --import tsx benchmarks/generator.ts [--count N] [--json]`.
 * 1. generation only, records discarded;
 * 2. generation + the real NDJSON writer into /dev/null (the `darooghe generate --rate max` path).
 * Both with `rate: 'max'`, default options, a fixed seed and start.
 */
import { createWriteStream } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { parseArgs } from 'node:util'
import {
  createGenerator,
  createNdjsonWriter,
  createPacer,
  runGenerator
} from '../src/apps/generator/index.ts'

const { values } = parseArgs({
  options: { count: { type: 'string', default: '1000000' }, json: { type: 'boolean', default: false } }
})
const count = Number(values.count)
if (!Number.isSafeInteger(count) || count <= 0) {
  console.error(`benchmarks/generator: --count must be a positive integer (got '${values.count}')`)
  process.exit(2)
}
const START = Date.UTC(2025, 3, 26, 8)

interface Result {
  name: string
  events: number
  seconds: number
  eventsPerSecond: number
  megabytesPerSecond: number
}

function discard(): Result {
  const generator = createGenerator({ start: START, seed: 'bench', rate: 'max', count })
  let chars = 0
  const t0 = performance.now()
  for (let r = generator.next(); r !== undefined; r = generator.next()) chars += r.raw.length + 1
  const seconds = (performance.now() - t0) / 1000
  return result('generate, discard', seconds, chars)
}

async function devNull(): Promise<Result> {
  const generator = createGenerator({ start: START, seed: 'bench', rate: 'max', count })
  const out = createNdjsonWriter(createWriteStream('/dev/null', { highWaterMark: 1 << 20 }))
  let chars = 0
  const t0 = performance.now()
  const { emitted } = await runGenerator({
    generator,
    out: {
      ...out,
      get closed() {
        return out.closed
      },
      get error() {
        return out.error
      },
      push(line) {
        chars += line.length + 1
        return out.push(line)
      }
    },
    pacer: createPacer(generator.options, Date.now()),
    clock: Date.now,
    sleep: async () => {}
  })
  await out.close()
  const seconds = (performance.now() - t0) / 1000
  if (emitted !== count) throw new Error(`wrote ${emitted} of ${count} events`)
  return result('generate + NDJSON writer → /dev/null', seconds, chars)
}

function result(name: string, seconds: number, chars: number): Result {
  return {
    name,
    events: count,
    seconds: Number(seconds.toFixed(3)),
    eventsPerSecond: Math.round(count / seconds),
    megabytesPerSecond: Number((chars / seconds / 1e6).toFixed(1))
  }
}

const conditions = {
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
  count,
  options: "defaults, rate 'max', seed 'bench'"
}
// A short warm-up so both runs measure optimised code.
createGenerator({ start: START, seed: 'warm', rate: 'max', count: 20_000 }).next()
for (const _ of createGenerator({ start: START, seed: 'warm', rate: 'max', count: 20_000 }));
const results = [discard(), await devNull()]
if (values.json) {
  console.log(JSON.stringify({ benchmark: 'generator', conditions, results }, null, 2))
} else {
  console.log(
    `generator benchmark: ${conditions.node}, ${conditions.cpu} × ${conditions.cores}, ${count.toLocaleString('en-US')} events`
  )
  for (const r of results) {
    console.log(
      `  ${r.name.padEnd(40)} ${r.eventsPerSecond.toLocaleString('en-US').padStart(10)} events/s  ${String(r.megabytesPerSecond).padStart(6)} MB/s  (${r.seconds} s)`
    )
  }
}
