import { readFileSync } from 'node:fs'
import type {
  KafkaCompression,
  KafkaDataPath,
  KafkaSasl,
  KafkaTls,
  SaslMechanism
} from '../adapters/kafka/options.ts'
import { DaroogheError } from '../errors.ts'
import { jaasFits, parseJaas } from './jaas.ts'
import { didYouMean, IGNORED_WITH_ADVICE, KAFKA_KEYS, KNOWN_UNUSED, type KafkaKey } from './kafka-keys.ts'
import type { Property } from './properties.ts'
import { MASK, type Setting, type Warn } from './setting.ts'

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'

/** What a properties file says about the connection, before flags and env are applied. */
export interface KafkaFileSettings {
  /** `bootstrap.servers` as written, with its entry (flags and env may override it). */
  readonly bootstrap?: Property
  readonly clientId?: string
  readonly tls?: KafkaTls
  readonly sasl?: KafkaSasl
  readonly compression?: KafkaCompression
  readonly dataPath?: KafkaDataPath
  /** The effective values as `config print` shows them (secrets masked), except bootstrap.servers. */
  readonly settings: readonly Setting[]
}

const MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']
const PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']
const CODECS: readonly KafkaCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const DATA_PATHS: readonly KafkaDataPath[] = ['direct', 'library']

const at = (p: Property): string => `${p.file}:${p.line}`

function fail(p: Property | string, message: string): never {
  const where = typeof p === 'string' ? p : at(p)
  throw new DaroogheError('CONFIG', `kafka config ${where}: ${message}`)
}

/**
 * Sorts the file's keys: the read ones (last value wins), a typo of one of them (an error),
 * and the rest (one warning per key name).
 */
function sortKeys(properties: readonly Property[], warn: Warn): Map<KafkaKey, Property> {
  const known = new Map<KafkaKey, Property>()
  const warned = new Set<string>()
  // A file shared with the Java client names the same CA and certificate twice: as PEM for
  // us and librdkafka, as a keystore for Java. Its keystore keys then say nothing new.
  const present = new Set(properties.map(p => p.key))
  const covered = (key: string) =>
    (key.startsWith('ssl.truststore.') && present.has('ssl.ca.location')) ||
    (key.startsWith('ssl.keystore.') && present.has('ssl.certificate.location'))
  for (const p of properties) {
    const key = p.key
    if ((KAFKA_KEYS as readonly string[]).includes(key)) {
      known.set(key as KafkaKey, p)
      continue
    }
    if (warned.has(key)) continue
    const advice = IGNORED_WITH_ADVICE[key]
    if (advice === undefined && !KNOWN_UNUSED.has(key)) {
      const meant = didYouMean(key)
      if (meant) fail(p, `unknown property '${key}': did you mean '${meant}'?`)
    }
    warned.add(key)
    if (covered(key)) continue
    warn(
      `kafka config ${at(p)}: ${advice ? `'${key}' is ignored: ${advice}` : `ignoring property '${key}' (Darooghe does not use it)`}`
    )
  }
  return known
}

function oneOf<T extends string>(p: Property, allowed: readonly T[], upper: boolean): T {
  const v = upper ? p.value.trim().toUpperCase() : p.value.trim().toLowerCase()
  if (!(allowed as readonly string[]).includes(v))
    fail(p, `${p.key} must be one of ${allowed.join(', ')} (got '${p.value}')`)
  return v as T
}

/** Reads a PEM file a property names; the error names the property, the path and the fix. */
function pem(p: Property, what: string): string {
  const path = p.value.trim()
  if (path === '') fail(p, `${p.key} is empty: give the path of the ${what} PEM file, or remove the line`)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error'
    fail(p, `${p.key}: cannot read '${path}' (${code}): give the path of a readable ${what} PEM file`)
  }
  if (!text.includes('-----BEGIN '))
    fail(
      p,
      `${p.key}: '${path}' is not PEM (no -----BEGIN line): convert it, e.g. openssl x509 -inform der -in ${path} -out ${path}.pem`
    )
  return text
}

