import { readFileSync } from 'node:fs'
import type { KafkaConnection } from '../adapters/kafka/options.ts'
import type { RedisConnection } from '../adapters/redis/connection.ts'
import { DaroogheError, redactSecrets } from '../errors.ts'
import { kafkaFromProperties } from './kafka-properties.ts'
import { readProperties, type Property } from './properties.ts'
import type { Env, Setting, Warn } from './setting.ts'

/** Defaults match scripts/services.sh and deploy/docker-compose.yml. */
export const DEFAULT_BROKERS = '127.0.0.1:9092'
export const DEFAULT_REDIS = 'redis://127.0.0.1:6379'
export const DEFAULT_MONGO = 'mongodb://127.0.0.1:27017'

/** A value and where it came from (`flag --brokers`, `env DAROOGHE_BROKERS`, `f.properties:3`, `default`). */
interface Picked {
  readonly value: string
  readonly source: string
  /** How errors name it: the flag, the variable or the file position. */
  readonly label: string
}

function pick(flag: unknown, flagName: string, env: Env, names: readonly string[]): Picked | undefined {
  if (typeof flag === 'string' && flag !== '')
    return { value: flag, source: `flag ${flagName}`, label: flagName }
  for (const n of names) {
    const v = env[n]
    if (v !== undefined && v !== '') return { value: v, source: `env ${n}`, label: n }
  }
  return undefined
}

function fromProperty(p: Property): Picked {
  return {
    value: p.value,
    source: `${p.file}:${p.line}`,
    label: `kafka config ${p.file}:${p.line}: bootstrap.servers`
  }
}

