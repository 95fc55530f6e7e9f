import { randomBytes } from 'node:crypto'
import { open } from 'node:fs/promises'
import { setTimeout as delay } from 'node:timers/promises'
import type { Writable } from 'node:stream'
import type { Command } from 'commander'
import { DaroogheError } from '../../errors.ts'
import {
  DEFAULT_HISTORY_DAYS,
  DEFAULT_HISTORY_EVENTS,
  GENERATOR_DEFAULTS,
  createGenerator,
  createNdjsonWriter,
  createPacer,
  createProgress,
  legitCapacityPerSecond,
  peakRatePerSecond,
  runGenerator
} from '../../apps/generator/index.ts'
import type { GeneratorOptions, NdjsonWriter, ResolvedGeneratorOptions } from '../../apps/generator/index.ts'

/**
 * Flags shared by `darooghe generate` and `darooghe produce`. Environment aliases of the
 * DarooghePulse docker setup are read here (flags win): EVENT_RATE (events per minute,
 * the base of the daily/weekly Poisson shape), PEAK_FACTOR, FRAUD_RATE, DECLINED_RATE,
 * MERCHANT_COUNT, CUSTOMER_COUNT, and TRANSACTIONS_PER_SECOND (a constant rate, like --rate).
 */
export function addGeneratorOptions(cmd: Command): Command {
  const d = GENERATOR_DEFAULTS
  return cmd
    .option('--count <n>', 'number of live events, then stop (default: until --duration or Ctrl-C)')
    .option('--duration <time>', 'event-time span of the live stream, e.g. 30s, 5m, 1h, then stop')
    .option(
      '--rate <n|max>',
      "constant events per second, or 'max' for no pacing (default: daily/weekly Poisson shape around --event-rate)"
    )
    .option(
      '--event-rate <perMinute>',
      `base rate of the Poisson shape in events per minute (env EVENT_RATE; default ${d.eventsPerMinute})`
    )
    .option(
      '--peak-factor <x>',
      `rate multiplier in the midday and evening peaks (env PEAK_FACTOR; default ${d.peakFactor})`
    )
    .option('--seed <s>', 'seed for reproducible output (default: random)')
    .option(
      '--start <iso>',
      'event time of the first live event, ISO-8601 (default: now); with --seed the output is identical'
    )
    .option('--customers <n>', `number of customers (env CUSTOMER_COUNT; default ${d.customers})`)
    .option('--merchants <n>', `number of merchants (env MERCHANT_COUNT; default ${d.merchants})`)
    .option(
      '--fraud-rate <f>',
      `share of events labelled fraud, 0–0.25 (env FRAUD_RATE; default ${d.fraudRate})`
    )
    .option(
      '--declined-rate <f>',
      `share of ordinary events declined, 0–1 (env DECLINED_RATE; default ${d.declinedRate})`
    )
    .option('--invalid-rate <f>', `share of invalid events, 0–0.25 (default ${d.invalidRate})`)
    .option(
      '--history [n]',
      `backfill n ordinary events before the start (default when given: ${DEFAULT_HISTORY_EVENTS})`
    )
    .option('--history-days <d>', `days the history is spread over (default ${DEFAULT_HISTORY_DAYS})`)
}

type Env = Record<string, string | undefined>
type Flags = Record<string, unknown>

function usage(flag: string, rule: string, got: string): never {
  throw new DaroogheError('USAGE', `${flag} must be ${rule} (got '${got}')`)
}

/** A flag's string value, else the environment alias's, labelled for error messages. */
function source(
  opts: Flags,
  key: string,
  flag: string,
  env: Env,
  envName?: string
): [string, string] | undefined {
  const value = opts[key]
  if (typeof value === 'string') return [value, flag]
  if (envName !== undefined && env[envName] !== undefined && env[envName] !== '')
    return [env[envName] as string, envName]
  return undefined
}

function int(src: [string, string] | undefined, min: number): number | undefined {
  if (src === undefined) return undefined
  const [text, name] = src
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min)
    usage(name, min === 0 ? 'a non-negative integer' : 'a positive integer', text)
  return n
}

