import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './cli.ts'
import { TcpProxy } from './tcp-proxy.ts'

export type Service = 'kafka' | 'redis' | 'mongo'

/** Ports of the private services: none of the shared ones (9092, 6379, 27017). */
export interface PrivatePorts {
  readonly kafka: number
  readonly kafkaController: number
  /** The broker advertises this port: the Kafka proxy's. */
  readonly kafkaAdvertised: number
  readonly redis: number
  readonly mongo: number
}

function port(name: string, fallback: number): number {
  const v = process.env[name]
  return v === undefined ? fallback : Number(v)
}

export const CHAOS_PORTS: PrivatePorts = Object.freeze({
  kafka: port('CHAOS_KAFKA_PORT', 19092),
  kafkaController: port('CHAOS_KAFKA_CONTROLLER_PORT', 19093),
  kafkaAdvertised: port('CHAOS_KAFKA_PROXY_PORT', 19094),
  redis: port('CHAOS_REDIS_PORT', 16379),
  mongo: port('CHAOS_MONGO_PORT', 17017)
})

/**
 * Kafka, Redis and MongoDB of our own, started with the project's script (scripts/services.sh)
 * on other ports and in a state directory of their own, so a test can really stop and start
 * them without touching the shared services other tests and people use. Every client reaches
 * them through a TCP proxy (the broker advertises its proxy's port), so a test can also cut or
 * slow the network without stopping a service.
 */
export class PrivateServices {
  readonly dir = mkdtempSync(join(tmpdir(), 'darooghe-chaos-'))
  readonly ports: PrivatePorts
  readonly proxies: Record<Service, TcpProxy>
  /** Every services.sh call, for the report. */
  readonly log: string[] = []

  constructor(ports: PrivatePorts = CHAOS_PORTS) {
    this.ports = ports
    this.proxies = {
      kafka: new TcpProxy({ host: '127.0.0.1', port: ports.kafka }, ports.kafkaAdvertised),
      redis: new TcpProxy({ host: '127.0.0.1', port: ports.redis }),
      mongo: new TcpProxy({ host: '127.0.0.1', port: ports.mongo })
    }
  }

  /** Proxies up, then the three services (Kafka's first start formats its storage). */
  async start(): Promise<void> {
    for (const p of Object.values(this.proxies)) await p.up()
    await this.script('up', 'kafka', 'redis', 'mongo')
  }

  /** Bootstrap brokers for clients: the proxy. */
  get brokers(): string {
    return `127.0.0.1:${this.proxies.kafka.port}`
  }

  /** Redis through its proxy, with a password in the URL (Redis without one accepts any). */
  redisUrl(password = ''): string {
    const auth = password === '' ? '' : `default:${password}@`
    return `redis://${auth}127.0.0.1:${this.proxies.redis.port}`
  }

  mongoUrl(database: string): string {
    return `mongodb://127.0.0.1:${this.proxies.mongo.port}/${database}`
  }

  /** Stops a service for real (its process ends; data stays in the state directory). */
  async stop(service: Service): Promise<void> {
    await this.script('down', service)
  }

  async restart(service: Service): Promise<void> {
    await this.script('up', service)
  }

  /** The Kafka cluster id, from the storage the broker formatted once. */
  kafkaClusterId(): string {
    const text = readFileSync(join(this.dir, 'kafka', 'data', 'meta.properties'), 'utf8')
    const m = /^cluster\.id=(.+)$/m.exec(text)
    if (!m) throw new Error(`no cluster.id in ${this.dir}/kafka/data/meta.properties`)
    return m[1]!.trim()
  }

  async destroy(): Promise<void> {
    try {
      await this.script('down')
    } finally {
      for (const p of Object.values(this.proxies)) await p.down()
      if (process.env.DAROOGHE_CHAOS_KEEP !== '1') rmSync(this.dir, { recursive: true, force: true })
    }
  }

  /** Runs scripts/services.sh with our ports and state directory; throws with its output on failure. */
  async script(...args: string[]): Promise<void> {
    const p = this.ports
    const started = Date.now()
    const child = spawn('bash', [join(ROOT, 'scripts', 'services.sh'), ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        DAROOGHE_SERVICES_DIR: this.dir,
        KAFKA_PORT: String(p.kafka),
        KAFKA_CONTROLLER_PORT: String(p.kafkaController),
        KAFKA_ADVERTISED_PORT: String(p.kafkaAdvertised),
        REDIS_PORT: String(p.redis),
        MONGO_PORT: String(p.mongo),
        // Under the load of the pipeline a start is slower than the script expects alone.
        KAFKA_WAIT_SECONDS: '300',
        MONGO_WAIT_SECONDS: '300'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    child.stdout!.on('data', d => (out += d))
    child.stderr!.on('data', d => (out += d))
    const [code] = (await once(child, 'exit')) as [number | null]
    this.log.push(`services.sh ${args.join(' ')} (${Date.now() - started} ms): ${out.trim()}`)
    if (code !== 0) throw new Error(`services.sh ${args.join(' ')} failed (${code}):\n${out}`)
  }
}
