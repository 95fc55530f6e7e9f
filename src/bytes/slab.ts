/**
 * Bump allocator for the bytes of a batch: its outputs, its state values and its replay log.
 * A batch's bytes are written and released together, so carving them out of large chunks
 * replaces thousands of small ArrayBuffer allocations (and their GC bookkeeping) with a few, and
 * keeps a batch's outputs contiguous, which lets the replay log copy them in runs.
 *
 * With a `ChunkPool`, `recycle()` hands the chunks back for a later batch, for the owner to call
 * once nothing holds the slab's bytes any more (outputs acknowledged and not kept; state written).
 * Without one, chunks are garbage with the last value cut from them.
 */
export class ByteSlab {
  #chunk: Buffer = Buffer.alloc(0)
  #offset = 0
  readonly #writer = new ByteWriter()
  readonly #pool: ChunkPool | null
  /** Chunks taken from the pool, to give back on `recycle()`. */
  #taken: Buffer[] = []

  constructor(
    private readonly chunkSize = 1 << 20,
    pool: ChunkPool | null = null
  ) {
    this.#pool = pool
  }

  /**
   * A slab whose chunks suit a batch of `records` records of about `bytesPerRecord` bytes each:
   * small batches (low rates) must not allocate a megabyte each, which drives the old
   * generation's collections through external memory and shows as latency spikes.
   */
  static forBatch(records: number, bytesPerRecord: number, pool: ChunkPool | null = null): ByteSlab {
    return new ByteSlab(Math.min(1 << 20, Math.max(16 << 10, records * bytesPerRecord)), pool)
  }

  /** `head` followed by the UTF-8 of `tail`, as one Buffer. */
  concat(head: Buffer | null, headEnd: number, tail: string): Buffer {
    const start = this.#reserve(headEnd + tail.length * 3)
    if (head !== null) head.copy(this.#chunk, start, 0, headEnd)
    const written = this.#chunk.write(tail, start + headEnd)
    this.#offset = start + headEnd + written
    return this.#chunk.subarray(start, this.#offset)
  }

  /** The UTF-8 of `text`. */
  from(text: string): Buffer {
    return this.concat(null, 0, text)
  }

  /** `parts` one after the other, as one Buffer of `total` bytes. */
  join(parts: readonly Uint8Array[], total: number): Buffer {
    const start = this.#reserve(total)
    let at = start
    for (const part of parts) {
      this.#chunk.set(part, at)
      at += part.length
    }
    this.#offset = at
    return this.#chunk.subarray(start, at)
  }

  /**
   * Starts a value of at most `max` bytes: write it through the returned writer (reused: one
   * value at a time), then `end()` returns its bytes.
   */
  begin(max: number): ByteWriter {
    const start = this.#reserve(max)
    this.#writer.reset(this.#chunk, start, start + max)
    return this.#writer
  }

  end(): Buffer {
    const w = this.#writer
    this.#offset = w.pos
    return this.#chunk.subarray(w.start, w.pos)
  }

  /**
   * Gives the pooled chunks back: every Buffer cut from this slab may be overwritten by a later
   * batch from then on. The slab itself starts over empty.
   */
  recycle(): void {
    if (this.#pool !== null) for (const c of this.#taken) this.#pool.give(c)
    this.#taken = []
    this.#chunk = Buffer.alloc(0)
    this.#offset = 0
  }

  #reserve(max: number): number {
    if (this.#offset + max > this.#chunk.length) {
      const size = Math.max(this.chunkSize, max)
      if (this.#pool !== null && size <= ChunkPool.MAX_CHUNK) {
        this.#chunk = this.#pool.take(size)
        this.#taken.push(this.#chunk)
      } else this.#chunk = Buffer.allocUnsafe(size)
      this.#offset = 0
    }
    return this.#offset
  }
}

/**
 * Free slab chunks by size class (powers of two, 16 KiB to 1 MiB), kept for the next batches.
 * A chunk allocated once and reused stays in the old generation; a fresh one per batch is new
 * external memory each time, and V8 answers a few tens of megabytes of it with a minor
 * collection: at 35,000 events/s that was most of the scavenges, each copying the batch in
 * flight. Bounded: beyond `maxBytes` of free chunks, given-back chunks are dropped.
 */
export class ChunkPool {
  static readonly MIN_CHUNK = 16 << 10
  static readonly MAX_CHUNK = 1 << 20
  readonly #free = new Map<number, Buffer[]>()
  #freeBytes = 0

  constructor(readonly maxBytes = 16 << 20) {}

  /** Bytes held free. */
  get freeBytes(): number {
    return this.#freeBytes
  }

  /** A chunk of at least `size` bytes (its size class), reused when one is free. */
  take(size: number): Buffer {
    let cls = ChunkPool.MIN_CHUNK
    while (cls < size) cls *= 2
    const chunk = this.#free.get(cls)?.pop()
    if (chunk !== undefined) {
      this.#freeBytes -= cls
      return chunk
    }
    // Its own ArrayBuffer (never a slice of Node's shared pool): it is handed out again whole.
    return Buffer.allocUnsafeSlow(cls)
  }

