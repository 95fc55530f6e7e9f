import type { BackoffOptions } from '../producer/backoff.ts'
import { describeError, isRetriable } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import type { Doc, DocumentStore } from '../../ports/document-store.ts'
import type { LogConsumer, LogRecord } from '../../ports/log.ts'
import { retryOptions, withRetry, type Resilience } from '../../retry.ts'
import type { RecordLimits } from '../../domain/limits.ts'
import { forEachRecord, RejectCounter, type Rejection } from '../guard/record-guard.ts'
import { documentMapper, rejectDoc } from './documents.ts'
import { COLLECTIONS, DEFAULT_STORE_TOPICS, STORE_INDEXES, type StoreTopics } from './options.ts'
import { emptyStoreTotals, type StoreTotals } from './totals.ts'

export interface StoreDeps {
  /** Subscribed to the topics below (the CLI builds it from the same names). */
  readonly consumer: LogConsumer
  readonly store: DocumentStore
  /** Which topic holds what. Default DEFAULT_STORE_TOPICS. */
  readonly topics?: StoreTopics
  readonly log: Logger
  /** Stop: finish or abandon the batch in flight (abandoned = not committed, re-read on restart), then close. */
  readonly signal?: AbortSignal
  /** Backoff of the retried writes. Default 100 ms doubling to 5 s. */
  readonly backoff?: BackoffOptions
  /** Retry policy (--retry-for: how long a MongoDB outage is waited out) and health tracker. */
  readonly resilience?: Resilience
  /** Called after each batch is stored, before its offsets are committed (progress, metrics). */
  readonly onBatch?: (totals: Readonly<StoreTotals>) => void
  /**
   * Limits of the processor's input records, from which those of its outputs follow
   * (outputLimits). Default DEFAULT_LIMITS, as the processor's.
   */
  readonly limits?: RecordLimits
  /** Each record rejected by the mapping (metrics); all are counted in `rejects` and logged (capped). */
  readonly onReject?: (rejection: Rejection) => void
}

/** A reject document without the record's bytes and headers: what it is, where, and why. */
function bare(d: Doc): Doc {
  const { _id, topic, partition, offset, kind, reason, value_bytes } = d
  return { _id, topic, partition, offset, kind, reason, value_bytes, bytes_dropped: true }
}

/** Thrown out of onBatch to end the consumer's run without committing the batch it was given. */
class Stopping extends Error {}

/**
 * The storage sink: the processor's output topics (and the window aggregates) into the
 * document store. Per poll batch: map every record to its documents, then one upsertMany per
 * collection, in parallel; the consumer commits the batch's offsets only after this resolved
 * (at-least-once), and since every document is a pure function of its record and upserts are
 * keyed by id, a redelivered batch rewrites identical documents.
 *
 * A store outage is retried with backoff inside the batch: the consumer does not fetch past its
 * bounded buffer while onBatch runs, so consumption pauses, memory stays bounded and nothing is
 * committed until the writes succeed. Records that cannot be mapped go to `store_rejects`.
 * Documents the store refuses for good (not retriable) are retried one by one so that one bad
 * document cannot stop the stream, and the refused ones go to `store_rejects` too.
 */
