// Loads the codecs first: zstd for the client library too (see compression.ts).
import './compression.ts'
export { KafkaLogAdmin } from './admin.ts'
export { KafkaLogConsumer, type KafkaConsumerOptions } from './consumer.ts'
export { parseBrokers, type KafkaConnection } from './options.ts'
export { KafkaLogProducer, type KafkaProducerOptions } from './producer.ts'
