export { LiveView, type LiveViewOptions } from './live-view.ts'
export { runLiveView } from './run-live.ts'
export {
  CounterSeries,
  LatencySeries,
  type LatencyPoint,
  type Percentiles,
  type SecondPoint
} from './series.ts'
export {
  MemoryTopicBrowser,
  browsed,
  lagOf,
  type BrowsedMessage,
  type GroupLag,
  type TopicBrowser,
  type TopicSummary
} from './topic-browser.ts'
export {
  DEFAULT_LIVE_TOPICS,
  type Analytics,
  type LiveAlert,
  type LiveTopics,
  type Overview,
  type Totals,
  type WindowAggregate
} from './types.ts'
export { KafkaTopicBrowser } from './kafka-topic-browser.ts'
export { startKafkaFeed, type KafkaFeed, type KafkaFeedOptions } from './kafka-feed.ts'
