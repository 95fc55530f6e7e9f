import { DaroogheError } from '../../../errors.ts'

/**
 * A read position in bytes of the Kafka protocol (fetch and produce responses, record
 * batches), with the variable-length integers Kafka writes: unsigned varints for compact
 * lengths, zigzag varints and varlongs inside records, and tagged-field sections to skip.
 * Multi-byte integers are big-endian; Buffer reads them at `at`.
 */
export class WireCursor {
  constructor(
    readonly b: Buffer,
    public at = 0
  ) {}

  i16(): number {
    const v = this.b.readInt16BE(this.at)
    this.at += 2
    return v
  }

  i32(): number {
    const v = this.b.readInt32BE(this.at)
    this.at += 4
    return v
  }

  /** An int64 as a number: offsets and timestamps stay below 2^53. */
  i64(): number {
    const v = this.b.readInt32BE(this.at) * 4_294_967_296 + this.b.readUInt32BE(this.at + 4)
    this.at += 8
    return v
  }

  /** Moves past `bytes` bytes (fields the caller does not need). */
  advance(bytes: number): void {
    this.at += bytes
  }

  /** Unsigned varint (compact lengths are this value minus one), exact up to 2^53. */
  uvarint(): number {
    const b = this.b
    let at = this.at
    let value = 0
    let scale = 1
    let byte: number
    do {
      if (at >= b.length || scale > 2 ** 49) throw malformed()
      byte = b[at++]!
      value += (byte & 0x7f) * scale
      scale *= 128
    } while (byte & 0x80)
    this.at = at
    return value
  }

  /** Zigzag varint or varlong (the same encoding), exact up to 2^53. */
  varint(): number {
    const raw = this.uvarint()
    const half = Math.floor(raw / 2)
    return raw % 2 === 0 ? half : -half - 1
  }

  skipVarint(): void {
    const b = this.b
    let at = this.at
    while (at < b.length && (b[at]! & 0x80) !== 0) at++
    if (at >= b.length) throw malformed()
    this.at = at + 1
  }

  /** Bytes after a zigzag varint length, -1 for null: a view, not a copy. */
  varBytes(): Buffer | null {
    const length = this.varint()
    if (length < 0) return null
    const start = this.at
    this.at += length
    return this.b.subarray(start, this.at)
  }

  /** UTF-8 after a zigzag varint length ('' for null). */
  varString(): string {
    const length = this.varint()
    if (length <= 0) return ''
    const start = this.at
    this.at += length
    return this.b.toString('utf8', start, this.at)
  }

  /** COMPACT_NULLABLE_STRING: unsigned varint length + 1, 0 for null. */
  compactString(): string | null {
    const length = this.uvarint() - 1
    if (length < 0) return null
    const start = this.at
    this.at += length
    return this.b.toString('utf8', start, this.at)
  }

  /** A TAG_BUFFER: a count of tagged fields, each tag, size and bytes. */
  skipTags(): void {
    const count = this.uvarint()
    for (let i = 0; i < count; i++) {
      this.uvarint()
      this.at += this.uvarint()
    }
  }
}

function malformed(): DaroogheError {
  return new DaroogheError('KAFKA', 'a Kafka response is malformed (a varint runs past its end)')
}

/**
 * Writes `s` as UTF-8 at `at` of `out` (which has the room) and returns the bytes written.
 * Keys are short ASCII ids: copied by a loop, three times faster than Buffer#write's native
 * call; anything else goes through it.
 */
export function writeUtf8(out: Buffer, at: number, s: string): number {
  const n = s.length
  if (n > 64) return out.write(s, at)
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) return out.write(s, at)
    out[at + i] = c
  }
  return n
}

// ---------------------------------------------------------------- writing

/** An int64 that is a number below 2^53 (offsets, timestamps), big-endian at `at`. */
export function writeInt64(out: Buffer, at: number, value: number): void {
  const high = Math.floor(value / 4_294_967_296)
  out.writeInt32BE(high, at)
  out.writeUInt32BE(value - high * 4_294_967_296, at + 4)
}

/** Bytes of a zigzag varint (32-bit). */
export function varintSize(value: number): number {
  return unsignedSize(((value << 1) ^ (value >> 31)) >>> 0)
}

/** Bytes of an unsigned varint. */
export function unsignedSize(u: number): number {
  let n = 1
  while (u >= 0x80) {
    u = Math.floor(u / 128)
    n++
  }
  return n
}

/** Bytes of a zigzag varlong below 2^52 in size. */
export function varlongSize(value: number): number {
  return unsignedSize(value >= 0 ? value * 2 : -value * 2 - 1)
}

export function writeUnsignedVarint(out: Buffer, at: number, u: number): number {
  while (u >= 0x80) {
    out[at++] = (u & 0x7f) | 0x80
    u = Math.floor(u / 128)
  }
  out[at++] = u
  return at
}

export function writeVarint(out: Buffer, at: number, value: number): number {
  return writeUnsignedVarint(out, at, ((value << 1) ^ (value >> 31)) >>> 0)
}

export function writeVarlong(out: Buffer, at: number, value: number): number {
  return writeUnsignedVarint(out, at, value >= 0 ? value * 2 : -value * 2 - 1)
}