/** Maps the keys of a Kafka client properties file onto KafkaConnection's TLS, SASL and options. */
/** SASL credentials from the environment, which win over the file's (the file can then be shared). */
export interface SaslFromEnv {
  readonly username?: EnvValue
  readonly password?: EnvValue
  readonly token?: EnvValue
}

export interface EnvValue {
  readonly value: string
  /** The variable's name. */
  readonly name: string
}

export function kafkaFromProperties(
  properties: readonly Property[],
  file: string,
  warn: Warn,
  envSasl: SaslFromEnv = {}
): KafkaFileSettings {
  const k = sortKeys(properties, warn)
  const settings: Setting[] = []
  const show = (name: string, value: string, p: Property | string): void => {
    settings.push({ name, value, source: typeof p === 'string' ? p : at(p) })
  }

  const protocolP = k.get('security.protocol')
  const protocol: SecurityProtocol = protocolP ? oneOf(protocolP, PROTOCOLS, true) : 'PLAINTEXT'
  show('security.protocol', protocol, protocolP ?? 'default')
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL'
  const usesSasl = protocol.startsWith('SASL_')

  const tls = usesTls ? tlsFrom(k, show) : undefined
  if (!usesTls) {
    for (const key of ['ssl.ca.location', 'ssl.certificate.location', 'ssl.key.location'] as const) {
      const p = k.get(key)
      if (p)
        fail(
          p,
          `${key} is set but security.protocol=${protocol} does not use TLS: set security.protocol=SSL or SASL_SSL`
        )
    }
  }
  const sasl = usesSasl ? saslFrom(k, protocol, show, file, envSasl) : undefined
  if (!usesSasl) {
    const key = (
      ['sasl.mechanism', 'sasl.mechanisms', 'sasl.username', 'sasl.password', 'sasl.jaas.config'] as const
    ).find(x => k.has(x))
    const fromEnv = envSasl.username ?? envSasl.password ?? envSasl.token
    if (!key && fromEnv)
      fail(
        file,
        `${fromEnv.name} is set but security.protocol=${protocol} does not use SASL: set security.protocol=SASL_SSL (or SASL_PLAINTEXT), or unset ${fromEnv.name}`
      )
    if (key)
      fail(
        k.get(key)!,
        `${key} is set but security.protocol=${protocol} does not use SASL: set security.protocol=SASL_SSL (or SASL_PLAINTEXT)`
      )
  }

  const idP = k.get('client.id')
  const clientId = idP?.value.trim()
  if (idP && clientId === '') fail(idP, 'client.id is empty: give a name, or remove the line')
  show('client.id', clientId ?? 'darooghe', idP ?? 'default')
  const codecP = k.get('compression.type') ?? k.get('compression.codec')
  const compression = codecP ? oneOf(codecP, CODECS, false) : undefined
  show('compression.type', compression ?? 'none', codecP ?? 'default')
  const pathP = k.get('darooghe.kafka.data.path')
  const dataPath = pathP ? oneOf(pathP, DATA_PATHS, false) : undefined
  show('darooghe.kafka.data.path', dataPath ?? 'direct', pathP ?? 'default')

  const bootstrap = k.get('bootstrap.servers')
  return {
    ...(bootstrap ? { bootstrap } : {}),
    ...(clientId ? { clientId } : {}),
    ...(tls ? { tls } : {}),
    ...(sasl ? { sasl } : {}),
    ...(compression ? { compression } : {}),
    ...(dataPath ? { dataPath } : {}),
    settings
  }
}

type Show = (name: string, value: string, p: Property | string) => void

