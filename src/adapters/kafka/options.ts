import { saslOptions, tlsOptions } from './security.ts'

/** The SASL mechanisms Darooghe speaks (those of @platformatic/kafka). */
export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER'

export interface KafkaSasl {
  readonly mechanism: SaslMechanism
  readonly username?: string
  readonly password?: string
  /** OAUTHBEARER: the bearer token. */
  readonly token?: string
}

/**
 * TLS towards the brokers. Certificates are PEM text, read from the files the properties
 * name (`ssl.ca.location`, ...) by the configuration layer, never paths.
 */
export interface KafkaTls {
  readonly ca?: string
  readonly cert?: string
  readonly key?: string
  /** `ssl.endpoint.identification.algorithm=` (empty): do not check the host name. */
  readonly checkHostname?: boolean
}

export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** Who carries the records: our own fetch/produce code (default) or the library's clients. */
export type KafkaDataPath = 'direct' | 'library'

/** Connection options shared by the Kafka producer, consumer and admin adapters. */
export interface KafkaConnection {
  /** Bootstrap brokers, e.g. ['127.0.0.1:9092']. */
  readonly brokers: readonly string[]
  /** Client id prefix; a suffix names the role. Default 'darooghe'. */
  readonly clientId?: string
  /** Per-request timeout, ms. Default 30 000. */
  readonly timeoutMs?: number
  /** Retries of a failed request inside the client before the error surfaces. Default 5. */
  readonly retries?: number
  /** Delay between those retries, ms. Default 250. */
  readonly retryDelayMs?: number
  /** `security.protocol` SSL / SASL_SSL: TLS on every broker connection. */
  readonly tls?: KafkaTls
  /** `security.protocol` SASL_PLAINTEXT / SASL_SSL. */
  readonly sasl?: KafkaSasl
  /** `compression.type` of every record batch this connection produces. Default none. */
  readonly compression?: KafkaCompression
  /** `darooghe.kafka.data.path`. Default direct. */
  readonly dataPath?: KafkaDataPath
}

/**
 * The options every @platformatic/kafka client of a connection shares: producer, consumer,
 * admin, and the pools copied from them (the fetcher's), so TLS and SASL reach every socket.
 */
export function baseOptions(conn: KafkaConnection, role: string) {
  return {
    clientId: `${conn.clientId ?? 'darooghe'}-${role}`,
    bootstrapBrokers: [...conn.brokers],
    timeout: conn.timeoutMs ?? 30_000,
    retries: conn.retries ?? 5,
    retryDelay: conn.retryDelayMs ?? 250,
    ...(conn.tls ? { tls: tlsOptions(conn.tls) } : {}),
    ...(conn.sasl ? { sasl: saslOptions(conn.sasl) } : {})
  }
}

/** Splits a comma-separated broker list ("h1:9092,h2:9092") and checks each entry. */
export function parseBrokers(value: string): string[] {
  const brokers = value
    .split(',')
    .map(s => s.trim())
    .filter(Boolean)
  for (const b of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b)) {
      throw new Error(`broker '${b}' is not host:port`)
    }
  }
  return brokers
}
