import type { TopicBrowser } from '../live/index.ts'

/**
 * Waits until none of `groups` lags on any topic it committed to (or the timeout passes): at
 * shutdown, the stages downstream of the generator finish what it produced before they close.
 */
export async function drain(
  browser: TopicBrowser,
  groups: readonly string[],
  o: { timeoutMs: number; intervalMs?: number }
): Promise<boolean> {
  const deadline = Date.now() + o.timeoutMs
  const wanted = new Set(groups)
  for (;;) {
    const topics = await browser.topics().catch(() => [])
    const lag = topics.flatMap(t => t.groups).filter(g => wanted.has(g.group) && g.total_lag > 0)
    if (lag.length === 0) return true
    if (Date.now() > deadline) return false
    await new Promise(r => setTimeout(r, o.intervalMs ?? 50))
  }
}
