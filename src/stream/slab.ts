/**
 * Bump allocator for the output bytes of a batch. Outputs of a batch are produced and released
 * together, so carving them out of large chunks replaces thousands of small ArrayBuffer
 * allocations (and their GC bookkeeping) with a few, and keeps a batch's outputs contiguous,
 * which lets the replay log copy them in runs. Chunks are never reused: an output may outlive
 * its batch (the in-memory replay log keeps the last one).
 */
export class ByteSlab {
  #chunk: Buffer = Buffer.alloc(0)
  #offset = 0

  constructor(private readonly chunkSize = 1 << 20) {}

  /** `head` followed by the UTF-8 of `tail`, as one Buffer. */
  concat(head: Buffer | null, headEnd: number, tail: string): Buffer {
    const max = headEnd + tail.length * 3
    if (this.#offset + max > this.#chunk.length) {
      this.#chunk = Buffer.allocUnsafe(Math.max(this.chunkSize, max))
      this.#offset = 0
    }
    const start = this.#offset
    if (head !== null) head.copy(this.#chunk, start, 0, headEnd)
    const written = this.#chunk.write(tail, start + headEnd)
    this.#offset = start + headEnd + written
    return this.#chunk.subarray(start, this.#offset)
  }

  /** The UTF-8 of `text`. */
  from(text: string): Buffer {
    return this.concat(null, 0, text)
  }
}
