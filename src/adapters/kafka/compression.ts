import zlib from 'node:zlib'
import { compressionsAlgorithms } from '@platformatic/kafka'
import { init as initZstdWasm, compress as wasmZstdCompress } from '@bokuweb/zstd-wasm'
import { decompress as fzstdDecompress } from 'fzstd'
import { DaroogheError } from '../../errors.ts'
import type { KafkaCompression } from './options.ts'

/**
 * The record-batch codecs, by the compression bits of a batch's attributes (0 none, 1 gzip,
 * 2 snappy, 3 lz4, 4 zstd), for our decoder and encoder and for the client library's.
 *
 * gzip, snappy and lz4 are the library's (node:zlib, its wasm snappy and lz4). zstd is
 * node:zlib's from Node 22.15 on; before that (Node 20) zlib has none and the library throws
 * "zstd is not supported in the current Node.js version". There zstd comes from npm:
 * - decompression: `fzstd` (pure JavaScript, synchronous, no set-up). It reads every frame,
 *   including those without a content size in their header, which the Java client's streaming
 *   compressor writes; the wasm builds size their output from that header and fail on those.
 * - compression: `@bokuweb/zstd-wasm` (the reference zstd compiled to WebAssembly), whose
 *   compress is synchronous once its module is loaded; it is loaded here, once, only where
 *   zlib lacks zstd.
 * Native bindings (zstd-napi, @mongodb-js/zstd) were not taken: they fetch their prebuilt
 * binaries from GitHub at install time or compile with node-gyp, and npm runs no install
 * scripts here unless approved; @mongodb-js/zstd is asynchronous only, and both the library's
 * codec interface and our decoder are synchronous.
 *
 * Importing this module also fills in the library's own zstd entry (`compressionsAlgorithms.zstd`,
 * the object its consumer and producer look codecs up in), so that `dataPath: 'library'`
 * reads and writes zstd on Node 20 as well.
 */

export interface Codec {
  readonly name: KafkaCompression
  /** The attributes' compression bits. */
  readonly bitmask: number
  compress(data: Buffer): Buffer
  decompress(data: Buffer): Buffer
}

type ZstdSync = (data: Buffer) => Buffer
const nodeZstd = zlib as unknown as { zstdCompressSync?: ZstdSync; zstdDecompressSync?: ZstdSync }

/** Which implementation zstd uses here: 'node:zlib' or 'npm' (see the module comment). */
export const zstdImplementation: 'node:zlib' | 'npm' =
  typeof nodeZstd.zstdCompressSync === 'function' && typeof nodeZstd.zstdDecompressSync === 'function'
    ? 'node:zlib'
    : 'npm'

if (zstdImplementation === 'npm') await initZstdWasm()

/** zstd level 3: the zstd default, and what librdkafka and the Java client use. */
const ZSTD_LEVEL = 3

const zstdCompress: ZstdSync =
  zstdImplementation === 'node:zlib'
    ? nodeZstd.zstdCompressSync!
    : data => toBuffer(wasmZstdCompress(data, ZSTD_LEVEL))

const zstdDecompress: ZstdSync =
  zstdImplementation === 'node:zlib' ? nodeZstd.zstdDecompressSync! : data => toBuffer(fzstdDecompress(data))

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

// The library's codec entries are plain mutable objects, shared by its by-bitmask table.
type LibraryCodec = {
  compressSync(d: unknown): Buffer
  decompressSync(d: unknown): Buffer
  available: boolean
}
const libraryZstd = compressionsAlgorithms.zstd as unknown as LibraryCodec
const bytesOf = (d: unknown): Buffer => {
  // The library hands either a Buffer or its DynamicBuffer; `.buffer` of the latter is the bytes.
  if (Buffer.isBuffer(d)) return d
  return (d as { buffer: Buffer }).buffer
}
libraryZstd.compressSync = d => zstdCompress(bytesOf(d))
libraryZstd.decompressSync = d => zstdDecompress(bytesOf(d))
libraryZstd.available = true

function libraryCodec(name: 'gzip' | 'snappy' | 'lz4', bitmask: number): Codec {
  const c = compressionsAlgorithms[name] as unknown as LibraryCodec
  return {
    name,
    bitmask,
    compress: data => c.compressSync(data),
    decompress: data => c.decompressSync(data)
  }
}

const IDENTITY: Codec = { name: 'none', bitmask: 0, compress: d => d, decompress: d => d }

/** Codecs by name. */
export const codecs: Readonly<Record<KafkaCompression, Codec>> = Object.freeze({
  none: IDENTITY,
  gzip: libraryCodec('gzip', 1),
  snappy: libraryCodec('snappy', 2),
  lz4: libraryCodec('lz4', 3),
  zstd: { name: 'zstd', bitmask: 4, compress: zstdCompress, decompress: zstdDecompress }
})

const byBitmask: readonly (Codec | undefined)[] = [
  codecs.none,
  codecs.gzip,
  codecs.snappy,
  codecs.lz4,
  codecs.zstd
]

/** The codec of a batch's compression bits (attributes & 7); undefined for 5–7, which Kafka does not define. */
export function codecOf(bitmask: number): Codec | undefined {
  return byBitmask[bitmask]
}

/** A name for compression bits, also for those Kafka does not define. */
export function codecName(bitmask: number): string {
  return byBitmask[bitmask]?.name ?? `unknown (${bitmask})`
}

/** The codec of a `compression` option (`compression.type`); undefined is none. */
export function compressionCodec(name: KafkaCompression | undefined): Codec {
  const codec = name === undefined ? codecs.none : (codecs as Record<string, Codec | undefined>)[name]
  if (codec === undefined) {
    throw new DaroogheError(
      'CONFIG',
      `compression '${String(name)}' is not one of ${Object.keys(codecs).join(', ')}: fix compression.type`
    )
  }
  return codec
}