function splitBrokers({ value, label }: Picked): string[] {
  const brokers = value
    .split(',')
    .map(s => s.trim().replace(/^(PLAINTEXT|SSL|SASL_SSL|SASL_PLAINTEXT|kafka):\/\//i, ''))
    .filter(Boolean)
  if (brokers.length === 0) throw new DaroogheError('USAGE', `${label} is empty: give host:port[,host:port]`)
  for (const b of brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(b)) {
      throw new DaroogheError('USAGE', `${label}: broker '${b}' is not host:port (e.g. 127.0.0.1:9092)`)
    }
  }
  return brokers
}

/** `--brokers`, else DAROOGHE_BROKERS, else KAFKA_BROKER_URL (reference docker setup), else the default. */
export function brokersFrom(flag: unknown, env: Env): string[] {
  return splitBrokers(
    pick(flag, '--brokers', env, ['DAROOGHE_BROKERS', 'KAFKA_BROKER_URL']) ?? {
      value: DEFAULT_BROKERS,
      source: 'default',
      label: 'default'
    }
  )
}

/** Kafka as one command sees it: the connection for the adapters and how each value was chosen. */
export interface KafkaConfig {
  readonly connection: KafkaConnection
  /** Kafka was named (flag, environment or properties file) rather than left to the default. */
  readonly named: boolean
  /** The properties file, when one was given. */
  readonly file?: string
  readonly settings: readonly Setting[]
}

/**
 * Kafka from `--brokers`, `--kafka-config FILE` (else DAROOGHE_KAFKA_CONFIG) and the
 * environment. Flags win over the environment, which wins over the file; then the defaults.
 */
export function kafkaConfigFrom(
  flags: { brokers?: unknown; kafkaConfig?: unknown },
  env: Env,
  warn: Warn
): KafkaConfig {
  const fileFrom = pick(flags.kafkaConfig, '--kafka-config', env, ['DAROOGHE_KAFKA_CONFIG'])
  // SASL credentials may come from the environment, so the file can be shared without them.
  const secret = (name: string) => {
    const value = env[name]
    return value ? { value, name } : undefined
  }
  const envSasl = {
    username: secret('DAROOGHE_KAFKA_USERNAME'),
    password: secret('DAROOGHE_KAFKA_PASSWORD'),
    token: secret('DAROOGHE_KAFKA_TOKEN')
  }
  const stray = envSasl.username ?? envSasl.password ?? envSasl.token
  if (!fileFrom && stray)
    throw new DaroogheError(
      'CONFIG',
      `${stray.name} is set but no --kafka-config (DAROOGHE_KAFKA_CONFIG) says security.protocol=SASL_SSL or SASL_PLAINTEXT: give one, or unset ${stray.name}`
    )
  const file = fileFrom
    ? kafkaFromProperties(readProperties(fileFrom.value, fileFrom.label), fileFrom.value, warn, envSasl)
    : undefined
  const given = pick(flags.brokers, '--brokers', env, ['DAROOGHE_BROKERS', 'KAFKA_BROKER_URL'])
  const chosen = given ??
    (file?.bootstrap ? fromProperty(file.bootstrap) : undefined) ?? {
      value: DEFAULT_BROKERS,
      source: 'default',
      label: 'default'
    }
  const brokers = splitBrokers(chosen)
  const pathEnv = env.DAROOGHE_KAFKA_DATA_PATH
  if (pathEnv !== undefined && pathEnv !== '' && pathEnv !== 'direct' && pathEnv !== 'library')
    throw new DaroogheError(
      'CONFIG',
      `DAROOGHE_KAFKA_DATA_PATH must be direct or library (got '${pathEnv}'): fix or unset it`
    )
  const dataPath = pathEnv ? (pathEnv as 'direct' | 'library') : file?.dataPath
  const connection: KafkaConnection = {
    brokers,
    ...(file?.clientId ? { clientId: file.clientId } : {}),
    ...(file?.tls ? { tls: file.tls } : {}),
    ...(file?.sasl ? { sasl: file.sasl } : {}),
    ...(file?.compression ? { compression: file.compression } : {}),
    ...(dataPath ? { dataPath } : {})
  }
  const settings: Setting[] = [
    ...(fileFrom ? [{ name: 'kafka-config', value: fileFrom.value, source: fileFrom.source }] : []),
    { name: 'bootstrap.servers', value: brokers.join(','), source: chosen.source },
    ...(file?.settings ?? [
      { name: 'security.protocol', value: 'PLAINTEXT', source: 'default' },
      { name: 'client.id', value: 'darooghe', source: 'default' },
      { name: 'compression.type', value: 'none', source: 'default' },
      { name: 'darooghe.kafka.data.path', value: 'direct', source: 'default' }
    ])
  ].map(s =>
    pathEnv && s.name === 'darooghe.kafka.data.path'
      ? { name: s.name, value: pathEnv, source: 'env DAROOGHE_KAFKA_DATA_PATH' }
      : s
  )
  return {
    connection,
    named: given !== undefined || fileFrom !== undefined,
    ...(fileFrom ? { file: fileFrom.value } : {}),
    settings
  }
}

function checkUrl(p: Picked, fallback: string, schemes: RegExp): string {
  if (!schemes.test(p.value)) {
    throw new DaroogheError(
      'USAGE',
      `${p.label} must be a URL like ${fallback} (got '${redactSecrets(p.value)}')`
    )
  }
  return p.value
}

const REDIS_URL = /^rediss?:\/\/[^\s]+$/
const MONGO_URL = /^mongodb(\+srv)?:\/\/[^\s]+$/

export function redisFrom(flag: unknown, env: Env): string {
  const p = pick(flag, '--redis', env, ['DAROOGHE_REDIS', 'REDIS_URL'])
  return checkUrl(
    p ?? { value: DEFAULT_REDIS, source: 'default', label: 'default' },
    DEFAULT_REDIS,
    REDIS_URL
  )
}

export function mongoFrom(flag: unknown, env: Env): string {
  const p = pick(flag, '--mongo', env, ['DAROOGHE_MONGO', 'MONGO_URL'])
  return checkUrl(
    p ?? { value: DEFAULT_MONGO, source: 'default', label: 'default' },
    DEFAULT_MONGO,
    MONGO_URL
  )
}

export interface RedisConfig {
  readonly connection: RedisConnection
  /** Redis was named (flag or environment) rather than left to the default. */
  readonly named: boolean
  readonly settings: readonly Setting[]
}

/**
 * Redis from `--redis URL` (else DAROOGHE_REDIS, REDIS_URL) and `--redis-ca FILE` (else
 * DAROOGHE_REDIS_CA), whose PEM text is read here. `rediss://user:password@host:port` is TLS
 * with an ACL user; the password is shown masked.
 */
export function redisConfigFrom(flags: { redis?: unknown; redisCa?: unknown }, env: Env): RedisConfig {
  const p = pick(flags.redis, '--redis', env, ['DAROOGHE_REDIS', 'REDIS_URL'])
  const url = checkUrl(
    p ?? { value: DEFAULT_REDIS, source: 'default', label: 'default' },
    DEFAULT_REDIS,
    REDIS_URL
  )
  const caFrom = pick(flags.redisCa, '--redis-ca', env, ['DAROOGHE_REDIS_CA'])
  let ca: string | undefined
  if (caFrom) {
    if (!url.startsWith('rediss://'))
      throw new DaroogheError(
        'USAGE',
        `${caFrom.label} is for TLS: give a rediss:// URL (got '${redactSecrets(url.split(',')[0]!)}')`
      )
    ca = readPem(caFrom, 'the CA that signed the Redis server certificate')
  }
  const settings: Setting[] = [
    { name: 'url', value: redactSecrets(url), source: p?.source ?? 'default' },
    ...(caFrom ? [{ name: 'ca', value: caFrom.value, source: caFrom.source }] : [])
  ]
  return { connection: { url, ...(ca ? { ca } : {}) }, named: p !== undefined, settings }
}

export interface MongoConfig {
  /** The URL as given: the driver reads its own options (tls, tlsCAFile, authSource, replicaSet). */
  readonly url: string
  readonly named: boolean
  readonly settings: readonly Setting[]
}

export function mongoConfigFrom(flags: { mongo?: unknown }, env: Env): MongoConfig {
  const p = pick(flags.mongo, '--mongo', env, ['DAROOGHE_MONGO', 'MONGO_URL'])
  const url = checkUrl(
    p ?? { value: DEFAULT_MONGO, source: 'default', label: 'default' },
    DEFAULT_MONGO,
    MONGO_URL
  )
  return {
    url,
    named: p !== undefined,
    settings: [{ name: 'url', value: redactSecrets(url), source: p?.source ?? 'default' }]
  }
}

function readPem(p: Picked, what: string): string {
  let text: string
  try {
    text = readFileSync(p.value, 'utf8')
  } catch (cause) {
    throw new DaroogheError(
      'CONFIG',
      `${p.label}: cannot read '${p.value}' (${(cause as NodeJS.ErrnoException).code ?? 'error'}): give the PEM file of ${what}`,
      { cause }
    )
  }
  if (!text.includes('-----BEGIN '))
    throw new DaroogheError(
      'CONFIG',
      `${p.label}: '${p.value}' is not PEM (no -----BEGIN line): give the PEM file of ${what}`
    )
  return text
}

/** Log level: `--log-level`, else LOG_LEVEL, else info. */
export function logLevelFrom(flag: unknown, env: Env): string {
  return logLevelSetting(flag, env).value
}

export function logLevelSetting(flag: unknown, env: Env): Setting {
  const p = pick(flag, '--log-level', env, ['LOG_LEVEL'])
  const value = p?.value ?? 'info'
  const level = value.toLowerCase()
  if (!['fatal', 'error', 'warn', 'warning', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new DaroogheError(
      'USAGE',
      `${p?.label ?? 'default'} must be one of error, warn, info, debug, trace, silent (got '${value}')`
    )
  }
  return { name: 'log-level', value: level === 'warning' ? 'warn' : level, source: p?.source ?? 'default' }
}
