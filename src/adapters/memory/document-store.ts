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
    let docs = [...c.values()]
    if (field !== undefined) {
      // As MongoDB: only Date values are in a time range (BSON compares by type first), and the
      // range comes in field order, ties by _id.
      const lo = from?.getTime() ?? -Infinity
      const hi = to?.getTime() ?? Infinity
      const timeOf = (d: Doc): number => (d[field] as Date).getTime()
      docs = docs
        .filter(d => d[field] instanceof Date && timeOf(d) >= lo && timeOf(d) < hi)
        .sort((a, b) => timeOf(a) - timeOf(b) || compareIds(a._id, b._id))
    } else {
      docs.sort((a, b) => compareIds(a._id, b._id))
    }
    for (let i = 0; i < docs.length; i += size) {
      yield docs.slice(i, i + size).map(d => structuredClone(d))
    }
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

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
