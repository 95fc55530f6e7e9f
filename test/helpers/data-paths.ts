import type { KafkaDataPath } from '../../src/adapters/kafka/options.ts'

/**
 * The Kafka data paths a parameterised integration test runs on: both by default, or the one
 * DAROOGHE_KAFKA_DATA_PATH names (to rerun a failure on one path). It only ever reaches the
 * adapters through `KafkaConnection.dataPath`.
 */
export const DATA_PATHS: readonly KafkaDataPath[] = (() => {
  const only = process.env.DAROOGHE_KAFKA_DATA_PATH
  if (only === undefined || only === '') return ['direct', 'library']
  if (only !== 'direct' && only !== 'library')
    throw new Error(`DAROOGHE_KAFKA_DATA_PATH must be direct or library (got '${only}')`)
  return [only]
})()
