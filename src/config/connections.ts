import { DaroogheError } from '../errors.ts'

type Env = Readonly<Record<string, string | undefined>>

/** Defaults match scripts/services.sh and deploy/docker-compose.yml. */
export const DEFAULT_BROKERS = '127.0.0.1:9092'
export const DEFAULT_REDIS = 'redis://127.0.0.1:6379'
export const DEFAULT_MONGO = 'mongodb://127.0.0.1:27017'

function pick(flag: unknown, env: Env, names: readonly string[]): [string, string] | undefined {
  if (typeof flag === 'string' && flag !== '') return [flag, 'flag']
  for (const n of names) {
    const v = env[n]
    if (v !== undefined && v !== '') return [v, n]
  }
  return undefined
}

/** `--brokers`, else DAROOGHE_BROKERS, else KAFKA_BROKER_URL (reference docker setup). */
export function brokersFrom(flag: unknown, env: Env): string[] {
  const [value, from] = pick(flag, env, ['DAROOGHE_BROKERS', 'KAFKA_BROKER_URL']) ?? [
    DEFAULT_BROKERS,
    'default'
  ]
  const brokers = value
    .split(',')
    .map(s => s.trim().replace(/^(PLAINTEXT|kafka):\/\//i, ''))
    .filter(Boolean)
  const label = from === 'flag' ? '--brokers' : from
  if (brokers.length === 0) throw new DaroogheError('USAGE', `${label} is empty: give host:port[,host:port]`)
  for (const b of brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(b)) {
      throw new DaroogheError('USAGE', `${label}: broker '${b}' is not host:port (e.g. 127.0.0.1:9092)`)
    }
  }
  return brokers
}

function url(
  flag: unknown,
  env: Env,
  names: string[],
  fallback: string,
  flagName: string,
  schemes: RegExp
): string {
  const [value, from] = pick(flag, env, names) ?? [fallback, 'default']
  if (!schemes.test(value)) {
    const label = from === 'flag' ? flagName : from
    throw new DaroogheError(
      'USAGE',
      `${label} must be a URL like ${fallback} (got '${value.replace(/\/\/[^@]*@/, '//***@')}')`
    )
  }
  return value
}

export function redisFrom(flag: unknown, env: Env): string {
  return url(flag, env, ['DAROOGHE_REDIS', 'REDIS_URL'], DEFAULT_REDIS, '--redis', /^rediss?:\/\/[^\s]+$/)
}

export function mongoFrom(flag: unknown, env: Env): string {
  return url(
    flag,
    env,
    ['DAROOGHE_MONGO', 'MONGO_URL'],
    DEFAULT_MONGO,
    '--mongo',
    /^mongodb(\+srv)?:\/\/[^\s]+$/
  )
}

/** Log level: `--log-level`, else LOG_LEVEL, else info. */
export function logLevelFrom(flag: unknown, env: Env): string {
  const [value, from] = pick(flag, env, ['LOG_LEVEL']) ?? ['info', 'default']
  const level = value.toLowerCase()
  if (!['fatal', 'error', 'warn', 'warning', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new DaroogheError(
      'USAGE',
      `${from === 'flag' ? '--log-level' : from} must be one of error, warn, info, debug, trace, silent (got '${value}')`
    )
  }
  return level === 'warning' ? 'warn' : level
}
