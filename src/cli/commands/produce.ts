import { setTimeout as delay } from 'node:timers/promises'
import type { Command } from 'commander'
import { KAFKA_CONFIG_HELP } from './connection-flags.ts'
import { KafkaLogAdmin, KafkaLogProducer } from '../../adapters/kafka/index.ts'
import { createGenerator, createNdjsonWriter, createPacer, labelLine } from '../../apps/generator/index.ts'
import type { NdjsonWriter } from '../../apps/generator/index.ts'
import { runProducer, SentLog } from '../../apps/producer/index.ts'
import type { KafkaConnection } from '../../adapters/kafka/options.ts'
import { loadConfig } from '../../config/load.ts'
import { DaroogheError } from '../../errors.ts'
import { createLogger, type Logger } from '../../logger.ts'
import { kafkaError } from '../../adapters/kafka/errors.ts'
import { retryOptions, withRetry } from '../../retry.ts'
import { resilienceFrom } from './retry-flag.ts'
import type { GeneratorOptions } from '../../apps/generator/index.ts'
import { DEFAULT_HISTORY_EVENTS } from '../../apps/generator/index.ts'
import { addGeneratorOptions, capacityWarning, generatorOptionsFrom } from './generate.ts'
import { createWriteStream } from 'node:fs'

type Flags = Record<string, unknown>
const INIT_MODES = ['flush', 'append', 'skip'] as const
type InitMode = (typeof INIT_MODES)[number]

function positiveInt(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new DaroogheError('USAGE', `${flag} must be a positive integer (got '${String(value)}')`)
  return n
}

function nonNegativeInt(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0)
    throw new DaroogheError('USAGE', `${flag} must be 0 or a positive integer (got '${String(value)}')`)
  return n
}

function initModeFrom(flags: Flags, env: NodeJS.ProcessEnv): InitMode | undefined {
  const raw = (flags.init as string | undefined) ?? env.EVENT_INIT_MODE
  if (raw === undefined || raw === '') return undefined
  if (!(INIT_MODES as readonly string[]).includes(raw)) {
    throw new DaroogheError(
      'USAGE',
      `${flags.init ? '--init' : 'EVENT_INIT_MODE'} must be flush, append or skip (got '${raw}')`
    )
  }
  return raw as InitMode
}

async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(Math.max(0, Math.ceil(ms)), undefined, signal ? { signal } : undefined)
  } catch {
    // aborted: callers check the signal
  }
}

async function produceAction(flags: Flags): Promise<void> {
  const env = process.env
  const config = loadConfig(flags, env, ['kafka'])
  const log = createLogger('produce', config.logLevel)
  const kafka = config.kafka!.connection
  const brokers = kafka.brokers
  const topic = (flags.topic as string | undefined) ?? env.TRANSACTIONS_TOPIC ?? 'darooghe.transactions'
  const partitions = positiveInt(flags.partitions, '--partitions', 6)
  const batchSize = positiveInt(flags.batchSize, '--batch-size', 2_000)
  const lingerMs = nonNegativeInt(flags.lingerMs, '--linger-ms', 0)
  const maxBuffered = positiveInt(flags.maxBuffered, '--max-buffered', 100_000)
  const acks = (flags.acks as string | undefined) ?? 'all'
  if (!['all', 'leader', 'none'].includes(acks))
    throw new DaroogheError('USAGE', `--acks must be all, leader or none (got '${acks}')`)
  const init = initModeFrom(flags, env)

  const wallStart = Date.now()
  const genOptions = generatorOptionsFrom(flags, env, wallStart)
  // "As fast as the broker allows": events are stamped at a nominal constant rate and sent
  // without pacing, so event times stay close to the wall clock instead of following the
  // daily shape hours into the future (the broker refuses timestamps > 1 h ahead).
  const unpaced = genOptions.rate === 'max' || flags.unpaced === true
  if (genOptions.rate === 'max') genOptions.rate = positiveInt(flags.nominalRate, '--nominal-rate', 50_000)
  if (init !== undefined && genOptions.history === undefined) genOptions.history = DEFAULT_HISTORY_EVENTS

  // One retry policy (--retry-for) for every call to Kafka.
  const resilience = resilienceFrom(config.retry, log, ['kafka'])
  // Init mode decides what happens to the topic and the history before the live stream.
  await withRetry(
    `prepare the topic on Kafka at ${brokers.join(',')}`,
    () => prepareTopic(kafka, topic, partitions, init, genOptions, log),
    log,
    retryOptions(resilience, { initialMs: 250, dependency: 'kafka' })
  )

  const generator = createGenerator(genOptions)
  const warning = capacityWarning(generator.options)
  if (warning) log.warn(warning)
  const producer = new KafkaLogProducer({
    ...kafka,
    idempotent: acks === 'all',
    acks: acks as 'all' | 'leader' | 'none',
    // One client-level retry; our loop retries the same batch with backoff and logs it.
    retries: 1,
    retryDelayMs: 100,
    timeoutMs: 10_000
  })
  const sentLog = typeof flags.sentLog === 'string' ? new SentLog(flags.sentLog) : undefined
  const labels: NdjsonWriter | undefined =
    typeof flags.labels === 'string' ? createNdjsonWriter(createWriteStream(flags.labels)) : undefined
  const abort = new AbortController()
  const stop = (): void => abort.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const o = generator.options
  log.info(
    { brokers, topic, rate: o.rate, count: o.count, history: o.history, seed: o.seed, acks, batchSize },
    'producing'
  )
  try {
    const result = await runProducer({
      generator,
      pacer: unpaced ? { dueAt: () => Number.NEGATIVE_INFINITY } : createPacer(o, wallStart),
      producer,
      topic,
      log,
      clock: Date.now,
      sleep,
      signal: abort.signal,
      resilience,
      batchSize,
      lingerMs,
      maxBuffered,
      labelHeaders: flags.labelHeaders !== false,
      onAcked: (batch, acked, at) => {
        sentLog?.write(batch, acked, at)
        if (labels) for (const p of batch) labels.push(labelLine(p.source))
      }
    })
    const seconds = result.elapsedMs / 1000
    const rate = seconds > 0 ? Math.round(result.sent / seconds) : result.sent
    log.info({ ...result, eventsPerSecond: rate }, 'done')
    process.stderr.write(
      `darooghe produce: ${result.sent} events to ${topic} in ${seconds.toFixed(1)} s (${rate} events/s achieved` +
        `${unpaced ? ', unpaced' : `, target ${o.rate === 'max' ? 'max' : `${o.rate}/s`}`}), ${result.retries} retried batches\n`
    )
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await producer.close()
    await sentLog?.close()
    await labels?.close()
  }
}

