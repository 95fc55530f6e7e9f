import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { logConformance } from '../helpers/log-conformance.ts'
import { createTopic, KAFKA_BROKERS } from '../helpers/services.ts'

logConformance('kafka', t => {
  const connection = { brokers: KAFKA_BROKERS, clientId: 'conformance' }
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
