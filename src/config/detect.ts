import { hostname } from 'node:os'
import { DaroogheError } from '../errors.ts'
import { loadConfig, type ConnectionFlags, type DaroogheConfig } from './load.ts'
import { scoringFrom, type ScoringConfig, type ScoringFlags } from './scoring.ts'
import { deepFreeze, type Env, type Warn } from './setting.ts'
import { parsePositiveInt } from './units.ts'

/** The flags of `darooghe detect` in Kafka mode (and of `replay`, which runs the same detector). */
export interface KafkaDetectFlags extends ScoringFlags, ConnectionFlags {
  batchSize: string
  profiles?: string
  memoryState?: boolean
  group?: string
  topic?: string
  approvedTopic?: string
  fraudTopic?: string
  alertsTopic?: string
  errorsTopic?: string
  partitions?: string
  statusInterval?: string
  exactlyOnce?: boolean
  instanceId?: string
  metricsPort?: string
  /** Write the stage timeline (one JSON line per batch and per GC) to this file. */
  stageLog?: string
  /** Stop once the group has committed the end offsets the input had at start (replay). */
  untilEnd?: boolean
}

/** Everything the Kafka-mode detector runs with, checked and frozen before anything connects. */
export interface KafkaDetectConfig {
  /** Kafka, Redis (absent with --memory-state), log level and retry policy. */
  readonly common: DaroogheConfig
  readonly input: string
  readonly groupId: string
  /** Partitions of the topics it creates. Default 6. */
  readonly partitions: number
  readonly batchSize: number
  /** Between status log lines, ms; 0 for none. Default 10 000. */
  readonly statusEveryMs: number
  readonly exactlyOnce: boolean
  /** This instance in its transactional id (exactly-once). Default: the host name. */
  readonly instanceId: string
  readonly metricsPort?: string
  readonly stageLog?: string
  readonly untilEnd: boolean
  readonly profiles?: string
  readonly scoring: ScoringConfig
}

export function batchSizeFrom(text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1)
    throw new DaroogheError('USAGE', `--batch-size must be a positive integer (got '${text}')`)
  return n
}

export function kafkaDetectConfigFrom(flags: KafkaDetectFlags, env: Env, warn?: Warn): KafkaDetectConfig {
  const common = loadConfig(flags, env, flags.memoryState ? ['kafka'] : ['kafka', 'redis'], warn)
  const groupId = flags.group ?? env.DAROOGHE_GROUP ?? 'darooghe-detector'
  const statusSeconds = Number(flags.statusInterval ?? 10)
  if (!(statusSeconds >= 0))
    throw new DaroogheError(
      'USAGE',
      `--status-interval must be a number of seconds, 0 for none (got '${flags.statusInterval}')`
    )
  const scoring = scoringFrom({
    ...flags,
    // State belongs to the application (the group), as Kafka Streams' application.id.
    keyPrefix: `${groupId}:`,
    topics: {
      approved: flags.approvedTopic ?? env.LEGIT_TOPIC,
      fraud: flags.fraudTopic ?? env.FRAUD_TOPIC,
      alerts: flags.alertsTopic,
      errors: flags.errorsTopic
    }
  })
  return deepFreeze({
    common,
    input: flags.topic ?? env.TRANSACTIONS_TOPIC ?? 'darooghe.transactions',
    groupId,
    partitions: parsePositiveInt(flags.partitions, '--partitions') ?? 6,
    batchSize: batchSizeFrom(flags.batchSize),
    statusEveryMs: statusSeconds * 1000,
    exactlyOnce: flags.exactlyOnce === true,
    instanceId: flags.instanceId ?? hostname(),
    ...(flags.metricsPort !== undefined ? { metricsPort: flags.metricsPort } : {}),
    ...(flags.stageLog !== undefined ? { stageLog: flags.stageLog } : {}),
    untilEnd: flags.untilEnd === true,
    ...(flags.profiles !== undefined ? { profiles: flags.profiles } : {}),
    scoring
  })
}
