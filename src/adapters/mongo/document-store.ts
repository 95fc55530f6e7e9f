import {
  MongoClient,
  type AnyBulkWriteOperation,
  type Db,
  type Document,
  type Filter,
  type Sort
} from 'mongodb'
import { DaroogheError } from '../../errors.ts'
import { silentLogger, type Logger } from '../../logger.ts'
import type { Doc, DocumentStore, IndexSpec, ScanOptions } from '../../ports/document-store.ts'
import { redactMongoUrl } from './url.ts'
import { mongoError } from './errors.ts'

/** A stored document as the driver sees it: ids are strings here, never ObjectIds. */
type Stored = { _id: string; [field: string]: unknown }

/** Documents per bulkWrite: one round trip each, small enough to keep a request well under 16 MB. */
export const UPSERT_CHUNK = 1_000

export interface MongoConnectOptions {
  /** e.g. `mongodb://127.0.0.1:27017/darooghe`. */
  readonly url: string
  /** Database name. Default: the URL's path, else 'darooghe'. */
  readonly database?: string
  /** How long to wait for a reachable server before an operation fails (retriable), ms. Default 5 000. */
  readonly serverSelectionTimeoutMs?: number
  readonly log?: Logger
}

/** The database named by a MongoDB URL's path (`mongodb://h1,h2/db?x=y` → 'db'), if any. */
export function databaseFromUrl(url: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?#]*)/.exec(url)
  const name = m?.[1] ? decodeURIComponent(m[1]) : ''
  return name === '' ? undefined : name
}

/**
 * DocumentStore on MongoDB. Upserts are `replaceOne({_id}, doc, {upsert: true})` in unordered
 * bulk writes of up to UPSERT_CHUNK documents, so a redelivered batch rewrites identical
 * documents; scans read through a batch cursor. Driver errors become `DAROOGHE_ERR_MONGO`,
 * retriable for network failures and timeouts (the caller retries with backoff), not for
 * documents the server rejects.
 */
export class MongoDocumentStore implements DocumentStore {
  readonly #client: MongoClient
  readonly #db: Db
  #closed = false

  private constructor(client: MongoClient, db: Db) {
    this.#client = client
    this.#db = db
  }

  /** Connects and pings; a server that does not answer rejects with a retriable MONGO error. */
  static async connect(options: MongoConnectOptions): Promise<MongoDocumentStore> {
    const log = options.log ?? silentLogger
    const database = options.database ?? databaseFromUrl(options.url) ?? 'darooghe'
    let client: MongoClient
    try {
      client = new MongoClient(options.url, {
        serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5_000,
        appName: 'darooghe'
      })
    } catch (cause) {
      throw new DaroogheError(
        'USAGE',
        `--mongo: '${redactMongoUrl(options.url)}' is not a valid MongoDB URL`,
        {
          cause
        }
      )
    }
    try {
      await client.connect()
      await client.db(database).command({ ping: 1 })
    } catch (cause) {
      await client.close().catch(() => {})
      throw mongoError(`connect to ${redactMongoUrl(options.url)}`, cause)
    }
    log.info({ mongo: redactMongoUrl(options.url), database }, 'connected to MongoDB')
    return new MongoDocumentStore(client, client.db(database))
  }

  /** The database in use (tests drop it). */
  get database(): Db {
    return this.#db
  }

  #check(): void {
    if (this.#closed) throw new DaroogheError('CLOSED', 'the document store is closed')
  }

  async upsertMany(collection: string, docs: readonly Doc[]): Promise<void> {
    this.#check()
    const col = this.#db.collection<Stored>(collection)
    for (let i = 0; i < docs.length; i += UPSERT_CHUNK) {
      const ops: AnyBulkWriteOperation<Stored>[] = []
      const end = Math.min(docs.length, i + UPSERT_CHUNK)
      for (let j = i; j < end; j++) {
        const doc = docs[j]!
        ops.push({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })
      }
      try {
        await col.bulkWrite(ops, { ordered: false })
      } catch (cause) {
        throw mongoError(`upsert of ${ops.length} documents into '${collection}'`, cause)
      }
    }
  }

  async *scan(collection: string, options: ScanOptions = {}): AsyncIterable<Doc[]> {
    this.#check()
    const size = options.batchSize ?? 1000
    const { field, from, to } = options
    let filter: Filter<Stored> = {}
    let sort: Sort = { _id: 1 }
    if (field !== undefined) {
      // Only Date values are in a time range (as the embedded store): BSON compares by type
      // first, so a string or number field would never fall between two Dates anyway.
      const range: Document = { $type: 'date' }
      if (from !== undefined) range.$gte = from
      if (to !== undefined) range.$lt = to
      filter = { [field]: range }
      sort = { [field]: 1, _id: 1 }
    }
    const cursor = this.#db.collection<Stored>(collection).find(filter, { sort, batchSize: size })
    try {
      let batch: Doc[] = []
      for await (const doc of cursor) {
        batch.push(doc)
        if (batch.length >= size) {
          yield batch
          batch = []
        }
      }
      if (batch.length > 0) yield batch
    } catch (cause) {
      throw mongoError(`scan of '${collection}'`, cause)
    } finally {
      await cursor.close().catch(() => {})
    }
  }

  async count(collection: string): Promise<number> {
    this.#check()
    try {
      return await this.#db.collection(collection).countDocuments({})
    } catch (cause) {
      throw mongoError(`count of '${collection}'`, cause)
    }
  }

  async ensureIndexes(collection: string, indexes: readonly IndexSpec[]): Promise<void> {
    this.#check()
    if (indexes.length === 0) return
    try {
      await this.#db
        .collection(collection)
        .createIndexes(indexes.map(i => ({ key: { ...i.keys }, ...(i.name ? { name: i.name } : {}) })))
    } catch (cause) {
      throw mongoError(`index creation on '${collection}'`, cause)
    }
  }

  async ping(): Promise<boolean> {
    if (this.#closed) return false
    try {
      await this.#db.command({ ping: 1 })
      return true
    } catch {
      return false
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#client.close()
  }
}
