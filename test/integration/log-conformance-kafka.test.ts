import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { DATA_PATHS } from '../helpers/data-paths.ts'
import { logConformance } from '../helpers/log-conformance.ts'
import { createTopic, KAFKA_BROKERS } from '../helpers/services.ts'

// The same suite on each data path: ours (direct) and the client library's public API.
for (const dataPath of DATA_PATHS) {
  logConformance(`kafka (${dataPath} data path)`, t => {
    const connection = { brokers: KAFKA_BROKERS, clientId: `conformance-${dataPath}`, dataPath }
    const producer = new KafkaLogProducer(connection)
    const admin = new KafkaLogAdmin(connection)
    return {
      producer,
      admin,
      // Short sessions keep rebalances (a member joining or leaving) to about a second.
      consumer: (groupId, topics, options) =>
        new KafkaLogConsumer({
          ...connection,
          sessionTimeoutMs: 6_000,
          heartbeatIntervalMs: 500,
          ...options,
          groupId,
          topics
        }),
      createTopic: partitions => createTopic(t, 'conformance', partitions),
      cleanup: async () => {
        await producer.close()
        await admin.close()
      }
    }
  })
}
