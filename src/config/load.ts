import type { RetryPolicy } from '../retry.ts'
import {
  kafkaConfigFrom,
  logLevelSetting,
  mongoConfigFrom,
  redisConfigFrom,
  type KafkaConfig,
  type MongoConfig,
  type RedisConfig
} from './connections.ts'
import { retrySetting } from './retry.ts'
import { deepFreeze, type Env, type Setting, type Warn } from './setting.ts'

export type Service = 'kafka' | 'redis' | 'mongo'

/**
 * The configuration one command runs with: flags, environment, the Kafka properties file and
 * the defaults merged and checked once, deeply frozen. Each service is present when the
 * command uses it (whether or not the user named it: see `named`).
 */
export interface DaroogheConfig {
  readonly kafka?: KafkaConfig
  readonly redis?: RedisConfig
  readonly mongo?: MongoConfig
  readonly logLevel: string
  readonly retry: RetryPolicy
  /** Settings shared by every command (log level, retry-for), with their sources. */
  readonly settings: readonly Setting[]
}

/** The connection flags of every command (commander's camel-cased names). */
export interface ConnectionFlags {
  readonly brokers?: unknown
  readonly kafkaConfig?: unknown
  readonly redis?: unknown
  readonly redisCa?: unknown
  readonly mongo?: unknown
  readonly logLevel?: unknown
  readonly retryFor?: unknown
}

/**
 * Warnings (unknown properties) go to stderr once per process. The workers of `detect
 * --workers` stay quiet: their parent loaded the same configuration and said it already.
 */
export function stderrWarn(env: Env): Warn {
  return env.DAROOGHE_WORKER !== undefined
    ? () => {}
    : line => process.stderr.write(`darooghe: warning: ${line}\n`)
}

export function loadConfig(
  flags: ConnectionFlags,
  env: Env,
  uses: readonly Service[],
  warn: Warn = stderrWarn(env)
): DaroogheConfig {
  const level = logLevelSetting(flags.logLevel, env)
  const retry = retrySetting(flags.retryFor, env)
  const config: DaroogheConfig = {
    ...(uses.includes('kafka') ? { kafka: kafkaConfigFrom(flags, env, warn) } : {}),
    ...(uses.includes('redis') ? { redis: redisConfigFrom(flags, env) } : {}),
    ...(uses.includes('mongo') ? { mongo: mongoConfigFrom(flags, env) } : {}),
    logLevel: level.value,
    retry: retry.policy,
    settings: [level, retry.setting]
  }
  return deepFreeze(config)
}