  give(chunk: Buffer): void {
    if (this.#freeBytes + chunk.length > this.maxBytes) return
    let list = this.#free.get(chunk.length)
    if (list === undefined) this.#free.set(chunk.length, (list = []))
    list.push(chunk)
    this.#freeBytes += chunk.length
  }
}

/**
 * The UTF-8 bytes of a constant (JSON syntax and field names of an output template), made
 * once: `ByteWriter.put` copies them in one call where `text` converts them character by
 * character (four times slower for a 40-byte constant).
 */
export function bytesOf(s: string): Uint8Array {
  return new TextEncoder().encode(s)
}

/** Little-endian binary writes at a moving position (state values, the replay log). */
export class ByteWriter {
  buf: Buffer = Buffer.alloc(0)
  start = 0
  pos = 0
  #limit = 0
  /** Over `buf` (kept while the chunk is the same): DataView writes inline, Buffer's do not. */
  #view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0))

  reset(buf: Buffer, start: number, limit: number): void {
    if (buf !== this.buf) this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.buf = buf
    this.start = start
    this.pos = start
    this.#limit = limit
  }

  u8(v: number): void {
    this.buf[this.pos++] = v
  }

  u16(v: number): void {
    this.#view.setUint16(this.pos, v, true)
    this.pos += 2
  }

  u32(v: number): void {
    this.#view.setUint32(this.pos, v, true)
    this.pos += 4
  }

  f64(v: number): void {
    this.#view.setFloat64(this.pos, v, true)
    this.pos += 8
  }

  /** UTF-8 of `s` after its byte length (u16); at most 65,535 bytes. */
  str16(s: string): void {
    const at = this.pos
    const len = s.length
    if (len <= 64) {
      // Ids are short and ASCII: a loop beats the native call; anything else takes it.
      const buf = this.buf
      let i = 0
      for (; i < len; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) break
        buf[at + 2 + i] = c
      }
      if (i === len) {
        this.#view.setUint16(at, len, true)
        this.pos = at + 2 + len
        return
      }
    }
    const n = Buffer.byteLength(s, 'utf8')
    if (n > 0xffff) throw new RangeError('string longer than 65,535 bytes')
    if (at + 2 + n > this.#limit) throw new RangeError('value larger than the room reserved for it')
    this.buf.write(s, at + 2, n)
    this.buf.writeUInt16LE(n, at)
    this.pos = at + 2 + n
  }

  /** `bytes[start, end)` as they are. */
  raw(bytes: Uint8Array, start: number, end: number): void {
    if (start === 0 && this.pos + bytes.length <= this.#limit) {
      // A prefix (a decision's copy of its event): all of it, without a view made for the
      // range; what lies past `end` is overwritten by the next write or left past the value.
      this.buf.set(bytes, this.pos)
      this.pos += end
      return
    }
    if (this.pos + end - start > this.#limit)
      throw new RangeError('value larger than the room reserved for it')
    this.buf.set(bytes.subarray(start, end), this.pos)
    this.pos += end - start
  }

  /** Pre-encoded bytes (see `bytesOf`). */
  put(bytes: Uint8Array): void {
    const at = this.pos
    if (at + bytes.length > this.#limit) throw new RangeError('value larger than the room reserved for it')
    this.buf.set(bytes, at)
    this.pos = at + bytes.length
  }

  /**
   * Text as UTF-8: JSON syntax, identifiers and numbers are ASCII and copied by a loop (no
   * string is made); anything else goes through the encoder. Throws past the reserved room.
   */
  text(s: string): void {
    const n = s.length
    let at = this.pos
    if (at + n > this.#limit) throw new RangeError('value larger than the room reserved for it')
    const buf = this.buf
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) {
        const rest = s.slice(i)
        if (at + Buffer.byteLength(rest, 'utf8') > this.#limit)
          throw new RangeError('value larger than the room reserved for it')
        this.pos = at + buf.write(rest, at)
        return
      }
      buf[at++] = c
    }
    this.pos = at
  }

  /** A JSON number, as `String(v)` writes it; non-finite numbers as null (JSON has no NaN). */
  num(v: number): void {
    // Small integers (counts, offsets, milliseconds of latency) by integer arithmetic.
    if (Number.isInteger(v) && v >= 0 && v <= 0x7fffffff) this.#digits(v)
    else this.text(Number.isFinite(v) ? String(v) : 'null')
  }

  /** An integer from 0 to 2^31 - 1 in decimal. */
  #digits(v: number): void {
    let len = 1
    for (let x = v; x >= 10; x = (x / 10) | 0) len++
    let at = this.pos + len
    if (at > this.#limit) throw new RangeError('value larger than the room reserved for it')
    this.pos = at
    const buf = this.buf
    do {
      const q = (v / 10) | 0
      buf[--at] = 48 + v - q * 10
      v = q
    } while (v > 0)
  }

  /** `bytes` after their length (u32). */
  bytes32(bytes: Uint8Array): void {
    this.u32(bytes.length)
    this.buf.set(bytes, this.pos)
    this.pos += bytes.length
  }
}

/** Little-endian binary reads at a moving position; throws a RangeError past the end. */
export class ByteReader {
  pos = 0
  constructor(readonly buf: Buffer) {}

  u8(): number {
    if (this.pos >= this.buf.length) throw new RangeError('read past the end')
    return this.buf[this.pos++]!
  }

  u16(): number {
    const v = this.buf.readUInt16LE(this.pos)
    this.pos += 2
    return v
  }

  u32(): number {
    const v = this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }

  f64(): number {
    const v = this.buf.readDoubleLE(this.pos)
    this.pos += 8
    return v
  }

  str16(): string {
    const n = this.u16()
    return this.#take(n).toString('utf8')
  }

  bytes32(): Buffer {
    return this.#take(this.u32())
  }

  get done(): boolean {
    return this.pos === this.buf.length
  }

  #take(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new RangeError('read past the end')
    const b = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }
}
