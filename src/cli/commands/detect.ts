import type { Command } from 'commander'
import { MemoryStateStore } from '../../adapters/memory/state-store.ts'
import { NdjsonSink, openInput, readLines, readNdjsonBatches } from '../../adapters/file/index.ts'
import {
  Backtest,
  createProcessor,
  loadRuleSet,
  processorOptions,
  seedProfiles,
  systemClock,
  type BacktestReport,
  type Processor
} from '../../apps/processor/index.ts'
import type { RecordLimits } from '../../domain/limits.ts'
import { DaroogheError } from '../../errors.ts'
import type { StateStore } from '../../ports/state-store.ts'
import { fixedClock, type Clock } from '../../stream/clock.ts'
import { runKafkaDetect, type KafkaDetectFlags } from './detect-kafka.ts'
import { runDetectWorkers, workerCount } from './detect-workers.ts'

/** Flags shared by every mode of `darooghe detect`. */
export interface DetectFlags {
  input?: string
  output: string
  rules: string
  now?: string
  allowedLateness: string
  alertThreshold: string
  maxEventAge: string
  maxClockSkew: string
  labels?: string
  profiles?: string
  batchSize: string
  quiet?: boolean
  /** Output topic overrides (Kafka mode); undefined entries keep the defaults. */
  topics?: Partial<Record<'approved' | 'fraud' | 'alerts' | 'errors', string | undefined>>
  /** Namespace of the state keys (Kafka mode: the consumer group, like an application id). */
  keyPrefix?: string
  /** Comma-separated topics a record may ask to be replied on (request-reply); '' for none. */
  replyTopics?: string
  /** Journal size past which a partition's state is snapshotted (e.g. '16MiB'). */
  stateJournal?: string
  /** Record limits (src/domain/limits.ts). */
  maxEventBytes?: string
  maxDepth?: string
  maxStringBytes?: string
  maxFields?: string
}

/** The options that decide how events are scored, shared by `detect` and `replay`. */
export function scoringOptions(command: Command): Command {
  return command
    .option(
      '-r, --rules <name|file>',
      'rule set: a shipped name (default, redis-feature-store, baag-hum-baag, kafka-mini) or a JSON file',
      'default'
    )
    .option(
      '--allowed-lateness <duration>',
      "how far an event may trail its customer's latest event time and be on time (one further behind is decided, flagged late)",
      '30s'
    )
    .option('--alert-threshold <score>', 'alert when the risk score is above this (0-100)', '80')
    .option('--max-event-age <duration>', 'ERR_TIME when an event is older than this before ingestion', '1d')
    .option(
      '--max-clock-skew <duration>',
      'ERR_TIME when an event is later than ingestion by more than this',
      '60s'
    )
    .option('--batch-size <n>', 'records per processing batch', '5000')
    .option(
      '--max-event-bytes <size>',
      'ERR_SCHEMA for a record larger than this (bytes, KiB or MiB)',
      '64KiB'
    )
    .option('--max-depth <n>', 'ERR_SCHEMA for a record nested deeper than this', '32')
    .option('--max-string-bytes <size>', 'ERR_SCHEMA for a string or number longer than this', '8KiB')
    .option(
      '--max-fields <n>',
      'ERR_SCHEMA for a record with more fields (members and elements) than this',
      '1000'
    )
}

/** The record limits of the flags; unset ones keep their defaults (processorOptions checks them). */
function limitsFromFlags(flags: DetectFlags): Partial<RecordLimits> {
  const int = (text: string | undefined, flag: string): number | undefined => {
    if (text === undefined) return undefined
    if (!/^\d+$/.test(text.trim()))
      throw new DaroogheError('USAGE', `${flag} must be a positive integer (got '${text}')`)
    return Number(text)
  }
  return {
    maxEventBytes:
      flags.maxEventBytes === undefined ? undefined : parseSize(flags.maxEventBytes, '--max-event-bytes'),
    maxDepth: int(flags.maxDepth, '--max-depth'),
    maxStringBytes:
      flags.maxStringBytes === undefined ? undefined : parseSize(flags.maxStringBytes, '--max-string-bytes'),
    maxFields: int(flags.maxFields, '--max-fields')
  }
}

