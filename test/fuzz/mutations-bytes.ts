/** Byte-level mutations of a serialized record, and replacements of the whole record. */
import type { Random } from '../../src/domain/random.ts'
import {
  INVALID_UTF8,
  BREAKS,
  PADS,
  BLANKS,
  TEXTS,
  type ByteOp,
  type MutationContext
} from './mutation-kit.ts'

function insertAt(b: Buffer, pos: number, bytes: Buffer): Buffer {
  return Buffer.concat([b.subarray(0, pos), bytes, b.subarray(pos)])
}

/** A random position, half the time just after a quote (inside a string, or at a key). */
function position(b: Buffer, r: Random): number {
  if (r.chance(0.5)) {
    const quotes: number[] = []
    for (let i = 0; i < b.length && quotes.length < 200; i++) if (b[i] === 0x22) quotes.push(i + 1)
    if (quotes.length > 0) return r.pick(quotes)
  }
  return r.int(0, b.length)
}

export const BYTES: [string, number, ByteOp][] = [
  [
    'flip',
    10,
    (b, r) => {
      const out = Buffer.from(b)
      if (out.length === 0) return [out, 'flip(empty)']
      const n = r.int(1, 4)
      const at: number[] = []
      for (let i = 0; i < n; i++) {
        const p = r.int(0, out.length - 1)
        out[p] = r.chance(0.5) ? out[p]! ^ (1 << r.int(0, 7)) : r.int(0, 255)
        at.push(p)
      }
      return [out, `flip@${at.join(',')}`]
    }
  ],
  [
    'truncate',
    8,
    (b, r) => {
      const p = r.int(0, Math.max(0, b.length - 1))
      return [b.subarray(0, p), `truncate@${p}`]
    }
  ],
  [
    'invalid-utf8',
    5,
    (b, r) => {
      const seq = r.pick(INVALID_UTF8)
      const p = position(b, r)
      return [
        insertAt(b, p, Buffer.from(seq)),
        `invalid-utf8(${seq.map(x => x.toString(16)).join(' ')})@${p}`
      ]
    }
  ],
  [
    'bom',
    3,
    (b, r) => {
      const bom = r.pick([
        [0xef, 0xbb, 0xbf],
        [0xfe, 0xff],
        [0xff, 0xfe]
      ])
      const where = r.pick(['start', 'end', 'middle'])
      const p = where === 'start' ? 0 : where === 'end' ? b.length : position(b, r)
      return [insertAt(b, p, Buffer.from(bom)), `bom(${bom.map(x => x.toString(16)).join(' ')})@${p}`]
    }
  ],
  [
    'control',
    4,
    (b, r) => {
      const c = r.chance(0.9) ? r.int(0, 0x1f) : 0x7f
      const p = position(b, r)
      return [insertAt(b, p, Buffer.from([c])), `control(0x${c.toString(16)})@${p}`]
    }
  ],
  [
    'line-break',
    5,
    (b, r) => {
      const s = r.pick(BREAKS)
      let p = position(b, r)
      if (r.chance(0.4)) {
        // Between tokens, where JSON allows whitespace: still one valid document.
        const commas: number[] = []
        for (let i = 0; i < b.length && commas.length < 200; i++) if (b[i] === 0x2c) commas.push(i + 1)
        if (commas.length > 0) p = r.pick(commas)
      }
      return [insertAt(b, p, Buffer.from(s)), `line-break(${JSON.stringify(s)})@${p}`]
    }
  ],
  [
    'pad',
    2,
    (b, r) => {
      const s = Buffer.from(r.pick(PADS).repeat(r.int(1, 3)))
      const front = r.chance(0.5)
      return [
        front ? Buffer.concat([s, b]) : Buffer.concat([b, s]),
        `pad(${JSON.stringify(s.toString())},${front ? 'front' : 'back'})`
      ]
    }
  ]
]

/** Replacements of the whole record: no event left in it. */
export const WHOLE: [string, number, (r: Random, c: MutationContext) => [Buffer | null, string]][] = [
  ['empty', 1, () => [Buffer.alloc(0), 'empty']],
  ['null-value', 0.5, (_r, c) => (c.kafka ? [null, 'null-value'] : [Buffer.alloc(0), 'empty'])],
  [
    'blank',
    1.5,
    r => {
      const s = r.pick(BLANKS)
      return [Buffer.from(s), `blank(${JSON.stringify(s)})`]
    }
  ],
  [
    'garbage',
    2,
    r => {
      const n = r.int(1, 300)
      const b = Buffer.alloc(n)
      for (let i = 0; i < n; i++) b[i] = r.int(0, 255)
      return [b, `garbage(${n})`]
    }
  ],
  [
    'text',
    2,
    r => {
      const s = r.pick(TEXTS)
      return [Buffer.from(s), `text(${JSON.stringify(s).slice(0, 30)})`]
    }
  ]
]
