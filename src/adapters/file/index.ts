export { openInput, readLines, readNdjsonBatches, type NdjsonSourceOptions } from './ndjson-source.ts'
export { formatOutputLine, NdjsonSink } from './ndjson-sink.ts'
