/** The services a Darooghe command depends on. */
export type Dependency = 'kafka' | 'redis' | 'mongo'

export const DEPENDENCIES: readonly Dependency[] = Object.freeze(['kafka', 'redis', 'mongo'])

/** Where the state of the dependencies goes besides /health (the Prometheus metrics). */
export interface DependencySink {
  setDependencyUp(dependency: Dependency, up: boolean): void
  countRetry(dependency: Dependency): void
}

/** An operation that is failing and being retried: what, since when, the last error. */
export interface Retrying {
  readonly operation: string
  readonly since: string
  readonly attempts: number
  /** The last error, one line, secrets redacted. */
  readonly error: string
}

export interface DependencyState {
  readonly up: boolean
  /** The operations retrying against it now (empty when up). */
  readonly retrying: readonly Retrying[]
}

interface Entry {
  readonly dependency: Dependency
  readonly operation: string
  readonly sinceMs: number
  attempts: number
  error: string
}

/**
 * What this process knows of its dependencies from its own calls: a dependency is down while
 * at least one operation against it is retrying after a failure, up again once every one of
 * them succeeded (or gave up). Commands read it for /health (status `degraded`, naming the
 * dependency) and mirror it to the metrics `darooghe_dependency_up` and
 * `darooghe_dependency_retries_total`. The retry loops of `src/retry.ts` report to it.
 */
export class DependencyHealth {
  readonly #active = new Map<number, Entry>()
  readonly #sink: DependencySink | undefined
  readonly #now: () => number
  #next = 0

  /** `uses`: the dependencies of the command, reported up (1) until an operation fails. */
  constructor(options: { sink?: DependencySink; uses?: readonly Dependency[]; now?: () => number } = {}) {
    this.#sink = options.sink
    this.#now = options.now ?? Date.now
    for (const d of options.uses ?? []) this.#sink?.setDependencyUp(d, true)
  }

  /**
   * An operation failed and will be retried. Returns its token: pass it back on the next
   * failure of the same operation and to `recovered` when it succeeds or stops.
   */
  failed(dependency: Dependency, operation: string, error: string, token?: number): number {
    let entry = token === undefined ? undefined : this.#active.get(token)
    if (entry === undefined) {
      token = this.#next++
      entry = { dependency, operation, sinceMs: this.#now(), attempts: 0, error }
      this.#active.set(token, entry)
      this.#sink?.setDependencyUp(dependency, false)
    }
    entry.attempts++
    entry.error = error
    this.#sink?.countRetry(dependency)
    return token!
  }

  /** The operation of `token` succeeded, or is no longer retried. */
  recovered(token: number | undefined): void {
    if (token === undefined) return
    const entry = this.#active.get(token)
    if (!entry) return
    this.#active.delete(token)
    if (!this.isDown(entry.dependency)) this.#sink?.setDependencyUp(entry.dependency, true)
  }

  isDown(dependency: Dependency): boolean {
    for (const e of this.#active.values()) if (e.dependency === dependency) return true
    return false
  }

  /** The dependencies with an operation retrying against them. */
  down(): Dependency[] {
    return DEPENDENCIES.filter(d => this.isDown(d))
  }

  state(dependency: Dependency): DependencyState {
    const retrying: Retrying[] = []
    for (const e of this.#active.values()) {
      if (e.dependency !== dependency) continue
      retrying.push({
        operation: e.operation,
        since: new Date(e.sinceMs).toISOString(),
        attempts: e.attempts,
        error: e.error
      })
    }
    return { up: retrying.length === 0, retrying }
  }
}
