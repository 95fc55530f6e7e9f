import type { Writable } from 'node:stream'

/**
 * Lines to a stream in large chunks, with back-pressure: `push` buffers, `flush` writes and,
 * when the stream's buffer is full, waits for 'drain'. A reader that goes away (EPIPE, as
 * with `| head`) ends the writer quietly: `closed` becomes true and later pushes are dropped.
 */
export interface NdjsonWriter {
  /** Buffers one line (without its newline). True when the buffer is big enough to flush. */
  push(line: string): boolean
  /** Writes the buffer and waits for the stream to accept more. */
  flush(): Promise<void>
  /** Flushes, then ends the stream if the writer owns it. */
  close(): Promise<void>
  /** The reader went away or the stream failed. */
  readonly closed: boolean
  /** The error that closed the stream, other than EPIPE. */
  readonly error: Error | undefined
}

export interface NdjsonWriterOptions {
  /** Flush once this many characters are buffered. Default 64 KiB. */
  chunkSize?: number
  /** End the stream on `close()` (files: yes; process.stdout: no). Default true. */
  end?: boolean
}

export function createNdjsonWriter(stream: Writable, options: NdjsonWriterOptions = {}): NdjsonWriter {
  const chunkSize = options.chunkSize ?? 65_536
  const end = options.end ?? true
  let buffer = ''
  let closed = false
  let failure: Error | undefined
  let wake: (() => void) | undefined

  const onError = (error: NodeJS.ErrnoException): void => {
    closed = true
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') failure ??= error
    buffer = ''
    wake?.()
  }
  const onClose = (): void => {
    closed = true
    wake?.()
  }
  stream.on('error', onError)
  stream.on('close', onClose)

  function waitForDrain(): Promise<void> {
    return new Promise(resolve => {
      const done = (): void => {
        stream.off('drain', done)
        wake = undefined
        resolve()
      }
      wake = done
      stream.on('drain', done)
    })
  }

  const writer: NdjsonWriter = {
    get closed() {
      return closed
    },
    get error() {
      return failure
    },
    push(line) {
      if (closed) return false
      buffer += line + '\n'
      return buffer.length >= chunkSize
    },
    async flush() {
      if (closed || buffer.length === 0) return
      const chunk = buffer
      buffer = ''
      if (!stream.write(chunk) && !closed) await waitForDrain()
    },
    async close() {
      await writer.flush()
      // The 'error' listener stays: a reader may still go away after the last write.
      stream.off('close', onClose)
      if (closed || !end) return
      await new Promise<void>(resolve => stream.end(resolve))
    }
  }
  return writer
}
