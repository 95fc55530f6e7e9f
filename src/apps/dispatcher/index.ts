export { Dispatcher, type DispatchCounts, type DispatcherOptions, type Outcome } from './dispatcher.ts'
export { FileAlertSink, HttpAlertSink, payload, repairTornTail, type PayloadFormat } from './sinks.ts'
export { decodeAlerts } from './decode.ts'
