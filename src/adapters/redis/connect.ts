import {
  createClient,
  createCluster,
  type RedisClientOptions,
  type RedisClientType,
  type RedisClusterType
} from 'redis'
import { DaroogheError, redactSecrets } from '../../errors.ts'
import type { RedisConnection } from './connection.ts'

/** What every Redis adapter's `connect` takes: where Redis is, and how long to wait for it. */
export interface RedisConnectOptions extends RedisConnection {
  /** Connect timeout of each connection, ms. Default 5 000. */
  readonly connectTimeoutMs?: number
  /** Per-command timeout, ms; 0 = none (the caller bounds its waits). Default: node-redis's. */
  readonly commandTimeoutMs?: number
}

/**
 * An open Redis: one server, or a cluster. A single server's adapters may open more
 * connections like the first (`duplicate`); a cluster client keeps one connection per node.
 */
export type RedisLink =
  | { readonly kind: 'single'; readonly client: RedisClientType; duplicate(): Promise<RedisClientType> }
  | { readonly kind: 'cluster'; readonly cluster: RedisClusterType }

/**
 * Opens Redis as `o.url` says. A comma-separated list is a cluster's nodes; a single URL is
 * asked `INFO cluster` and opened as a cluster when the server says `cluster_enabled:1`, so one
 * node's URL is enough for a cluster. `rediss://` is TLS, verified against `o.ca` when given
 * (else the system's CAs); `user:password@` logs in as that ACL user (on every node of a
 * cluster). Credentials or permissions refused (WRONGPASS, NOAUTH, NOPERM) or a certificate not
 * trusted fail at once, not retriable; a server not answering is retried a few times with
 * backoff and then fails, retriable. Once connected, connections reconnect forever with
 * capped backoff, and calls fail fast while one is down (no offline queue).
 */
export async function connectRedis(o: RedisConnectOptions): Promise<RedisLink> {
  const urls = o.url
    .split(',')
    .map(u => u.trim())
    .filter(u => u !== '')
  if (urls.length === 0) {
    throw new DaroogheError('CONFIG', 'no Redis URL given: set --redis (DAROOGHE_REDIS) to redis://host:port')
  }
  for (const u of urls) checkUrl(u)
  const state = { connected: false }
  // The first node answers for all: credentials, TLS, and whether it is a cluster.
  const first = await open(createClient(clientOptions(urls[0]!, o, state)) as RedisClientType, o.url)
  let cluster = urls.length > 1
  if (!cluster) {
    try {
      cluster = /^cluster_enabled:1\s*$/m.test(String(await first.info('cluster')))
    } catch (cause) {
      // A user without INFO cannot be asked: treat it as a single server.
      if (refused(cause) === null) {
        first.destroy()
        throw unreachable(o.url, cause)
      }
    }
  }
  if (!cluster) {
    state.connected = true
    return {
      kind: 'single',
      client: first,
      duplicate: () => open(first.duplicate() as RedisClientType, o.url)
    }
  }
  await first.close().catch(() => first.destroy())
  return { kind: 'cluster', cluster: await openCluster(urls, o, state) }
}

async function openCluster(urls: string[], o: RedisConnectOptions, state: { connected: boolean }) {
  const node = clientOptions(urls[0]!, o, state)
  const cluster = createCluster({
    rootNodes: urls.map(url => ({ url })),
    // Nodes found through CLUSTER SLOTS get the credentials and TLS of the first URL.
    defaults: {
      ...credentials(urls[0]!),
      socket: node.socket!,
      disableOfflineQueue: true,
      ...(node.commandOptions === undefined ? {} : { commandOptions: node.commandOptions })
    },
    // A failover moves slots: follow MOVED a few times, re-reading the map each time.
    maxCommandRedirections: 16,
    // Only for the slot map to list each master's replicas (the state store waits for one after
    // its writes): every command of the adapters goes to the master (`isReadonly` false), so no
    // read sees a replica's lagging copy.
    useReplicas: true,
    // A node that went away: re-read the slot map after a second of reconnecting (default 5 s), so
    // the slots of a failed master reach its promoted replica soon after the failover.
    topologyRefreshOnReconnectionAttemptStrategy: 1_000
  }) as unknown as RedisClusterType
  cluster.on('error', () => {})
  try {
    await cluster.connect()
    state.connected = true
    return cluster
  } catch (cause) {
    cluster.destroy()
    throw classify(o.url, cause)
  }
}

