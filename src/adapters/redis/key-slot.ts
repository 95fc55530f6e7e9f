/**
 * Redis Cluster's hash slot of a key: CRC16 (XMODEM) of its hash tag modulo 16384. The tag is
 * what stands between the first `{` and the next `}` when that is not empty, else the whole key
 * (Redis's `keyHashSlot`). Keys with the same tag are in one slot, so one script or MULTI may
 * touch them all on a cluster.
 */
export function keySlot(key: string): number {
  let bytes = Buffer.from(key)
  const open = bytes.indexOf(0x7b)
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) bytes = bytes.subarray(open + 1, close)
  }
  let crc = 0
  for (const b of bytes) crc = ((crc << 8) ^ TABLE[((crc >> 8) ^ b) & 0xff]!) & 0xffff
  return crc & 16383
}

const TABLE = (() => {
  const t = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i << 8
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff
    t[i] = c
  }
  return t
})()

/** Indexes of `keys` grouped by slot, in their order within each slot. */
export function bySlot(keys: readonly string[]): Map<number, number[]> {
  const groups = new Map<number, number[]>()
  for (let i = 0; i < keys.length; i++) {
    const slot = keySlot(keys[i]!)
    const g = groups.get(slot)
    if (g) g.push(i)
    else groups.set(slot, [i])
  }
  return groups
}
