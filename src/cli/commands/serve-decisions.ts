import type { Command } from 'commander'
import { KafkaDecisionBus } from '../../adapters/kafka/decision-bus.ts'
import type { KafkaConnection } from '../../adapters/kafka/options.ts'
import type { RedisConnection } from '../../adapters/redis/connection.ts'
import { MemoryDecisionStore } from '../../adapters/memory/decision-store.ts'
import { RedisDecisionStore } from '../../adapters/redis/decision-store.ts'
import { redact } from '../../adapters/redis/state-store.ts'
import { DecisionService } from '../../apps/api/index.ts'
import { DEFAULT_REPLY_TOPIC, isTopicName } from '../../domain/reply.ts'
import { DaroogheError } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import type { DecisionStore } from '../../ports/decision-store.ts'
import { retryOptions, withRetry, type Resilience } from '../../retry.ts'
import { parseDuration } from '../../config/units.ts'

type Flags = Record<string, unknown>
type Env = Readonly<Record<string, string | undefined>>

/** `--decision-timeout`: a duration from 1 ms to 5 minutes; default 2 s. */
export function decisionTimeoutFrom(value: unknown): number {
  const ms = value === undefined ? 2_000 : parseDuration(String(value), '--decision-timeout')
  if (!(ms >= 1 && ms <= 300_000))
    throw new DaroogheError('USAGE', `--decision-timeout must be from 1ms to 5m (got '${String(value)}')`)
  return ms
}

/** `--decision-ttl`: how long ids and decisions are remembered; 1 s to 30 days, default 1 h. */
export function decisionTtlFrom(value: unknown): number {
  const ms = value === undefined ? 3_600_000 : parseDuration(String(value), '--decision-ttl')
  if (!(ms >= 1_000 && ms <= 30 * 86_400_000))
    throw new DaroogheError('USAGE', `--decision-ttl must be from 1s to 30d (got '${String(value)}')`)
  return ms
}

function topicFrom(value: unknown, flag: string, fallback: string): string {
  const name = value === undefined ? fallback : String(value)
  if (!isTopicName(name))
    throw new DaroogheError(
      'USAGE',
      `${flag} must be a topic name: 1-249 of letters, digits, . _ - (got '${name}')`
    )
  return name
}

/** Loopback addresses: the only ones serve takes decisions on without a token (or --insecure). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
}

/** The decision flags, checked: at start, whether or not Kafka is given. */
export interface DecisionSettings {
  readonly timeoutMs: number
  readonly ttlMs: number
  readonly topic: string
  readonly replyTopic: string
  readonly keyPrefix: string
}

export function decisionSettingsFrom(flags: Flags, env: Env): DecisionSettings {
  return Object.freeze({
    timeoutMs: decisionTimeoutFrom(flags.decisionTimeout),
    ttlMs: decisionTtlFrom(flags.decisionTtl),
    topic: topicFrom(flags.topic ?? env.TRANSACTIONS_TOPIC, '--topic', 'darooghe.transactions'),
    replyTopic: topicFrom(flags.replyTopic, '--reply-topic', DEFAULT_REPLY_TOPIC),
    keyPrefix: (flags.keyPrefix as string | undefined) ?? 'darooghe:decisions:'
  })
}

/** Decisions are taken beyond loopback only with a token, or when --insecure says so. */
export function checkDecisionAccess(flags: Flags, env: Env, host: string): void {
  const token = (flags.token as string | undefined) ?? env.DAROOGHE_ALERTS_TOKEN
  if (!isLoopback(host) && !token && flags.insecure !== true)
    throw new DaroogheError(
      'USAGE',
      `serve takes decisions on ${host} only with --token (or --insecure to allow anyone who can reach it)`
    )
}

export interface DecisionsSetup {
  readonly service: DecisionService
  /** One line for the start-up banner. */
  readonly describe: string
}

/**
 * The decision API of `darooghe serve --brokers`: the Kafka bus and the idempotency store,
 * Redis when `--redis` (or its env) is given, else this process's memory.
 */
export async function decisionsFrom(
  s: DecisionSettings,
  o: { kafka: KafkaConnection; redis: RedisConnection | null; log: Logger; resilience: Resilience }
): Promise<DecisionsSetup> {
  const { timeoutMs, ttlMs, topic, replyTopic, keyPrefix } = s
  let store: DecisionStore
  const redis = o.redis
  if (redis === null) store = new MemoryDecisionStore()
  else {
    store = await withRetry(
      `connect to Redis at ${redact(redis.url)}`,
      () => RedisDecisionStore.connect({ ...redis, keyPrefix }),
      o.log,
      retryOptions(o.resilience, { dependency: 'redis' })
    )
  }
  const bus = new KafkaDecisionBus({
    clientId: 'darooghe-serve',
    ...o.kafka,
    input: topic,
    replies: replyTopic,
    log: o.log,
    resilience: o.resilience
  })
  const service = new DecisionService({ bus, store, topic, replyTopic, timeoutMs, ttlMs, log: o.log })
  const where = redis === null ? 'in this process' : `in Redis under '${keyPrefix}'`
  return {
    service,
    describe: `decisions: POST /v1/decisions → ${topic}, replies on ${replyTopic}, timeout ${timeoutMs} ms, ids kept ${where}`
  }
}

export function decisionOptions(command: Command): Command {
  return command
    .option(
      '--topic <name>',
      'decisions: the input topic events go to (env TRANSACTIONS_TOPIC; default darooghe.transactions)'
    )
    .option(
      '--reply-topic <name>',
      `decisions: the topic the detector replies on, one of its --reply-topics (default ${DEFAULT_REPLY_TOPIC})`
    )
    .option(
      '--decision-timeout <duration>',
      'decisions: answer 504 after this long without a decision (default 2s)'
    )
    .option(
      '--decision-ttl <duration>',
      'decisions: how long transaction ids and decisions are kept (default 1h)'
    )
    .option(
      '--key-prefix <prefix>',
      'decisions: prefix of the Redis keys of transaction ids (default darooghe:decisions:)'
    )
    .option('--insecure', 'take decisions beyond loopback without --token')
}
