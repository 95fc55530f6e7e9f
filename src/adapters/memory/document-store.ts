import { DaroogheError } from '../../errors.ts'
import type { Doc, DocumentStore, IndexSpec, ScanOptions } from '../../ports/document-store.ts'

/**
 * The embedded document store: collections of documents by `_id`, held in this process.
 * Documents are deep-copied on the way in and out, as a database would, so a caller mutating
 * what it wrote or read cannot change what is stored.
 */
export class MemoryDocumentStore implements DocumentStore {
  readonly #collections = new Map<string, Map<string, Doc>>()
  readonly #indexes = new Map<string, IndexSpec[]>()
  #closed = false

  #collection(name: string): Map<string, Doc> {
    if (this.#closed) throw new DaroogheError('CLOSED', 'the document store is closed')
    let c = this.#collections.get(name)
    if (!c) this.#collections.set(name, (c = new Map()))
    return c
  }

  async upsertMany(collection: string, docs: readonly Doc[]): Promise<void> {
    const c = this.#collection(collection)
    for (const doc of docs) c.set(doc._id, structuredClone(doc))
  }

  async *scan(collection: string, options: ScanOptions = {}): AsyncIterable<Doc[]> {
    const c = this.#collection(collection)
    const size = options.batchSize ?? 1000
    const { field, from, to } = options
    const inRange = (doc: Doc): boolean => {
      if (!field) return true
      const v = doc[field]
      const t =
        v instanceof Date ? v.getTime() : typeof v === 'string' || typeof v === 'number' ? +new Date(v) : NaN
      if (Number.isNaN(t)) return false
      return (from === undefined || t >= from.getTime()) && (to === undefined || t < to.getTime())
    }
    const ids = [...c.keys()].sort()
    let batch: Doc[] = []
    for (const id of ids) {
      const doc = c.get(id)
      if (!doc || !inRange(doc)) continue
      batch.push(structuredClone(doc))
      if (batch.length >= size) {
        yield batch
        batch = []
      }
    }
    if (batch.length > 0) yield batch
  }

  async count(collection: string): Promise<number> {
    return this.#collection(collection).size
  }

  async ensureIndexes(collection: string, indexes: readonly IndexSpec[]): Promise<void> {
    this.#collection(collection)
    const known = this.#indexes.get(collection) ?? []
    for (const spec of indexes) {
      const key = JSON.stringify(spec.keys)
      if (!known.some(k => JSON.stringify(k.keys) === key)) known.push(spec)
    }
    this.#indexes.set(collection, known)
  }

  /** The indexes declared on a collection (the embedded store needs none to answer queries). */
  indexesOf(collection: string): readonly IndexSpec[] {
    return this.#indexes.get(collection) ?? []
  }

  async ping(): Promise<boolean> {
    return !this.#closed
  }

  async close(): Promise<void> {
    this.#closed = true
  }
}
