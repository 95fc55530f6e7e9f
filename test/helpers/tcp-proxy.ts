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

  /** Copies `from` into `to`, each chunk held `delayMs`; order is kept when the delay changes. */
  #forward(from: Socket, to: Socket): void {
    let lastDue = 0
    from.on('data', (chunk: Buffer) => {
      if (this.delayMs <= 0 && lastDue <= Date.now()) {
        if (!to.destroyed) to.write(chunk)
        return
      }
      const due = Math.max(Date.now() + this.delayMs, lastDue)
      lastDue = due
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk)
      }, due - Date.now())
    })
    from.on('end', () => {
      const wait = Math.max(0, lastDue - Date.now())
      setTimeout(() => to.end(), wait)
    })
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
