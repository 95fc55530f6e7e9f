import type { Command } from 'commander'

/** Help of `--kafka-config`, the same on every command that talks to Kafka. */
export const KAFKA_CONFIG_HELP =
  'Kafka client properties, as the Java client and kcat -F read them: bootstrap.servers, security.protocol, sasl.*, ssl.*, compression.type (env DAROOGHE_KAFKA_CONFIG; --brokers wins over bootstrap.servers)'

/** Help of `--redis-ca`, the same on every command that opens Redis. */
export const REDIS_CA_HELP =
  "PEM file of the CA that signed the rediss:// server's certificate (env DAROOGHE_REDIS_CA)"

/**
 * Adds `--kafka-config` and/or `--redis-ca` to a command. Their values are read by the
 * configuration layer (src/config/load.ts), not here.
 */
export function connectionOptions(
  command: Command,
  uses: { kafka?: boolean; redis?: boolean },
  prefix = ''
): Command {
  if (uses.kafka) command.option('--kafka-config <file>', `${prefix}${KAFKA_CONFIG_HELP}`)
  if (uses.redis) command.option('--redis-ca <file>', `${prefix}${REDIS_CA_HELP}`)
  return command
}
