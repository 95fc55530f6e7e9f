import { once } from 'node:events'
import { createConnection, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy to a real service that a test can cut, delay and restore, to simulate an outage
 * or a slow network without touching the shared service. `down()` closes the listener and
 * every open connection (a partition: connections cut, new ones refused); `up()` listens again
 * on the same port. `delayMs` holds every chunk that long in each direction (in order), for a
 * congested or distant link.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number }
  readonly #sockets = new Set<Socket>()
  #server: Server | null = null
  port = 0
  /** Latency added to every chunk, each way, ms. 0: forwarded at once. */
  delayMs = 0
  /** Connections accepted so far (a client that reconnects shows here). */
  connections = 0
  /** While held, nothing is forwarded (a stalled link: connections stay open, bytes wait). */
  #held = false
  readonly #releases = new Set<() => void>()

  constructor(target: { host: string; port: number }, port = 0) {
    this.#target = target
    this.port = port
  }

  async up(): Promise<void> {
    if (this.#server) return
    const server = createServer(client => {
      this.connections++
      const upstream = createConnection(this.#target)
      for (const s of [client, upstream]) {
        this.#sockets.add(s)
        s.on('close', () => this.#sockets.delete(s))
        s.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      this.#forward(client, upstream)
      this.#forward(upstream, client)
    })
    server.listen(this.port, '127.0.0.1')
    await once(server, 'listening')
    this.port = (server.address() as { port: number }).port
    this.#server = server
  }

  /**
   * Copies `from` into `to`, each chunk held `delayMs`. One queue and one timer per direction:
   * chunks leave in the order they came, whatever the delay was when each arrived (timers of
   * different lengths due at the same moment may fire in any order, which would reorder a TCP
   * stream as no network does).
   */
  #forward(from: Socket, to: Socket): void {
    const queue: { due: number; chunk: Buffer | null }[] = []
    let timer: ReturnType<typeof setTimeout> | null = null
    const pump = (): void => {
      timer = null
      if (this.#held) return
      while (queue.length > 0 && queue[0]!.due <= Date.now()) {
        const { chunk } = queue.shift()!
        if (to.destroyed) continue
        if (chunk === null) to.end()
        else to.write(chunk)
      }
      if (queue.length > 0) timer = setTimeout(pump, queue[0]!.due - Date.now())
    }
    const push = (chunk: Buffer | null): void => {
      if (this.delayMs <= 0 && queue.length === 0 && !this.#held) {
        if (!to.destroyed) {
          if (chunk === null) to.end()
          else to.write(chunk)
        }
        return
      }
      const last = queue.length > 0 ? queue[queue.length - 1]!.due : 0
      queue.push({ due: Math.max(Date.now() + this.delayMs, last), chunk })
      if (!this.#held) timer ??= setTimeout(pump, queue[0]!.due - Date.now())
    }
    const release = (): void => {
      if (timer) clearTimeout(timer)
      pump()
    }
    this.#releases.add(release)
    from.on('close', () => this.#releases.delete(release))
    from.on('data', (chunk: Buffer) => push(chunk))
    from.on('end', () => push(null))
  }

  /**
   * Stops forwarding without closing anything: requests get no answer (they time out), as
   * over a link that drops every packet; `release()` delivers what waited, in order, as TCP
   * would once the link is back.
   */
  hold(): void {
    this.#held = true
  }

  release(): void {
    this.#held = false
    for (const r of this.#releases) r()
  }

  async down(): Promise<void> {
    const server = this.#server
    this.#server = null
    for (const s of this.#sockets) s.destroy()
    if (server) await new Promise<void>(resolve => server.close(() => resolve()))
  }

  /** Whether it listens (between `up()` and `down()`). */
  get isUp(): boolean {
    return this.#server !== null
  }
}
