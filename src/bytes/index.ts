export { ByteReader, ByteSlab, ByteWriter, bytesOf, ChunkPool } from './slab.ts'
