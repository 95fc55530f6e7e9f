/**
 * Per-partition watermarks. Stream time of a partition is the largest event time seen on it;
 * the watermark trails it by the allowed lateness. An event strictly older than the watermark
 * is LATE: it goes to a side output, never into state or a decision. An event exactly on the
 * watermark is still on time.
 *
 * Watermarks are per partition, not per task, because partitions move between instances
 * independently and each one's stream time is stored with its state.
 */
export const NO_EVENT_TIME = Number.NEGATIVE_INFINITY

export function watermarkOf(streamTimeMs: number, allowedLatenessMs: number): number {
  return streamTimeMs - allowedLatenessMs
}

export function isLate(eventTimeMs: number, streamTimeMs: number, allowedLatenessMs: number): boolean {
  return eventTimeMs < streamTimeMs - allowedLatenessMs
}

/** Stream time after seeing an on-time event: it never goes back. */
export function advance(streamTimeMs: number, eventTimeMs: number): number {
  return eventTimeMs > streamTimeMs ? eventTimeMs : streamTimeMs
}