export async function runStore(deps: StoreDeps): Promise<StoreTotals> {
  const { consumer, store, log } = deps
  const topics = deps.topics ?? DEFAULT_STORE_TOPICS
  const totals = emptyStoreTotals()
  const mapper = documentMapper(topics, deps.limits)
  const rejects = new RejectCounter({
    log,
    reader: 'store',
    ...(deps.onReject ? { onReject: deps.onReject } : {})
  })
  const retry = retryOptions(deps.resilience, {
    initialMs: 100,
    maxMs: 5_000,
    ...deps.backoff,
    dependency: 'mongo',
    ...(deps.signal ? { signal: deps.signal } : {})
  })

  /** `records[i]` produced `docs[i]`; without records (rejects), a refused batch is not split. */
  const write = async (collection: string, docs: Doc[], records: LogRecord[] | null): Promise<void> => {
    let attempt = 0
    try {
      await withRetry(
        `MongoDB write to '${collection}'`,
        () => {
          if (attempt++ > 0) totals.retries++
          return store.upsertMany(collection, docs)
        },
        log,
        retry
      )
    } catch (error) {
      if (isRetriable(error) || deps.signal?.aborted) throw error
      if (records === null) {
        // Reject documents the store refused: keep their coordinates and reasons, without the
        // bytes, rather than stop on them (the record is still in its topic at that offset).
        if (collection !== COLLECTIONS.rejects || docs.every(d => d.bytes_dropped === true)) throw error
        log.error(
          { collection, error: describeError(error) },
          'rejects refused: keeping them without their bytes'
        )
        await write(collection, docs.map(bare), null)
        return
      }
      await writeOneByOne(collection, docs, records, error)
    }
    totals.documents[collection] = (totals.documents[collection] ?? 0) + docs.length
  }

  /** A refused batch: find the documents at fault, store the others, reject those. */
  const writeOneByOne = async (collection: string, docs: Doc[], records: LogRecord[], first: unknown) => {
    log.warn(
      { collection, error: describeError(first) },
      'a batch was refused: writing its documents one by one'
    )
    const rejects: Doc[] = []
    const bareRejects: Doc[] = []
    for (let i = 0; i < docs.length; i++) {
      try {
        await withRetry(
          `MongoDB write to '${collection}'`,
          () => store.upsertMany(collection, [docs[i]!]),
          log,
          retry
        )
      } catch (error) {
        if (isRetriable(error)) throw error
        const reason = `${collection}: refused by the store: ${describeError(error)}`
        const { topic, partition, offset } = records[i]!
        log.warn({ topic, partition, offset }, reason)
        // A refused reject keeps its own kind and reason, without the bytes it could not store.
        if (collection === COLLECTIONS.rejects) bareRejects.push(bare(docs[i]!))
        else rejects.push(rejectDoc(records[i]!, reason, 'refused').doc)
      }
    }
    totals.rejects += rejects.length
    if (rejects.length > 0) await write(COLLECTIONS.rejects, rejects, null)
    if (bareRejects.length > 0) await write(COLLECTIONS.rejects, bareRejects, null)
  }

  let inFlight = false
  let stopping = false
  const stop = (): void => {
    stopping = true
    // Idle: close now. Busy: the batch finishes (or its retries are abandoned) first.
    if (!inFlight) void consumer.close()
  }
  if (deps.signal?.aborted) stop()
  deps.signal?.addEventListener('abort', stop, { once: true })

  try {
    for (const [collection, indexes] of Object.entries(STORE_INDEXES)) {
      await withRetry(
        `MongoDB indexes of '${collection}'`,
        () => store.ensureIndexes(collection, indexes),
        log,
        retry
      )
    }
  } catch (error) {
    deps.signal?.removeEventListener('abort', stop)
    if (stopping) return totals
    throw error
  }
  if (stopping) return totals
  try {
    await consumer.run({
      onAssignment: assigned =>
        log.info({ partitions: assigned.map(p => `${p.topic}:${p.partition}`) }, 'partitions assigned'),
      onBatch: async records => {
        if (stopping) {
          // The previous batch is committed (the consumer commits before delivering the next).
          await consumer.close()
          throw new Stopping()
        }
        inFlight = true
        try {
          await storeBatch(records)
          totals.batches++
          totals.records += records.length
          deps.onBatch?.(totals)
        } finally {
          inFlight = false
        }
        // Close once the consumer has issued this batch's commit (it does so right after we resolve).
        if (stopping) setImmediate(() => void consumer.close())
      }
    })
  } catch (error) {
    if (!(error instanceof Stopping) && !(stopping && deps.signal?.aborted)) throw error
    if (!(error instanceof Stopping)) {
      log.warn({ error: describeError(error) }, 'stopped with a batch not stored: it is re-read on restart')
    }
    await consumer.close()
  } finally {
    deps.signal?.removeEventListener('abort', stop)
  }
  return totals

  async function storeBatch(records: readonly LogRecord[]): Promise<void> {
    // Per collection, the last record of an id wins (offset order), as it would in sequence.
    const byCollection = new Map<string, Map<string, { doc: Doc; record: LogRecord }>>()
    const place = (collection: string, doc: Doc, record: LogRecord): void => {
      let m = byCollection.get(collection)
      if (!m) byCollection.set(collection, (m = new Map()))
      m.delete(doc._id)
      m.set(doc._id, { doc, record })
    }
    // Each record in its own try/catch: whatever fails for one record (its bytes, its shape, the
    // mapping) sends it to store_rejects with the reason, and the batch goes on. A retriable
    // error (none is expected here: mapping does no I/O) would propagate and retry the batch.
    forEachRecord(
      records,
      r => {
        for (const p of mapper(r)) place(p.collection, p.doc, r)
      },
      (rejection, r) => {
        const reject = rejectDoc(r, rejection.reason, rejection.kind)
        place(reject.collection, reject.doc, r)
        totals.rejects++
        rejects.add(rejection)
      }
    )
    await Promise.all(
      [...byCollection].map(([collection, m]) => {
        const entries = [...m.values()]
        return write(
          collection,
          entries.map(e => e.doc),
          entries.map(e => e.record)
        )
      })
    )
  }
}