function num(src: [string, string] | undefined, rule: 'positive' | 'fraction', max = 1): number | undefined {
  if (src === undefined) return undefined
  const [text, name] = src
  const n = text.trim() === '' ? Number.NaN : Number(text)
  if (rule === 'positive' && !(Number.isFinite(n) && n > 0)) usage(name, 'a positive number', text)
  if (rule === 'fraction' && !(Number.isFinite(n) && n >= 0 && n <= max))
    usage(name, `a number from 0 to ${max}`, text)
  return n
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `500ms`, `30s`, `5m`, `1h`, `2d`; a bare number is seconds. */
export function parseDuration(text: string, flag = '--duration'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim())
  const ms = match ? Number(match[1]) * (UNITS[match[2] ?? 's'] as number) : Number.NaN
  if (!(ms > 0)) usage(flag, 'a positive duration such as 30s, 5m or 1h', text)
  return ms
}

function parseStart(text: string): number {
  const trimmed = text.trim()
  const ms = /^\d+$/.test(trimmed)
    ? Number(trimmed)
    : /^\d{4}-\d{2}-\d{2}/.test(trimmed)
      ? Date.parse(trimmed)
      : Number.NaN
  if (!Number.isFinite(ms)) usage('--start', 'an ISO-8601 time such as 2025-04-26T12:00:00Z', text)
  return ms
}

/**
 * Generator options from parsed flags (commander's `opts()`) and the environment; flags win
 * over env. `now` is the wall clock at launch, the start when `--start` is absent. Throws
 * `DaroogheError('USAGE')` with a one-line message for a bad value.
 */
export function generatorOptionsFrom(opts: Flags, env: Env, now: number): GeneratorOptions {
  const options: GeneratorOptions = { start: now }
  if (typeof opts.start === 'string') options.start = parseStart(opts.start)
  options.seed = typeof opts.seed === 'string' ? opts.seed : randomBytes(8).toString('hex')
  const rate = source(opts, 'rate', '--rate', env, 'TRANSACTIONS_PER_SECOND')
  if (rate !== undefined) {
    const [text, name] = rate
    if (text.trim().toLowerCase() === 'max') options.rate = 'max'
    else {
      const n = text.trim() === '' ? Number.NaN : Number(text)
      if (!(Number.isFinite(n) && n > 0)) usage(name, "a positive number or 'max'", text)
      options.rate = n
    }
  }
  options.eventsPerMinute = num(source(opts, 'eventRate', '--event-rate', env, 'EVENT_RATE'), 'positive')
  options.peakFactor = num(source(opts, 'peakFactor', '--peak-factor', env, 'PEAK_FACTOR'), 'positive')
  options.customers = int(source(opts, 'customers', '--customers', env, 'CUSTOMER_COUNT'), 1)
  options.merchants = int(source(opts, 'merchants', '--merchants', env, 'MERCHANT_COUNT'), 1)
  options.fraudRate = num(source(opts, 'fraudRate', '--fraud-rate', env, 'FRAUD_RATE'), 'fraction', 0.25)
  options.declinedRate = num(
    source(opts, 'declinedRate', '--declined-rate', env, 'DECLINED_RATE'),
    'fraction'
  )
  options.invalidRate = num(source(opts, 'invalidRate', '--invalid-rate', env), 'fraction', 0.25)
  options.count = int(source(opts, 'count', '--count', env), 1)
  if (typeof opts.duration === 'string') options.durationMs = parseDuration(opts.duration)
  if (opts.history === true) options.history = DEFAULT_HISTORY_EVENTS
  else options.history = int(source(opts, 'history', '--history', env), 0)
  options.historyDays = num(source(opts, 'historyDays', '--history-days', env), 'positive')
  for (const key of Object.keys(options) as (keyof GeneratorOptions)[]) {
    if (options[key] === undefined) delete options[key]
  }
  return options
}

