import type { Writable } from 'node:stream'

export interface Progress {
  update(emitted: number): void
  /** Clears the bar. */
  done(): void
}

const NOOP: Progress = { update: () => {}, done: () => {} }

/**
 * A one-line progress bar on a TTY (stderr), redrawn at most 5 times a second; nothing at
 * all when the stream is not a TTY, so logs and pipes stay clean.
 */
export function createProgress(
  stream: Writable & { isTTY?: boolean; columns?: number },
  total: number,
  clock: () => number
): Progress {
  if (stream.isTTY !== true) return NOOP
  const started = clock()
  let drawn = 0
  return {
    update(emitted) {
      const now = clock()
      if (now - drawn < 200) return
      drawn = now
      const seconds = Math.max(0.001, (now - started) / 1000)
      const rate = Math.round(emitted / seconds).toLocaleString('en-US')
      let line = `${emitted.toLocaleString('en-US')} events, ${rate}/s`
      if (Number.isFinite(total) && total > 0) {
        const share = Math.min(1, emitted / total)
        const width = 24
        const filled = Math.round(share * width)
        line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(1)}% ${line}`
      }
      // Some terminals report 0 columns; only trim when the width is known.
      const columns = stream.columns ?? 0
      stream.write(`\r${columns > 20 ? line.slice(0, columns - 1) : line}\u001b[K`)
    },
    done() {
      stream.write('\r\u001b[K')
    }
  }
}
