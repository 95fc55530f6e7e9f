/** Process-wide checks between batches: prototypes untouched, heap bounded. */
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

const WATCHED: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype]
]

/** The own keys of the built-in prototypes now; `changes` says what differs later. */
export class PrototypeGuard {
  readonly #before = WATCHED.map(([, p]) => new Set(Reflect.ownKeys(p)))

  /** What was added to a prototype since construction (and removes it, so later batches start clean). */
  changes(): string[] {
    const out: string[] = []
    WATCHED.forEach(([name, proto], i) => {
      for (const k of Reflect.ownKeys(proto)) {
        if (this.#before[i]!.has(k)) continue
        out.push(`${name}.${String(k)} added`)
        Reflect.deleteProperty(proto, k)
      }
    })
    const probe = {} as Record<string, unknown>
    if (probe.polluted !== undefined) out.push(`({}).polluted is ${String(probe.polluted)}`)
    if (Object.getPrototypeOf(probe) !== Object.prototype) out.push('a fresh object has another prototype')
    return out
  }
}

let gc: (() => void) | null = null

/** heapUsed after a full collection, in bytes. */
export function heapAfterGc(): number {
  if (gc === null) {
    const g = (globalThis as { gc?: () => void }).gc
    if (typeof g === 'function') gc = g
    else {
      setFlagsFromString('--expose-gc')
      gc = runInNewContext('gc') as () => void
    }
  }
  gc()
  gc()
  return getHeapStatistics().used_heap_size
}

export const MiB = 1 << 20
