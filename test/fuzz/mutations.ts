/**
 * The mutation catalogue: each case is a generator event (or alert) put through one main
 * mutation, sometimes followed by a second structural one and a byte-level one. Structural
 * mutations edit the JSON tree (mutations-struct.ts); byte mutations edit the serialized bytes
 * (mutations-bytes.ts).
 */
import type { Random } from '../../src/domain/random.ts'
import { serialize, toTree } from './json-tree.ts'
import type { Mutated, MutationContext, Tree } from './mutation-kit.ts'
import { BYTES, WHOLE } from './mutations-bytes.ts'
import { STRUCT } from './mutations-struct.ts'

export type { Mutated, MutationContext } from './mutation-kit.ts'

const STRUCT_W = STRUCT.map(s => s[1])
const BYTES_W = BYTES.map(s => s[1])
const WHOLE_W = WHOLE.map(s => s[1])
const GROUPS = [
  'struct',
  'bytes',
  'whole',
  'pretty',
  'concat',
  'sweep',
  'record-timestamp',
  'header'
] as const
const GROUP_W = [55, 30, 7, 2, 1.5, 0.15, 1, 1]

function structural(t: Tree, r: Random, c: MutationContext, out: string[]): void {
  out.push(STRUCT[r.weightedIndex(STRUCT_W)]![2](t, r, c))
}

function bytesOp(b: Buffer, r: Random, out: string[]): Buffer {
  const [nb, what] = BYTES[r.weightedIndex(BYTES_W)]![2](b, r)
  out.push(what)
  return nb
}

/** Mutates `base` (the JSON text of an event or alert). Deterministic in `r`. */
export function mutate(base: string, r: Random, c: MutationContext): Mutated {
  const t: Tree = { root: toTree(JSON.parse(base)) }
  const m: string[] = []
  let group = GROUPS[r.weightedIndex(GROUP_W)]!
  if (!c.kafka && (group === 'record-timestamp' || group === 'header')) group = 'struct'
  switch (group) {
    case 'whole': {
      const [b, what] = WHOLE[r.weightedIndex(WHOLE_W)]![2](r, c)
      return { payloads: [b], mutations: [what] }
    }
    case 'sweep': {
      if (r.chance(0.5)) structural(t, r, c, m)
      const b = Buffer.from(serialize(t.root))
      if (b.length > 2_000) return { payloads: [b], mutations: [...m, 'sweep(skipped: too long)'] }
      const payloads = Array.from({ length: b.length }, (_, i) => b.subarray(0, i))
      return { payloads, mutations: [...m, `truncate-sweep(${b.length})`] }
    }
    case 'pretty': {
      if (r.chance(0.5)) structural(t, r, c, m)
      const indent = r.pick(['  ', '\t', ' '])
      m.push(`pretty(${JSON.stringify(indent)})`)
      return { payloads: [Buffer.from(serialize(t.root, indent))], mutations: m }
    }
    case 'concat': {
      const a = serialize(t.root)
      const sep = r.pick(['', ' ', '\n', ',', '\r\n'])
      m.push(`concat(${JSON.stringify(sep)})`)
      return { payloads: [Buffer.from(a + sep + a)], mutations: m }
    }
    case 'record-timestamp': {
      const ts = r.pick([-1, 0, 1, 8.64e15, 8.64e15 + 1, 2 ** 53 - 1, 253_402_300_800_000])
      return {
        payloads: [Buffer.from(serialize(t.root))],
        mutations: [`record-timestamp(${ts})`],
        recordTimestamp: ts
      }
    }
    case 'header': {
      const hn = r.pick([
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        '',
        'x'.repeat(1_000),
        'content-type'
      ])
      const hv = r.pick(['', '{"polluted":"fz"}', 'é', 'x'.repeat(10_000)])
      if (r.chance(0.5)) structural(t, r, c, m)
      m.push(`header(${JSON.stringify(hn.slice(0, 20))}=${hv.length})`)
      return { payloads: [Buffer.from(serialize(t.root))], mutations: m, headers: [[hn, hv]] }
    }
    case 'bytes': {
      const b = bytesOp(Buffer.from(serialize(t.root)), r, m)
      return { payloads: [r.chance(0.15) ? bytesOp(b, r, m) : b], mutations: m }
    }
    default: {
      structural(t, r, c, m)
      if (r.chance(0.25)) structural(t, r, c, m)
      let b: Buffer = Buffer.from(serialize(t.root))
      if (r.chance(0.2)) b = bytesOp(b, r, m)
      return { payloads: [b], mutations: m }
    }
  }
}