export function registerDetect(program: Command): void {
  const detect = program
    .command('detect')
    .description('run the fraud-detection processor (Kafka, or --input/--output files)')
    .option('-i, --input <file|->', 'read events as NDJSON from a file or stdin (file mode)')
    .option('-o, --output <file|->', 'write outputs as NDJSON {topic, key, value}', '-')
    .option(
      '--now <iso>',
      'ingestion and processing time of every event (reproducible output); default: the wall clock'
    )
  scoringOptions(detect)
  detect
    .option('--labels <file>', "print precision/recall against the generator's labels file to stderr")
    .option(
      '--profiles <file>',
      'seed feature-store profiles (NDJSON {customer_id, avg_spend}) before processing'
    )
    .option('-q, --quiet', 'no progress or summary on stderr')
    .option('--brokers <list>', 'Kafka mode: bootstrap brokers (env DAROOGHE_BROKERS, KAFKA_BROKER_URL)')
    .option(
      '--redis <url>',
      'Kafka mode: Redis for the state (env DAROOGHE_REDIS; default redis://127.0.0.1:6379)'
    )
    .option('--memory-state', 'Kafka mode: keep state in this process only (no Redis; not durable)')
    .option(
      '--state-journal <size>',
      "Kafka mode: snapshot a partition's state once its journal of changes passes this size (bytes, KiB or MiB; 0: every batch)",
      '16MiB'
    )
    .option('--group <id>', 'Kafka mode: consumer group (default darooghe-detector)')
    .option(
      '--topic <name>',
      'Kafka mode: input topic (env TRANSACTIONS_TOPIC; default darooghe.transactions)'
    )
    .option(
      '--approved-topic <name>',
      'approved decisions (env LEGIT_TOPIC; default darooghe.transactions.approved)'
    )
    .option('--fraud-topic <name>', 'fraud decisions (env FRAUD_TOPIC; default darooghe.transactions.fraud)')
    .option('--alerts-topic <name>', 'alerts (default darooghe.fraud_alerts)')
    .option('--errors-topic <name>', 'validation failures (default darooghe.error_logs)')
    .option(
      '--reply-topics <list>',
      "topics a record's darooghe-reply-to header may name: its decision is written there too, for POST /v1/decisions ('' for none; default darooghe.decisions.replies)"
    )
    .option('--partitions <n>', 'Kafka mode: partitions of topics it creates (default 6)')
    .option('--status-interval <s>', 'Kafka mode: seconds between status log lines (0: none)', '10')
    .option('--log-level <level>', 'error | warn | info | debug (env LOG_LEVEL)')
    .option(
      '--exactly-once',
      'Kafka mode: outputs and offsets in one Kafka transaction (read_committed downstream)'
    )
    .option(
      '--instance-id <id>',
      'Kafka mode with --exactly-once: id of this instance in its transactional id (default: the host name)'
    )
    .option('--metrics-port <n>', 'Kafka mode: serve /metrics and /health of this detector on 127.0.0.1:<n>')
    .option(
      '--stage-log <file>',
      'Kafka mode: write where each batch spent its time (and each GC pause) as JSON lines, for latency analysis'
    )
    .option(
      '--retry-for <duration>',
      'Kafka mode: give up once Kafka or Redis has been failing this long, e.g. 30s, 10m, 1h (env DAROOGHE_RETRY_FOR; default unlimited)'
    )
    .option(
      '--workers <n>',
      'Kafka mode: run n detector processes in the group, sharing the partitions (default 1)'
    )
    .action(async (flags: KafkaDetectFlags & { workers?: string }) => {
      if (flags.input === undefined) {
        const workers = workerCount(flags.workers)
        if (workers > 1) {
          // The children get this command line again, without --workers.
          await runDetectWorkers(process.argv.slice(2), workers)
          return
        }
        await runKafkaDetect(flags)
        return
      }
      if (flags.workers !== undefined)
        throw new DaroogheError('USAGE', '--workers is for Kafka mode, not --input')
      await runFileDetect(flags)
    })
}

/** `4MiB`, `512KiB`, `65536`: a size in bytes. */
export function parseSize(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB)?\s*$/.exec(text)
  const bytes = m
    ? Math.round(Number(m[1]) * (m[2] === 'MiB' ? 1 << 20 : m[2] === 'KiB' ? 1 << 10 : 1))
    : Number.NaN
  if (!(bytes >= 0 && bytes <= 256 << 20)) {
    throw new DaroogheError(
      'USAGE',
      `${flag} must be a size from 0 to 256MiB, like 4MiB or 512KiB (got '${text}')`
    )
  }
  return bytes
}

/** `--reply-topics a,b`: the list, [] for '', undefined (the default) when absent. */
export function replyTopicsFrom(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return value
    .split(',')
    .map(t => t.trim())
    .filter(t => t !== '')
}

