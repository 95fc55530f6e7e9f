/**
 * A private Kafka cluster of one controller and two brokers, every partition (the group
 * offsets' too) on both brokers, for the chaos test of a rolling restart: stopping the broker
 * that coordinates a group moves the coordinator (and the leaders) to the other one, and
 * starting it again moves them back (automatic preferred-leader election every few seconds).
 * scripts/services.sh runs one combined node; this uses the same jars it fetched.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Consumer } from '@platformatic/kafka'
import { waitFor } from './services.ts'

function jarsDir(): string {
  const cache =
    process.env.DAROOGHE_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'darooghe')
  const found = existsSync(cache)
    ? readdirSync(cache).filter(d => d.startsWith('jars-') && existsSync(join(cache, d, '.complete')))
    : []
  if (found.length === 0) throw new Error(`no Kafka jars under ${cache}: run scripts/services.sh up once`)
  return join(cache, found[0]!)
}

export interface ClusterPorts {
  readonly controller: number
  readonly brokers: readonly [number, number]
}

export const CLUSTER_PORTS: ClusterPorts = Object.freeze({
  controller: Number(process.env.CHAOS_CLUSTER_CONTROLLER_PORT ?? 19193),
  brokers: [
    Number(process.env.CHAOS_CLUSTER_BROKER_PORT ?? 19192),
    Number(process.env.CHAOS_CLUSTER_BROKER2_PORT ?? 19292)
  ] as const
})

export class KafkaCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'darooghe-cluster-'))
  readonly ports: ClusterPorts
  readonly #procs = new Map<number, ChildProcess>()
  readonly #jars = jarsDir()
  /** 16 random bytes in URL-safe base64, not starting with '-' (the storage tool reads it as an option). */
  readonly #clusterId = randomBytes(16).toString('base64url').replace(/^-/, 'A')

  constructor(ports: ClusterPorts = CLUSTER_PORTS) {
    this.ports = ports
  }

  get brokers(): string[] {
    return this.ports.brokers.map(p => `127.0.0.1:${p}`)
  }

  /** Node 1 is the controller; nodes 2 and 3 the brokers. */
  #config(node: number): string {
    const c = this.ports.controller
    const common = [
      `node.id=${node}`,
      `controller.quorum.voters=1@127.0.0.1:${c}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${join(this.dir, `node${node}`, 'data')}`
    ]
    if (node === 1) {
      return [
        ...common,
        'process.roles=controller',
        `listeners=CONTROLLER://127.0.0.1:${c}`,
        // The controller elects the preferred leaders again (KRaft): soon after a broker returns,
        // its leaders (and so the group coordinators) move back to it.
        'auto.leader.rebalance.enable=true',
        'leader.imbalance.check.interval.seconds=5',
        'leader.imbalance.per.broker.percentage=0'
      ].join('\n')
    }
    const port = this.ports.brokers[node - 2]!
    return [
      ...common,
      'process.roles=broker',
      `listeners=PLAINTEXT://127.0.0.1:${port}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'inter.broker.listener.name=PLAINTEXT',
      'num.partitions=3',
      'default.replication.factor=2',
      // acks=all must mean both replicas: with 1, a follower that fell out of the ISR under load
      // lets the leader acknowledge alone, and stopping that leader loses acknowledged records.
      'min.insync.replicas=2',
      'offsets.topic.replication.factor=2',
      'offsets.topic.num.partitions=4',
      'transaction.state.log.replication.factor=2',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=2',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=true',
      // Leaders (and so the group coordinators) go back to their preferred broker soon after
      // it returns: the second move of a rolling restart.
      'auto.leader.rebalance.enable=true',
      'leader.imbalance.check.interval.seconds=5',
      'leader.imbalance.per.broker.percentage=0'
    ].join('\n')
  }

  async start(): Promise<void> {
    const log4j = join(this.dir, 'log4j2.properties')
    writeFileSync(
      log4j,
      [
        'status = error',
        'appender.console.type = Console',
        'appender.console.name = STDOUT',
        'appender.console.layout.type = PatternLayout',
        'appender.console.layout.pattern = [%d] %p %m (%c)%n',
        'rootLogger.level = WARN',
        'rootLogger.appenderRef.stdout.ref = STDOUT'
      ].join('\n')
    )
    for (const node of [1, 2, 3]) {
      mkdirSync(join(this.dir, `node${node}`, 'data'), { recursive: true })
      writeFileSync(join(this.dir, `node${node}`, 'server.properties'), this.#config(node))
      await this.#java(node, [
        'kafka.tools.StorageTool',
        'format',
        `--cluster-id=${this.#clusterId}`,
        '-c',
        join(this.dir, `node${node}`, 'server.properties'),
        '--ignore-formatted'
      ])
    }
    for (const node of [1, 2, 3]) this.startNode(node)
    await this.waitBrokers(2)
  }

  #jvm(): string[] {
    return [
      '-Xms256m',
      '-Xmx768m',
      '-XX:+UseG1GC',
      `-Dlog4j2.configurationFile=${join(this.dir, 'log4j2.properties')}`,
      '-cp',
      `${this.#jars}/*`
    ]
  }

  async #java(node: number, args: string[]): Promise<void> {
    const out = openSync(join(this.dir, `node${node}`, 'format.log'), 'a')
    const child = spawn('java', [...this.#jvm(), ...args], { stdio: ['ignore', out, out] })
    const [code] = (await once(child, 'exit')) as [number | null]
    if (code !== 0)
      throw new Error(
        `kafka storage format of node ${node} failed (${code}): ${this.dir}/node${node}/format.log`
      )
  }

  /** Starts a node (a process of ours, by pid). */
  startNode(node: number): void {
    const out = openSync(join(this.dir, `node${node}`, 'kafka.log'), 'a')
    const child = spawn(
      'java',
      [...this.#jvm(), 'kafka.Kafka', join(this.dir, `node${node}`, 'server.properties')],
      {
        stdio: ['ignore', out, out]
      }
    )
    this.#procs.set(node, child)
  }

  /** SIGTERM to a node we started (a controlled shutdown moves its leaders away) and waits. */
  async stopNode(node: number): Promise<void> {
    const child = this.#procs.get(node)
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  }

  /** Until `n` brokers answer in the metadata. */
  async waitBrokers(n: number): Promise<void> {
    await waitFor(async () => (await this.brokerCount()) >= n, {
      what: `${n} brokers`,
      timeoutMs: 120_000,
      intervalMs: 500
    })
  }

  async brokerCount(): Promise<number> {
    const c = new Consumer({
      groupId: 'chaos-probe',
      clientId: 'chaos-probe',
      bootstrapBrokers: this.brokers,
      retries: 0,
      timeout: 3_000
    })
    try {
      const md = await c.metadata({ topics: [], forceUpdate: true })
      return md.brokers.size
    } finally {
      await c.close().catch(() => {})
    }
  }

  /** The broker (node id) coordinating a group now. */
  async coordinatorOf(groupId: string): Promise<number> {
    const c = new Consumer({
      groupId,
      clientId: 'chaos-probe',
      bootstrapBrokers: this.brokers,
      retries: 2,
      timeout: 3_000
    })
    try {
      return await c.findGroupCoordinator()
    } finally {
      await c.close().catch(() => {})
    }
  }

  async destroy(): Promise<void> {
    for (const node of [3, 2, 1]) await this.stopNode(node)
    if (process.env.DAROOGHE_CHAOS_KEEP !== '1') rmSync(this.dir, { recursive: true, force: true })
  }
}
