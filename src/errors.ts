/**
 * The one catalogue of Darooghe error codes. Every code is documented in docs/errors.md.
 * `retriable` says whether the same operation may succeed if tried again later
 * (a broker still starting, a Redis failover); callers retry only those.
 */
export const ErrorCodes = {
  CONFIG: { code: 'DAROOGHE_ERR_CONFIG', retriable: false },
  USAGE: { code: 'DAROOGHE_ERR_USAGE', retriable: false },
  SCHEMA: { code: 'DAROOGHE_ERR_SCHEMA', retriable: false },
  RULES: { code: 'DAROOGHE_ERR_RULES', retriable: false },
  KAFKA: { code: 'DAROOGHE_ERR_KAFKA', retriable: true },
  KAFKA_FATAL: { code: 'DAROOGHE_ERR_KAFKA_FATAL', retriable: false },
  REDIS: { code: 'DAROOGHE_ERR_REDIS', retriable: true },
  STATE_CONFLICT: { code: 'DAROOGHE_ERR_STATE_CONFLICT', retriable: true },
  MONGO: { code: 'DAROOGHE_ERR_MONGO', retriable: true },
  UNAVAILABLE: { code: 'DAROOGHE_ERR_UNAVAILABLE', retriable: true },
  TIMEOUT: { code: 'DAROOGHE_ERR_TIMEOUT', retriable: true },
  SINK: { code: 'DAROOGHE_ERR_SINK', retriable: true },
  IO: { code: 'DAROOGHE_ERR_IO', retriable: false },
  CLOSED: { code: 'DAROOGHE_ERR_CLOSED', retriable: false },
  INTERNAL: { code: 'DAROOGHE_ERR_INTERNAL', retriable: false }
} as const

export type ErrorKind = keyof typeof ErrorCodes
export type ErrorCode = (typeof ErrorCodes)[ErrorKind]['code']

export class DaroogheError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly kind: ErrorKind

  constructor(kind: ErrorKind, message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DaroogheError'
    this.kind = kind
    this.code = ErrorCodes[kind].code
    this.retriable = options.retriable ?? ErrorCodes[kind].retriable
  }
}

export function isRetriable(error: unknown): boolean {
  if (error instanceof DaroogheError) return error.retriable
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string') {
    return (
      code === 'ECONNREFUSED' ||
      code === 'ECONNRESET' ||
      code === 'ETIMEDOUT' ||
      code === 'EPIPE' ||
      code === 'PLT_KFK_NETWORK' ||
      code === 'PLT_KFK_MULTIPLE' ||
      code === 'PLT_KFK_TIMEOUT'
    )
  }
  return false
}

/** One line for a person: the message and, if it differs, the innermost cause. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  let root: unknown = error
  while (root instanceof Error && root.cause !== undefined) root = root.cause
  const base = error.message
  if (root !== error && root instanceof Error && root.message && !base.includes(root.message)) {
    return `${base}: ${root.message}`
  }
  return base
}

/** Hides the password of every URL in a text (`scheme://user:secret@host` → `scheme://user:***@host`). */
export function redactSecrets(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:@/\s]*):[^@/\s]*@/gi, '$1:***@')
}