function tlsFrom(k: Map<KafkaKey, Property>, show: Show): KafkaTls {
  const caP = k.get('ssl.ca.location')
  const certP = k.get('ssl.certificate.location')
  const keyP = k.get('ssl.key.location')
  if (certP && !keyP)
    fail(certP, 'ssl.certificate.location needs ssl.key.location too (the private key of that certificate)')
  if (keyP && !certP)
    fail(keyP, 'ssl.key.location needs ssl.certificate.location too (the certificate of that key)')
  const hostP = k.get('ssl.endpoint.identification.algorithm')
  const algorithm = hostP?.value.trim().toLowerCase() ?? 'https'
  if (algorithm !== 'https' && algorithm !== '' && algorithm !== 'none')
    fail(
      hostP!,
      `ssl.endpoint.identification.algorithm must be https, or empty or none to skip the host-name check (got '${hostP!.value}')`
    )
  const tls: KafkaTls = {
    ...(caP ? { ca: pem(caP, 'CA certificate') } : {}),
    ...(certP ? { cert: pem(certP, 'client certificate') } : {}),
    ...(keyP ? { key: pem(keyP, 'client private key') } : {}),
    checkHostname: algorithm === 'https'
  }
  show('ssl.ca.location', caP ? caP.value.trim() : '(system CAs)', caP ?? 'default')
  if (certP) show('ssl.certificate.location', certP.value.trim(), certP)
  // The key's path is shown, never its contents.
  if (keyP) show('ssl.key.location', keyP.value.trim(), keyP)
  show('ssl.endpoint.identification.algorithm', algorithm === 'https' ? 'https' : 'none', hostP ?? 'default')
  return tls
}

function saslFrom(
  k: Map<KafkaKey, Property>,
  protocol: SecurityProtocol,
  show: Show,
  file: string,
  env: SaslFromEnv
): KafkaSasl {
  const mechP = k.get('sasl.mechanism') ?? k.get('sasl.mechanisms')
  if (!mechP)
    fail(
      k.get('security.protocol') ?? file,
      `security.protocol=${protocol} needs sasl.mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER)`
    )
  const raw = mechP.value.trim().toUpperCase()
  if (raw === 'GSSAPI')
    fail(mechP, `sasl.mechanism GSSAPI (Kerberos) is not supported: use ${MECHANISMS.join(', ')}`)
  const mechanism = oneOf(mechP, MECHANISMS, true)
  show('sasl.mechanism', mechanism, mechP)

  const jaasP = k.get('sasl.jaas.config')
  let jaas: { username?: string; password?: string } = {}
  if (jaasP) {
    const parsed = parseJaas(jaasP.value)
    if ('problem' in parsed) fail(jaasP, `sasl.jaas.config cannot be read: ${parsed.problem}`)
    if (!jaasFits(parsed.family, mechanism))
      fail(
        jaasP,
        `sasl.jaas.config uses the ${parsed.family} login module but sasl.mechanism is ${mechanism}: make them agree`
      )
    jaas = parsed
  }
  if (mechanism === 'OAUTHBEARER') {
    const tokenP = k.get('darooghe.sasl.oauthbearer.token')
    const token = env.token?.value ?? tokenP?.value
    if (!token)
      fail(
        mechP,
        'sasl.mechanism=OAUTHBEARER needs darooghe.sasl.oauthbearer.token (the bearer token) or DAROOGHE_KAFKA_TOKEN'
      )
    show('darooghe.sasl.oauthbearer.token', MASK, env.token ? `env ${env.token.name}` : tokenP!)
    return { mechanism, token }
  }
  const userP = k.get('sasl.username')
  const passP = k.get('sasl.password')
  const username = env.username?.value ?? userP?.value ?? jaas.username
  const password = env.password?.value ?? passP?.value ?? jaas.password
  if (!username)
    fail(
      mechP,
      `sasl.mechanism=${mechanism} needs a user name: set sasl.username (or username="..." in sasl.jaas.config)`
    )
  if (!password)
    fail(
      mechP,
      `sasl.mechanism=${mechanism} needs a password: set sasl.password (or password="..." in sasl.jaas.config)`
    )
  const viaJaas = (p: Property | undefined): string => (p ? at(p) : `${at(jaasP!)} (sasl.jaas.config)`)
  show('sasl.username', username, env.username ? `env ${env.username.name}` : viaJaas(userP))
  show('sasl.password', MASK, env.password ? `env ${env.password.name}` : viaJaas(passP))
  return { mechanism, username, password }
}
