/** How a send is cut into produce requests, shared by both data paths. */

/**
 * Bytes of one partition's record batch in a produce request, well under the broker's default
 * message.max.bytes (1 MiB), which applies per record batch: a request may carry one such
 * batch for every partition, so a big send needs few round trips (it is sent chunk by chunk).
 */
const MAX_BATCH_BYTES = 768 * 1024

/**
 * Start indexes of the chunks, plus the end: [0, i1, i2, …, n]. A new chunk starts when a
 * record would take its partition's batch in the current chunk past MAX_BATCH_BYTES.
 */
export function chunkBounds(
  messages: readonly {
    topic: string
    partition?: number
    key?: Buffer | string | null
    value?: Buffer | string | null
    headers?: Readonly<Record<string, string>>
  }[],
  partitions?: readonly number[]
): number[] {
  const slots = new PartitionSlots()
  const bounds = [0]
  let bytes: number[] = []
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!
    let size = byteLength(m.value) + byteLength(m.key) + 64
    if (m.headers) for (const name in m.headers) size += name.length + m.headers[name]!.length + 8
    const slot = slots.of(m.topic, partitions?.[i] ?? m.partition ?? -1)
    const used = bytes[slot] ?? 0
    if (used + size > MAX_BATCH_BYTES && i > bounds[bounds.length - 1]!) {
      bounds.push(i)
      bytes = []
      bytes[slot] = size
    } else bytes[slot] = used + size
  }
  bounds.push(messages.length)
  return bounds
}

/** Small integers for the (topic, partition) pairs of a send, so per-record look-ups index arrays. */
export class PartitionSlots {
  readonly #topics = new Map<string, Map<number, number>>()
  #next = 0

  of(topic: string, partition: number): number {
    let byPartition = this.#topics.get(topic)
    if (byPartition === undefined) {
      byPartition = new Map()
      this.#topics.set(topic, byPartition)
    }
    let slot = byPartition.get(partition)
    if (slot === undefined) {
      slot = this.#next++
      byPartition.set(partition, slot)
    }
    return slot
  }
}

function byteLength(v: Buffer | string | null | undefined): number {
  return v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length
}
