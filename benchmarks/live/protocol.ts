/**
 * What the processes of the live latency benchmark say to each other: the paced producer, the
 * reader, and the system under test (the `darooghe detect` CLI, or the pass-through floor) each
 * run in a process of their own and talk JSON lines on stdin / stdout.
 */

/** Header of every produced record: when it was meant to be sent (epoch ms, fractional). */
export const INTENDED_HEADER = 'bench-intended'
/** Header of every produced record: index of its window in the schedule, -1 for the warm-up. */
export const WINDOW_HEADER = 'bench-window'

export interface Phase {
  readonly rate: number
  readonly ms: number
}

export interface Schedule {
  readonly warmup: Phase
  readonly windows: readonly Phase[]
  /** Silence between two phases, so one window's backlog is not charged to the next. */
  readonly pauseMs: number
}

export interface ProducerArgs {
  readonly brokers: readonly string[]
  readonly topic: string
  readonly schedule: Schedule
  readonly seed: string
  readonly customers: number
}

export interface ProducedWindow {
  readonly rate: number
  readonly sent: number
  readonly achievedSendRate: number
  readonly meanBytes: number
  /** Intended send time of the window's last record (epoch ms). */
  readonly lastIntended: number
}

export interface ReaderArgs {
  readonly brokers: readonly string[]
  readonly topics: readonly string[]
  readonly windows: number
}

/** Sent to the reader once the producer is done: how many records each window must yield. */
export interface ReaderExpect {
  readonly expected: readonly number[]
  /** Intended time of each window's last record: a record never read is charged from there. */
  readonly lastIntended: readonly number[]
  readonly graceMs: number
}

export interface ReadWindow {
  readonly received: number
  readonly missing: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly p999: number
  readonly max: number
}

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now()
}

/** Reads one JSON argument: the child processes take their arguments as one JSON string. */
export function jsonArg<T>(): T {
  const text = process.argv[2]
  if (text === undefined) throw new Error('expected one JSON argument')
  return JSON.parse(text) as T
}
