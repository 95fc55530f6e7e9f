import { DEFAULT_LIMITS, type RecordLimits } from './limits.ts'

/**
 * What the readers of the processor's outputs check beyond the record limits: the keys of the
 * JSON objects in a record, and how large an output record may grow around the input it carries.
 */

export type KeyProblemKind = 'duplicate_key' | 'forbidden_key'

export interface KeyProblem {
  readonly kind: KeyProblemKind
  /** One line: which key, and why. */
  readonly message: string
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const LBRACE = 0x7b
const RBRACE = 0x7d
const LBRACKET = 0x5b
const RBRACKET = 0x5d

/** One open container of the scan: an object knows whether its next string is a key. */
interface Open {
  readonly object: boolean
  expectKey: boolean
  keys: Set<string> | null
}

/**
 * Scans the keys of a JSON text that JSON.parse accepted (and that is within its record limits,
 * so the scan is bounded): a `__proto__` key anywhere is forbidden (JSON.parse makes it an own
 * property, but any later `target[key] = value` copy would change a prototype), and with
 * `duplicates: 'reject'` a key that appears twice in one object is refused, since JSON parsers
 * disagree on which occurrence wins. Escaped keys are compared decoded (`"\u005f_proto__"` is
 * `__proto__`). Iterative: no recursion whatever the nesting. Null when the keys are fine.
 */
export function checkKeys(
  bytes: Uint8Array,
  options: {
    readonly duplicates: 'reject' | 'last-wins'
    /**
     * What JSON.parse made of `bytes`, when the caller has it: if its objects hold as many
     * members as the text has, no key was repeated, and the key-by-key scan is needed only for
     * a possible `__proto__`.
     */
    readonly parsed?: unknown
  }
): KeyProblem | null {
  let rejectDuplicates = options.duplicates === 'reject'
  if (rejectDuplicates && 'parsed' in options && membersOf(options.parsed) === colonsOf(bytes)) {
    rejectDuplicates = false
  }
  // Without duplicates to find, only a __proto__ key matters; it cannot be spelt without these.
  if (!rejectDuplicates && !mayHoldProto(bytes)) return null
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const stack: Open[] = []
  const n = bytes.length
  let i = 0
  while (i < n) {
    const c = bytes[i]!
    if (c === QUOTE) {
      const start = i + 1
      let escaped = false
      i++
      while (i < n && bytes[i] !== QUOTE) {
        if (bytes[i] === BACKSLASH) {
          escaped = true
          i++
        }
        i++
      }
      const top = stack[stack.length - 1]
      if (top !== undefined && top.object && top.expectKey) {
        top.expectKey = false
        const key = escaped ? decodeKey(text, start - 1, i + 1) : text.toString('utf8', start, i)
        if (key === '__proto__') {
          return { kind: 'forbidden_key', message: `a "__proto__" key at byte ${start - 1}` }
        }
        if (rejectDuplicates) {
          top.keys ??= new Set()
          if (top.keys.has(key)) {
            return { kind: 'duplicate_key', message: `key ${JSON.stringify(clip(key))} twice in one object` }
          }
          top.keys.add(key)
        }
      }
      i++
      continue
    }
    if (c === LBRACE) stack.push({ object: true, expectKey: true, keys: null })
    else if (c === LBRACKET) stack.push({ object: false, expectKey: false, keys: null })
    else if (c === RBRACE || c === RBRACKET) stack.pop()
    else if (c === COMMA) {
      const top = stack[stack.length - 1]
      if (top !== undefined && top.object) top.expectKey = true
    }
    i++
  }
  return null
}

/** Members of every object in a parsed JSON value (iterative: no recursion on deep values). */
function membersOf(value: unknown): number {
  let n = 0
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v !== 'object' || v === null) continue
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'object' && x !== null) stack.push(x)
      continue
    }
    for (const k in v) {
      n++
      const x = (v as Record<string, unknown>)[k]
      if (typeof x === 'object' && x !== null) stack.push(x)
    }
  }
  return n
}

/** Colons outside strings: one per object member in the text, repeated keys included. */
function colonsOf(bytes: Uint8Array): number {
  let n = 0
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!
    if (c === 0x3a) n++
    else if (c === QUOTE) {
      i++
      while (i < bytes.length && bytes[i] !== QUOTE) i += bytes[i] === BACKSLASH ? 2 : 1
    }
  }
  return n
}

/** Whether the bytes contain `proto` or an escape: a `__proto__` key needs one of the two. */
function mayHoldProto(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return b.indexOf('proto') >= 0 || b.indexOf('\\u') >= 0
}

function decodeKey(text: Buffer, from: number, to: number): string {
  try {
    return JSON.parse(text.toString('utf8', from, to)) as string
  } catch {
    return text.toString('utf8', from + 1, to - 1)
  }
}

function clip(key: string): string {
  return key.length > 64 ? `${key.slice(0, 64)}…` : key
}

/**
 * The limits of a record the processor wrote around an input record within `input`: a decision
 * (the event's bytes plus the decision fields), an error record (the event parsed, or its bytes
 * as base64, plus the issues), a late record, a window aggregate. Larger than the input's limits
 * by what the processor adds, and still bounded, so a reader of the outputs accepts everything
 * the processor can write and nothing unbounded.
 */
export function outputLimits(input: RecordLimits = DEFAULT_LIMITS): RecordLimits {
  // Base64 of the largest record, in quotes: an error record's original_base64.
  const base64 = Math.ceil(input.maxEventBytes / 3) * 4 + 2
  return Object.freeze({
    maxEventBytes: 2 * input.maxEventBytes + 16 * 1024,
    maxDepth: input.maxDepth + 4,
    maxStringBytes: Math.max(2 * input.maxStringBytes, base64),
    maxFields: input.maxFields + 1_000
  })
}