/** One line for stderr when ordinary traffic cannot stay below the velocity rule, else undefined. */
export function capacityWarning(options: ResolvedGeneratorOptions): string | undefined {
  const capacity = legitCapacityPerSecond(options.customers)
  const peak = peakRatePerSecond(options)
  if (peak <= capacity) return undefined
  const needed = Math.ceil((peak / capacity) * options.customers)
  const sustained = capacity < 10 ? capacity.toFixed(1) : String(Math.floor(capacity))
  return `warning: ${options.customers} customers sustain about ${sustained} events/s of ordinary traffic below the velocity rule, the rate reaches ${Math.round(peak)}/s; ordinary events will look like velocity fraud (use --customers ${needed} or more)`
}

async function openOutput(path: string, what: string): Promise<Writable> {
  try {
    const handle = await open(path, 'w')
    // A large buffer lets generation continue while the previous chunk is being written.
    return handle.createWriteStream({ highWaterMark: 1 << 20 })
  } catch (error) {
    throw new DaroogheError('IO', `cannot write the ${what} file ${path}: ${(error as Error).message}`, {
      cause: error
    })
  }
}

async function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(Math.max(0, Math.ceil(ms)), undefined, signal === undefined ? undefined : { signal })
  } catch {
    // Aborted: the caller checks the signal.
  }
}

async function generateAction(opts: Flags): Promise<void> {
  const wallStart = Date.now()
  const options = generatorOptionsFrom(opts, process.env, wallStart)
  const generator = createGenerator(options)
  const warning = capacityWarning(generator.options)
  if (warning !== undefined) process.stderr.write(`darooghe: ${warning}\n`)
  if (opts.seed === undefined && process.stderr.isTTY) {
    process.stderr.write(
      `darooghe: seed ${generator.options.seed} (pass --seed ${generator.options.seed} to reproduce)\n`
    )
  }

  const outPath = typeof opts.out === 'string' && opts.out !== '-' ? opts.out : undefined
  const out: NdjsonWriter = createNdjsonWriter(
    outPath ? await openOutput(outPath, 'output') : process.stdout,
    {
      end: outPath !== undefined
    }
  )
  const labels =
    typeof opts.labels === 'string' ? createNdjsonWriter(await openOutput(opts.labels, 'labels')) : undefined

  const abort = new AbortController()
  const onSignal = (): void => abort.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const perfStart = performance.now()
  const clock = (): number => wallStart + (performance.now() - perfStart)
  const o = generator.options
  const progress = createProgress(process.stderr, o.count + o.history, clock)
  try {
    await runGenerator({
      generator,
      out,
      labels,
      pacer: opts.unpaced === true ? { dueAt: () => Number.NEGATIVE_INFINITY } : createPacer(o, wallStart),
      clock,
      sleep,
      signal: abort.signal,
      onProgress: n => progress.update(n)
    })
  } finally {
    progress.done()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await out.close()
    await labels?.close()
  }
  const failed = out.error ?? labels?.error
  if (failed !== undefined)
    throw new DaroogheError('IO', `cannot write the events: ${failed.message}`, { cause: failed })
}

export function registerGenerate(program: Command): void {
  const cmd = program
    .command('generate')
    .description(
      'generate payment events as NDJSON (no broker needed); labels go to --labels, never into the events'
    )
  addGeneratorOptions(cmd)
    .option('--out <file>', 'write events to this file (default: stdout)')
    .option(
      '--unpaced',
      'write at once, keeping the event times of --rate (for files, backtests and benchmarks)'
    )
    .option('--labels <file>', 'write ground-truth labels as NDJSON {transaction_id, label, scenario_id}')
    .addHelpText(
      'after',
      `
Pacing: with --rate N or the default Poisson shape, events are written when their event time
comes (catching up after a stall); --rate max writes them as fast as the reader takes them.
History events (--history) are always written at once, before the live stream.

Examples:
  darooghe generate --count 1000 --rate max --seed 1 --start 2025-04-26T12:00:00Z
  darooghe generate --rate 100 --duration 5m --labels labels.ndjson > events.ndjson`
    )
    .action(async (_opts: Flags, command: Command) => {
      await generateAction(command.opts())
    })
}
