import {
  MongoBulkWriteError,
  MongoError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoWriteConcernError
} from 'mongodb'
import { DaroogheError } from '../../errors.ts'

/**
 * Server error codes that mean "not now" rather than "never": elections, shutdowns, lock and
 * write-conflict timeouts, and the duplicate key an upsert can meet when two writers insert the
 * same `_id` at once (the retry finds the document and replaces it).
 */
const TRANSIENT_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  112, // WriteConflict
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11000, // DuplicateKey (concurrent upserts of one _id)
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436 // NotPrimaryOrSecondary
])

/**
 * Whether a driver error may go away if the same operation is tried again later: a network
 * failure, a timeout, no reachable server, a stepping-down primary. Validation failures,
 * bad documents and bad arguments are not: retrying them only repeats the failure.
 */
export function isTransientMongoError(error: unknown): boolean {
  // A bulk write wraps what stopped it (a closed connection, no server) in errorResponse.
  const inner = (error as { errorResponse?: unknown } | null)?.errorResponse
  if (inner instanceof Error && inner !== error && isTransientMongoError(inner)) return true
  if (error instanceof MongoNetworkError) return true // includes MongoNetworkTimeoutError
  if (error instanceof MongoServerSelectionError) return true
  if (error instanceof MongoOperationTimeoutError) return true
  if (error instanceof MongoServerClosedError) return true
  if (error instanceof MongoError) {
    if (error.hasErrorLabel(MongoErrorLabel.RetryableWriteError)) return true
    if (error.hasErrorLabel(MongoErrorLabel.ResetPool)) return true
  }
  if (error instanceof MongoBulkWriteError) {
    // Unordered: every failed operation must be transient for the whole batch to be.
    const codes = error.writeErrors
    const list = Array.isArray(codes) ? codes : [codes]
    if (list.length > 0) return list.every(e => TRANSIENT_CODES.has(e.code))
  }
  if (error instanceof MongoWriteConcernError) return true
  if (error instanceof MongoServerError && typeof error.code === 'number')
    return TRANSIENT_CODES.has(error.code)
  return false
}

/** Wraps a driver error as `DAROOGHE_ERR_MONGO`, retriable only when it is transient. */
export function mongoError(what: string, cause: unknown): DaroogheError {
  if (cause instanceof DaroogheError) return cause
  const retriable = isTransientMongoError(cause)
  const hint = retriable
    ? 'is MongoDB reachable? (--mongo / DAROOGHE_MONGO)'
    : 'refused: retrying would not help'
  return new DaroogheError('MONGO', `MongoDB ${what} failed (${hint})`, { cause, retriable })
}
