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
}

export function baseOptions(conn: KafkaConnection, role: string) {
  return {
    clientId: `${conn.clientId ?? 'darooghe'}-${role}`,
    bootstrapBrokers: [...conn.brokers],
    timeout: conn.timeoutMs ?? 30_000,
    retries: conn.retries ?? 5,
    retryDelay: conn.retryDelayMs ?? 250
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
