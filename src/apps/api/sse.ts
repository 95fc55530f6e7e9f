import type { ServerResponse } from 'node:http'
import type { Logger } from '../../logger.ts'
import type { StatsProvider, StoredAlert } from './types.ts'

export interface SseHubOptions {
  readonly heartbeatMs: number
  readonly statsIntervalMs: number
  readonly stats: StatsProvider
  readonly logger: Logger
}

/** A client that stops reading is dropped once this much is buffered for it. */
const MAX_BUFFERED_BYTES = 1024 * 1024

/**
 * The live feed of `GET /alerts/stream`: every client gets `event: alert` for each new alert,
 * `event: stats` every statsIntervalMs and a comment line as heartbeat (keeps proxies from
 * closing an idle stream). Timers run only while someone listens.
 */
export class SseHub {
  readonly #clients = new Set<ServerResponse>()
  readonly #options: SseHubOptions
  #heartbeat: ReturnType<typeof setInterval> | undefined
  #statsTimer: ReturnType<typeof setInterval> | undefined

  constructor(options: SseHubOptions) {
    this.#options = options
  }

  get clients(): number {
    return this.#clients.size
  }

  /** Takes over a response: headers, a first stats event, then the feed until the client goes. */
  attach(res: ServerResponse, onClose: (listener: () => void) => void): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    })
    res.write('retry: 3000\n\n')
    this.#clients.add(res)
    onClose(() => this.#drop(res))
    this.#start()
    void this.#sendStats([res])
  }

  publishAlert(alert: StoredAlert): void {
    if (this.#clients.size === 0) return
    this.#broadcast(frame('alert', JSON.stringify(alert), alert.alert_id))
  }

  /** Ends every stream (server shutdown). */
  close(): void {
    for (const res of this.#clients) res.end()
    this.#clients.clear()
    this.#stop()
  }

  #broadcast(data: string, to: Iterable<ServerResponse> = this.#clients): void {
    for (const res of to) {
      if (res.writableEnded || res.destroyed) {
        this.#drop(res)
        continue
      }
      res.write(data)
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.#options.logger.warn('SSE client too slow, dropped')
        res.destroy()
        this.#drop(res)
      }
    }
  }

  async #sendStats(to?: ServerResponse[]): Promise<void> {
    try {
      const stats = await this.#options.stats()
      this.#broadcast(frame('stats', JSON.stringify(stats)), to ?? [...this.#clients])
    } catch (err) {
      this.#options.logger.warn({ err }, 'stats provider failed; stats event skipped')
    }
  }

  #drop(res: ServerResponse): void {
    this.#clients.delete(res)
    if (this.#clients.size === 0) this.#stop()
  }

  #start(): void {
    if (this.#heartbeat) return
    this.#heartbeat = setInterval(() => this.#broadcast(': heartbeat\n\n'), this.#options.heartbeatMs)
    this.#statsTimer = setInterval(() => void this.#sendStats(), this.#options.statsIntervalMs)
    this.#heartbeat.unref()
    this.#statsTimer.unref()
  }

  #stop(): void {
    clearInterval(this.#heartbeat)
    clearInterval(this.#statsTimer)
    this.#heartbeat = undefined
    this.#statsTimer = undefined
  }
}

function frame(event: string, data: string, id?: string): string {
  // JSON.stringify never emits raw newlines, so one data line is enough.
  return `${id === undefined ? '' : `id: ${id.replace(/[\r\n]/g, '')}\n`}event: ${event}\ndata: ${data}\n\n`
}