async function open(client: RedisClientType, url: string): Promise<RedisClientType> {
  // node-redis emits 'error' on every failed reconnect; callers see failures on their calls.
  client.on('error', () => {})
  try {
    await client.connect()
    return client
  } catch (cause) {
    if (client.isOpen) client.destroy()
    throw classify(url, cause)
  }
}

function clientOptions(url: string, o: RedisConnectOptions, state: { connected: boolean }) {
  const tls = url.startsWith('rediss://')
  const options: RedisClientOptions = {
    url,
    disableOfflineQueue: true,
    ...(o.commandTimeoutMs === undefined ? {} : { commandOptions: { timeout: o.commandTimeoutMs } }),
    socket: {
      connectTimeout: o.connectTimeoutMs ?? 5_000,
      ...(tls ? { tls: true as const, ...(o.ca === undefined ? {} : { ca: o.ca }) } : {}),
      // Before the first connection succeeds, give up quickly so start-up reports the problem;
      // after it, keep reconnecting forever with capped backoff. A refusal never retries.
      reconnectStrategy: (retries: number, cause: Error) =>
        refused(cause) !== null || untrusted(cause) !== null || (!state.connected && retries >= 2)
          ? cause
          : Math.min(50 * 2 ** retries, 2_000)
    }
  }
  return options
}

/** `rediss://user:pass@host` → the decoded ACL user and password, if any. */
function credentials(url: string): { username?: string; password?: string } {
  const u = new URL(url)
  return {
    ...(u.username === '' ? {} : { username: decodeURIComponent(u.username) }),
    ...(u.password === '' ? {} : { password: decodeURIComponent(u.password) })
  }
}

function checkUrl(url: string): void {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new DaroogheError(
      'CONFIG',
      `'${redact(url)}' is not a Redis URL: use redis://[user:password@]host:port or rediss:// for TLS`
    )
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new DaroogheError(
      'CONFIG',
      `'${redact(url)}' is not a Redis URL (${u.protocol}): use redis://host:port, or rediss://host:port for TLS`
    )
  }
}

function classify(url: string, cause: unknown): DaroogheError {
  const why = refused(cause)
  if (why) {
    // Wrong credentials or permissions: no retry gets past them.
    return new DaroogheError(
      'REDIS',
      `Redis at ${redact(url)} refused this client (${why}): fix the user and password in --redis (DAROOGHE_REDIS) or its ACL`,
      { cause, retriable: false }
    )
  }
  const cert = untrusted(cause)
  if (cert) {
    return new DaroogheError(
      'REDIS',
      `the TLS certificate of Redis at ${redact(url)} is not trusted (${cert}): give the CA that signed it with --redis-ca (DAROOGHE_REDIS_CA)`,
      { cause, retriable: false }
    )
  }
  return unreachable(url, cause)
}

function unreachable(url: string, cause: unknown): DaroogheError {
  return new DaroogheError('REDIS', `cannot reach Redis at ${redact(url)}`, { cause })
}

/**
 * The Redis error code of a refusal no retry gets past (credentials, permissions, a command
 * the server does not know), or null for a failure that may pass (a connection down, a
 * server loading its data, a replica read-only during a failover).
 */
export function refused(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = inner(e), depth++) {
    const m = /^(WRONGPASS|NOAUTH|NOPERM|ERR unknown command)/.exec(e.message)
    if (m) return m[1]!
  }
  return null
}

const CERT_ERRORS =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID|CERT_SIGNATURE_FAILURE)$/

/** The TLS code of a server certificate this client does not trust, or null. */
function untrusted(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = inner(e), depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && CERT_ERRORS.test(code)) return code
  }
  return null
}

/** The error inside `e`: its cause, or what node-redis's ReconnectStrategyError wraps. */
function inner(e: Error): unknown {
  return (e as { originalError?: unknown }).originalError ?? e.cause
}

/** Hides the passwords in a (comma-separated) redis:// URL for messages and logs. */
export function redact(url: string): string {
  return redactSecrets(url)
}
