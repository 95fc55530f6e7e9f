/**
 * How to reach Redis: one server or a cluster. Every Redis adapter takes this.
 * The configuration layer builds it from --redis / DAROOGHE_REDIS and --redis-ca.
 */
export interface RedisConnection {
  /**
   * `redis://` or `rediss://` (TLS) URL with an optional `user:password@` (ACL user). A cluster
   * is given by one or more of its nodes' URLs, comma-separated.
   */
  readonly url: string
  /** PEM text of the CA that signed the server's certificate (`--redis-ca FILE`). */
  readonly ca?: string
}