/** Builds the processor from the flags common to file and Kafka modes. */
export function processorFromFlags(
  flags: DetectFlags,
  store: StateStore,
  clock: Clock,
  delivery: 'state-first' | 'outputs-first' = 'state-first'
): Processor {
  const threshold = Number(flags.alertThreshold)
  if (!(threshold >= 0 && threshold <= 100)) {
    throw new DaroogheError(
      'USAGE',
      `--alert-threshold must be a number from 0 to 100 (got '${flags.alertThreshold}')`
    )
  }
  const options = processorOptions({
    allowedLatenessMs: parseDuration(flags.allowedLateness, '--allowed-lateness'),
    alertThreshold: threshold,
    validation: {
      maxAgeMs: parseDuration(flags.maxEventAge, '--max-event-age'),
      maxFutureSkewMs: parseDuration(flags.maxClockSkew, '--max-clock-skew')
    },
    limits: limitsFromFlags(flags),
    collectOutcomes: flags.labels !== undefined,
    topics: flags.topics,
    keyPrefix: flags.keyPrefix,
    replyTopics: replyTopicsFrom(flags.replyTopics),
    journalMaxBytes: parseSize(flags.stateJournal ?? '16MiB', '--state-journal')
  })
  return createProcessor({ store, ruleSet: loadRuleSet(flags.rules), clock, options, delivery })
}

export interface DetectSummary {
  backtest: BacktestReport | null
  records: number
  approved: number
  fraud: number
  alerts: number
  errors: number
  /** Decisions late for their customer (among the approved and fraud ones). */
  late: number
  seconds: number
}

/** File mode: NDJSON in, the same processor on the in-memory store, NDJSON out. */
export async function runFileDetect(flags: DetectFlags): Promise<DetectSummary> {
  const nowMs = flags.now === undefined ? undefined : parseIso(flags.now)
  const batchSize = Number(flags.batchSize)
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DaroogheError('USAGE', `--batch-size must be a positive integer (got '${flags.batchSize}')`)
  }
  const store = new MemoryStateStore()
  // --now pins processing time too, so the same input always gives the same bytes out.
  const processor = processorFromFlags(flags, store, nowMs === undefined ? systemClock : fixedClock(nowMs))
  if (flags.profiles !== undefined)
    await seedProfiles(store, readLines(flags.profiles), { source: flags.profiles })
  const backtest = flags.labels === undefined ? null : new Backtest(processor.ruleSet)
  if (backtest && flags.labels) {
    let n = 0
    for await (const line of readLines(flags.labels)) backtest.addLabel(line, `${flags.labels}:${++n}`)
  }
  const sink = NdjsonSink.open(flags.output)
  const sum: DetectSummary = {
    backtest: null,
    records: 0,
    approved: 0,
    fraud: 0,
    alerts: 0,
    errors: 0,
    late: 0,
    seconds: 0
  }
  const started = performance.now()
  const progress = !flags.quiet && process.stderr.isTTY
  let lastProgress = started
  const input = openInput(flags.input!)
  const batches = readNdjsonBatches(input, {
    batchSize,
    maxLineBytes: processor.options.limits.maxEventBytes,
    ...(nowMs === undefined ? {} : { timestamp: nowMs })
  })
  try {
    for await (const batch of batches) {
      const { outputs, stats, outcomes } = await processor.processBatch(batch)
      await sink.write(outputs)
      backtest?.observe(outcomes)
      sum.records += stats.records
      sum.approved += stats.approved
      sum.fraud += stats.fraud
      sum.alerts += stats.alerts
      sum.errors += stats.errors
      sum.late += stats.late
      if (progress && performance.now() - lastProgress > 1000) {
        lastProgress = performance.now()
        process.stderr.write(`\rdetect: ${sum.records} records…`)
      }
    }
  } catch (cause) {
    if (cause instanceof DaroogheError) throw cause
    throw new DaroogheError('IO', `cannot read ${flags.input}: ${(cause as Error).message}`, { cause })
  }
  await sink.close()
  sum.seconds = (performance.now() - started) / 1000
  if (!flags.quiet) {
    const rate = sum.seconds > 0 ? Math.round(sum.records / sum.seconds) : sum.records
    process.stderr.write(
      `${progress ? '\r' : ''}detect: ${sum.records} records: ${sum.approved} approved, ${sum.fraud} fraud ` +
        `(${sum.late} of them decided late), ${sum.alerts} alerts, ${sum.errors} errors in ${sum.seconds.toFixed(2)} s (${rate} events/s)\n`
    )
  }
  if (backtest) {
    sum.backtest = backtest.report()
    if (!flags.quiet) process.stderr.write(backtest.format(sum.backtest))
  }
  return sum
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** '30s', '500ms', '2m', '1h', '1d'; a bare number is seconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim())
  if (!m)
    throw new DaroogheError(
      'USAGE',
      `${flag} must be a duration like 30s, 500ms, 2m, 1h or 1d (got '${text}')`
    )
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!)
}

function parseIso(text: string): number {
  const ms = Date.parse(text)
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) {
    throw new DaroogheError(
      'USAGE',
      `--now must be an ISO-8601 time like 2025-05-01T12:00:00Z (got '${text}')`
    )
  }
  return ms
}
