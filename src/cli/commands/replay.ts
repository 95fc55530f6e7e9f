import type { Command } from 'commander'
import { KafkaLogAdmin } from '../../adapters/kafka/index.ts'
import { RedisStateStore, redact } from '../../adapters/redis/state-store.ts'
import { kafkaDetectConfigFrom, type KafkaDetectFlags } from '../../config/detect.ts'
import { DaroogheError } from '../../errors.ts'
import { createLogger } from '../../logger.ts'
import { connectionOptions } from './connection-flags.ts'
import { scoringOptions } from './detect.ts'
import { runKafkaDetect } from './detect-kafka.ts'

interface ReplayFlags extends KafkaDetectFlags {
  fromBeginning?: boolean
  fromTimestamp?: string
  freshState?: boolean
  follow?: boolean
}

/** The point to replay from, checked before anything is touched. */
function startPoint(flags: ReplayFlags): 'beginning' | number {
  if (flags.fromBeginning && flags.fromTimestamp !== undefined)
    throw new DaroogheError('USAGE', 'give either --from-beginning or --from-timestamp, not both')
  if (flags.fromBeginning) return 'beginning'
  if (flags.fromTimestamp === undefined)
    throw new DaroogheError(
      'USAGE',
      'say where to replay from: --from-beginning or --from-timestamp <ISO-8601>'
    )
  const ms = Date.parse(flags.fromTimestamp)
  if (!/^\d{4}-\d\d-\d\dT/.test(flags.fromTimestamp) || Number.isNaN(ms))
    throw new DaroogheError(
      'USAGE',
      `--from-timestamp must be an ISO-8601 time such as 2026-11-22T10:00:00Z (got '${flags.fromTimestamp}')`
    )
  return ms
}

/**
 * `darooghe replay`: moves a consumer group's offsets on the input topic back to the beginning
 * or to a time, then runs the detector in that group until it has caught up with the end the
 * topic had when the replay started (or for good with --follow).
 *
 * Into the detector's own group, records it already processed are recognised by the processed
 * offsets kept with its state: they change no state and raise no new alert (the stored outputs
 * of the last batch are re-emitted byte for byte). Into a new group (state is per group), every
 * record is evaluated afresh; alert ids are `alert-<transaction_id>`, so the dispatcher, the API
 * and the MongoDB sink, which all dedupe by id, still deliver and store each alert once.
 * `--fresh-state` drops the group's state first, for a re-evaluation inside the same group.
 */
async function replayAction(flags: ReplayFlags): Promise<void> {
  const env = process.env
  const from = startPoint(flags)
  const group =
    flags.group ?? `darooghe-replay-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}`
  // Every flag is checked before the group's offsets move.
  const config = kafkaDetectConfigFrom({ ...flags, group, untilEnd: !flags.follow }, env)
  const log = createLogger('replay', config.common.logLevel)
  const kafka = config.common.kafka!.connection
  const brokers = kafka.brokers
  const topic = config.input
  const admin = new KafkaLogAdmin({ ...kafka, retries: 1, timeoutMs: 5_000 })
  try {
    const partitions = (await admin.listTopics()).find(t => t.name === topic)?.partitions ?? 0
    if (partitions === 0)
      throw new DaroogheError(
        'USAGE',
        `topic '${topic}' does not exist on ${brokers.join(',')}: check --topic`
      )
    const members = await admin.groupMembers(group)
    if (members > 0)
      throw new DaroogheError(
        'USAGE',
        `group '${group}' has ${members} active member(s): stop its detectors before replaying into it, or choose another --group`
      )
    const offsets =
      from === 'beginning' ? await admin.startOffsets(topic) : await admin.offsetsForTimestamp(topic, from)
    await admin.setCommittedOffsets(group, topic, offsets)
    log.info(
      { topic, group, from: from === 'beginning' ? 'beginning' : new Date(from).toISOString(), offsets },
      'group offsets reset'
    )
  } finally {
    await admin.close().catch(() => {})
  }
  if (flags.freshState && config.common.redis) {
    const { url, ca } = config.common.redis.connection
    const store = await RedisStateStore.connect({
      url,
      keyPrefix: `darooghe:${group}:`,
      ...(ca ? { ca } : {})
    })
    try {
      await store.clear()
      log.info({ group, redis: redact(url) }, 'state of the group dropped')
    } finally {
      await store.close()
    }
  }
  process.stderr.write(`replay: ${topic} into group ${group}${flags.follow ? '' : ', until caught up'}\n`)
  await runKafkaDetect(config)
}

export function registerReplay(program: Command): void {
  const replay = program
    .command('replay')
    .description(
      'reprocess the transactions topic from the beginning or from a time, into a group (offsets reset)'
    )
    .option('--from-beginning', 'replay from the earliest offset still in the topic')
    .option(
      '--from-timestamp <iso>',
      'replay from the first record at or after this time (record timestamps)'
    )
    .option('--group <id>', 'group to replay into (default: a new group darooghe-replay-<time>)')
    .option('--fresh-state', "drop the group's state in Redis first: every record is evaluated again")
    .option('--follow', 'keep running after catching up, as `darooghe detect` does')
    .option('--brokers <list>', 'Kafka bootstrap brokers (env DAROOGHE_BROKERS, KAFKA_BROKER_URL)')
    .option('--redis <url>', 'Redis for the state (env DAROOGHE_REDIS; default redis://127.0.0.1:6379)')
    .option('--memory-state', 'keep state in this process only')
    .option('--topic <name>', 'input topic (env TRANSACTIONS_TOPIC; default darooghe.transactions)')
    .option('--approved-topic <name>', 'approved decisions (default darooghe.transactions.approved)')
    .option('--fraud-topic <name>', 'fraud decisions (default darooghe.transactions.fraud)')
    .option('--alerts-topic <name>', 'alerts (default darooghe.fraud_alerts)')
    .option('--errors-topic <name>', 'validation failures (default darooghe.error_logs)')
  connectionOptions(replay, { kafka: true, redis: true })
  scoringOptions(replay)
  replay
    .option('--status-interval <s>', 'seconds between status log lines (0: none)', '10')
    .option('--log-level <level>', 'error | warn | info | debug (env LOG_LEVEL)')
    .action(async (flags: ReplayFlags) => {
      await replayAction(flags)
    })
}
