// The Produce request moved to protocol/ (one module per protocol message); kept for importers.
export * from './protocol/produce-v9-v11.ts'
export {
  encodeRecordBatch,
  type PartitionBatch,
  type ProducerIdentity
} from './protocol/record-batch-encode.ts'