async function prepareTopic(
  kafka: KafkaConnection,
  topic: string,
  partitions: number,
  init: InitMode | undefined,
  genOptions: GeneratorOptions,
  log: Logger
): Promise<void> {
  const admin = new KafkaLogAdmin({ ...kafka, retries: 0, timeoutMs: 5_000 })
  try {
    const existing = (await admin.listTopics()).find(t => t.name === topic)
    if (init === 'flush' && existing) {
      log.info({ topic }, 'init mode flush: deleting the topic')
      await admin.deleteTopics([topic])
      await waitUntilGone(admin, topic)
    }
    await admin.createTopics([{ name: topic, partitions }])
    if (init === 'skip' && existing) {
      const ends = await admin.endOffsets(topic)
      if (ends.some(e => e > 0)) {
        log.info({ topic }, 'init mode skip: the topic has data, no history backfill')
        genOptions.history = 0
      }
    }
  } catch (cause) {
    throw kafkaError('cannot prepare the topic', cause)
  } finally {
    await admin.close().catch(() => {})
  }
}

async function waitUntilGone(admin: KafkaLogAdmin, topic: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (!(await admin.listTopics()).some(t => t.name === topic)) return
    await sleep(100)
  }
  throw new DaroogheError('TIMEOUT', `topic ${topic} still exists 30 s after deletion`)
}

export function registerProduce(program: Command): void {
  const cmd = program
    .command('produce')
    .description(
      'produce generated payment events to Kafka: idempotent, batched, keyed by customer_id, rate-controlled'
    )
  addGeneratorOptions(cmd)
    .option(
      '--brokers <list>',
      'Kafka bootstrap brokers host:port[,…] (env DAROOGHE_BROKERS, KAFKA_BROKER_URL)'
    )
    .option('--kafka-config <file>', KAFKA_CONFIG_HELP)
    .option('--topic <name>', 'topic to write (env TRANSACTIONS_TOPIC; default darooghe.transactions)')
    .option('--unpaced', 'send at once, keeping the event times of --rate (backfills and benchmarks)')
    .option('--nominal-rate <n>', 'with --rate max: the event-time spacing in events/s (default 50000)')
    .option('--partitions <n>', 'partitions when the topic is created (default 6)')
    .option(
      '--acks <all|leader|none>',
      'acknowledgements; anything but all turns idempotence off (default all)'
    )
    .option('--batch-size <n>', 'records per produce request (default 2000)')
    .option(
      '--linger-ms <ms>',
      'how long a partial batch waits for more records (default 0: records go out as soon as they are due; batches grow while a send is in flight)'
    )
    .option(
      '--max-buffered <n>',
      'records buffered while the broker is away before the generator waits (default 100000)'
    )
    .option(
      '--init <mode>',
      'flush | append | skip: what to do with the topic and the history first (env EVENT_INIT_MODE)'
    )
    .option(
      '--sent-log <file>',
      'append every acknowledged event: id, partition, offset, send and ack times (NDJSON)'
    )
    .option('--labels <file>', 'write ground-truth labels as NDJSON {transaction_id, label, scenario_id}')
    .option('--no-label-headers', 'do not put labels in Kafka headers')
    .option('--log-level <level>', 'error | warn | info | debug (env LOG_LEVEL; default info)')
    .option(
      '--retry-for <duration>',
      'give up once Kafka has been failing this long, e.g. 30s, 10m, 1h (env DAROOGHE_RETRY_FOR; default unlimited: buffer and retry)'
    )
    .addHelpText(
      'after',
      `
Init modes (as DarooghePulse's EVENT_INIT_MODE): flush deletes and recreates the topic, then
backfills --history events (default ${DEFAULT_HISTORY_EVENTS} over 7 days, record timestamp = event time);
append backfills into the existing topic; skip backfills only when the topic is empty.

Examples:
  darooghe produce --rate 1000 --duration 60s
  darooghe produce --init flush --history 20000 --rate 100
  KAFKA_BROKER_URL=127.0.0.1:9092 EVENT_RATE=600 darooghe produce`
    )
    .action(async (_opts: Flags, command: Command) => {
      await produceAction(command.opts())
    })
}
