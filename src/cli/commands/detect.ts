import type { Command } from 'commander'
import { MemoryStateStore } from '../../adapters/memory/state-store.ts'
import { NdjsonSink, openInput, readLines, readNdjsonBatches } from '../../adapters/file/index.ts'
import { Backtest, seedProfiles, systemClock, type BacktestReport } from '../../apps/processor/index.ts'
import { batchSizeFrom, kafkaDetectConfigFrom, type KafkaDetectFlags } from '../../config/detect.ts'
import { processorFromFlags, type ScoringFlags } from '../../config/scoring.ts'
import { DaroogheError } from '../../errors.ts'
import { fixedClock } from '../../stream/clock.ts'
import { runKafkaDetect } from './detect-kafka.ts'
import { connectionOptions } from './connection-flags.ts'
import { runDetectWorkers, workerCount } from './detect-workers.ts'

/** Flags of `darooghe detect` in file mode. */
export interface DetectFlags extends ScoringFlags {
  input?: string
  output: string
  now?: string
  profiles?: string
  batchSize: string
  quiet?: boolean
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
  connectionOptions(detect, { kafka: true, redis: true }, 'Kafka mode: ')
  detect.action(async (flags: KafkaDetectFlags & DetectFlags & { workers?: string }) => {
    if (flags.input === undefined) {
      const workers = workerCount(flags.workers)
      // Checked once here, before any worker starts; each worker reads the same again.
      const config = kafkaDetectConfigFrom(flags, process.env)
      if (workers > 1) {
        // The children get this command line again, without --workers.
        await runDetectWorkers(process.argv.slice(2), workers)
        return
      }
      await runKafkaDetect(config)
      return
    }
    if (flags.workers !== undefined)
      throw new DaroogheError('USAGE', '--workers is for Kafka mode, not --input')
    await runFileDetect(flags)
  })
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
  const batchSize = batchSizeFrom(flags.batchSize)
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
