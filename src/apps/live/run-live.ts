import type { LogConsumer } from '../../ports/log.ts'
import type { LiveView } from './live-view.ts'

/**
 * Feeds a LiveView from a consumer subscribed to `view.subscriptions()` (a group of its own, so
 * it sees every record whatever the detector or dispatcher do). Resolves when the consumer closes.
 */
export async function runLiveView(o: { consumer: LogConsumer; view: LiveView }): Promise<void> {
  await o.consumer.run({
    onBatch: async records => {
      o.view.ingest(records)
    }
  })
}
