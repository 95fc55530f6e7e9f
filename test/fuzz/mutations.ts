/**
 * The mutation catalogue: each case is a generator event (or alert) put through one main
 * mutation, sometimes followed by a second structural one and a byte-level one. Structural
 * mutations edit the JSON tree (json-tree.ts); byte mutations edit the serialized bytes.
 */
import type { Random } from '../../src/domain/random.ts'
import {
  Arr,
  field,
  keyAt,
  Obj,
  objects,
  Raw,
  removeAt,
  serialize,
  setAt,
  slots,
  toTree,
  valueAt,
  type Json,
  type Slot
} from './json-tree.ts'

export interface MutationContext {
  /** Which document: payment events (processor, file) or alerts (HTTP). */
  readonly kind: 'event' | 'alert'
  /** Kafka-shaped records: a null value, record timestamps and headers can be mutated too. */
  readonly kafka: boolean
}

export interface Mutated {
  /** One record each; null is a Kafka record without a value. Usually one. */
  payloads: (Buffer | null)[]
  /** What was done, in order, e.g. ['deep(obj,5000)@device_info', 'flip(1)@88']. */
  mutations: string[]
  /** Kafka only: a record timestamp other than the event's. */
  recordTimestamp?: number
  /** Kafka only: headers to attach, [name, value]. */
  headers?: [string, string][]
}

type Tree = { root: Json }
type StructOp = (t: Tree, r: Random, c: MutationContext) => string
type ByteOp = (b: Buffer, r: Random) => [Buffer, string]

const POLLUTE = (): Obj => new Obj([['polluted', 'fz']])
const HUGE_SIZES = [8_193, 9_000, 65_536, 100_000, 300_000, 1_100_000]
const HUGE_WEIGHTS = [4, 3, 2, 3, 1, 0.3]
const DEPTHS = [31, 32, 33, 34, 64, 1_000, 5_000, 10_000, 50_000]
const DEPTH_WEIGHTS = [1, 2, 2, 1, 1, 2, 3, 1.5, 0.5]
const NUMBERS = [
  '1e400',
  '-1e400',
  '1e-400',
  '-0',
  '4.9e-324',
  '1.7976931348623157e308',
  '9007199254740993',
  '123456789012345678901234567890.5',
  `0.${'0'.repeat(400)}1`,
  '1E2',
  '1.0',
  '0e0'
]
const SPECIALS = [
  'NaN',
  '-NaN',
  'Infinity',
  '-Infinity',
  '+Infinity',
  'inf',
  '-inf',
  'nan',
  'Inf',
  '+1',
  '0x1F',
  '1.',
  '.5',
  '01',
  '-',
  '1e',
  '1e+',
  '--1',
  '1_000',
  '١٢٣',
  '"NaN"',
  '"Infinity"',
  '"-Infinity"',
  '"1e400"',
  'undefined',
  'None',
  'True',
  'nil'
]
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype']
const STRINGS = [
  'cust_1\u0000',
  '\ud800',
  'a\nb',
  'é',
  '💳',
  '\u2028',
  ' cust_1',
  'cust_1 ',
  '',
  'x'.repeat(257),
  '\u202e',
  '\\',
  '"',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '0',
  'null'
]
const RAW_STRINGS = [
  '"\\/"',
  '"\\x41"',
  '"\\u12"',
  '"\\uD800\\uDC00"',
  '"\\u0000"',
  "'single'",
  '"\\',
  '"\t"'
]
const INVALID_UTF8 = [
  [0xff],
  [0xfe],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0x80],
  [0xc3]
]
const BREAKS = ['\n', '\r\n', '\r', '\u2028', '\u2029', '\u0085']
const PADS = [' ', '\t', '\r', '\f', '\v', '\u00a0', '\n', '\u0000']
const BLANKS = [' ', '\t', ' \t  ', '\r', '\r\r', '\f', '\u00a0', '\u3000', '   ']
const TEXTS = [
  'hello',
  'undefined',
  '{',
  '}',
  '[',
  ']]]]',
  '"',
  '{"a":}',
  '{}',
  '[]',
  'null',
  '0',
  'true',
  '{,}',
  "{'transaction_id': 'fz-py', 'amount': 100}",
  '{"transaction_id":"fz-partial"',
  '<xml/>',
  '\u0000'
]

function retyped(r: Random, old: Json): [Json, string] {
  const kinds: [string, () => Json][] = [
    ['string', () => r.pick(['x', '', '0', '1e3', 'true', 'null'])],
    ['number', () => r.pick([0, -1, 1.5, 1e21, 2 ** 53 + 2, -1e-7])],
    ['object', () => r.pick([new Obj([]), new Obj([['a', 1]])])],
    ['array', () => r.pick([new Arr([]), new Arr([1, 'a', null]), new Arr([old])])],
    ['null', () => null],
    ['bool', () => r.chance(0.5)]
  ]
  const [name, make] = r.pick(kinds)
  return [make(), name]
}

function deepText(r: Random, depth: number): [string, string] {
  const kind = r.pick(['obj', 'arr', 'mixed', 'proto', 'unclosed'])
  switch (kind) {
    case 'obj':
      return ['{"a":'.repeat(depth) + '1' + '}'.repeat(depth), kind]
    case 'arr':
      return ['['.repeat(depth) + ']'.repeat(depth), kind]
    case 'mixed':
      return ['{"k":['.repeat(depth) + 'null' + ']}'.repeat(depth), kind]
    case 'proto':
      return ['{"__proto__":'.repeat(depth) + '{"polluted":"fz"}' + '}'.repeat(depth), kind]
    default:
      return ['['.repeat(depth), kind]
  }
}

function hugeString(r: Random): [Json, string] {
  const n = HUGE_SIZES[r.weightedIndex(HUGE_WEIGHTS)]!
  switch (r.int(0, 3)) {
    case 0:
      return ['A'.repeat(n), `ascii${n}`]
    case 1:
      return ['ش'.repeat(n >> 1), `persian${n >> 1}`]
    case 2:
      return ['💳'.repeat(n >> 2), `emoji${n >> 2}`]
    default:
      return [new Raw(`"${'\\n'.repeat(n >> 1)}"`), `escapes${n >> 1}`]
  }
}

function hugeNumber(r: Random): [Json, string] {
  if (r.chance(0.4)) {
    const n = r.pick([20, 400, 9_000, 100_000])
    return [new Raw('9'.repeat(n)), `digits${n}`]
  }
  const t = r.pick(NUMBERS)
  return [new Raw(t), t.length > 24 ? `${t.slice(0, 12)}…(${t.length})` : t]
}

function pickSlot(t: Tree, r: Random, prefer: readonly string[] = []): Slot | null {
  if (prefer.length > 0 && r.chance(0.5)) {
    const s = field(t.root, r.pick(prefer))
    if (s) return s
  }
  const all = slots(t.root)
  return all.length === 0 ? null : r.pick(all)
}

const name = (s: Slot): string => keyAt(s) ?? `[${s.index}]`

function deepTarget(c: MutationContext): string[] {
  return c.kind === 'event' ? ['device_info', 'device_info', 'location'] : ['trace', 'trace', 'source']
}

const STRUCT: [string, number, StructOp][] = [
  [
    'delete',
    8,
    (t, r) => {
      const s = pickSlot(t, r)
      if (!s) return 'delete(none)'
      const n = name(s)
      removeAt(s)
      return `delete@${n}`
    }
  ],
  [
    'retype',
    10,
    (t, r) => {
      const s = pickSlot(t, r)
      if (!s) return 'retype(none)'
      const [v, kind] = retyped(r, valueAt(s))
      setAt(s, v)
      return `retype(${kind})@${name(s)}`
    }
  ],
  [
    'huge-string',
    3,
    (t, r) => {
      const s = pickSlot(t, r, ['transaction_id', 'customer_id', 'device_info', 'merchant_category'])
      if (!s) return 'huge-string(none)'
      const [v, what] = hugeString(r)
      setAt(s, v)
      return `huge-string(${what})@${name(s)}`
    }
  ],
  [
    'huge-number',
    4,
    (t, r) => {
      const s = pickSlot(t, r, ['amount', 'total_amount', 'risk_score', 'risk_level'])
      if (!s) return 'huge-number(none)'
      const [v, what] = hugeNumber(r)
      setAt(s, v)
      return `huge-number(${what})@${name(s)}`
    }
  ],
  [
    'proto',
    6,
    (t, r) => {
      const objs = objects(t.root)
      if (objs.length === 0) return 'proto(none)'
      const o = r.chance(0.5) ? objs[0]! : r.pick(objs)
      const key = r.pick(PROTO_KEYS)
      const value: Json = r.pick<() => Json>([
        POLLUTE,
        () => new Obj([['prototype', POLLUTE()]]),
        () => 'fz',
        () => null,
        () => new Arr([POLLUTE()])
      ])()
      if (r.chance(0.3) && o.entries.length > 0) {
        const i = r.int(0, o.entries.length - 1)
        const old = o.entries[i]![0]
        o.entries[i] = [key, value]
        return `proto(rename ${String(old)}→${key})${o === objs[0] ? '' : '@nested'}`
      }
      o.entries.splice(r.int(0, o.entries.length), 0, [key, value])
      return `proto(${key})${o === objs[0] ? '' : '@nested'}`
    }
  ],
  [
    'deep',
    5,
    (t, r, c) => {
      const depth = DEPTHS[r.weightedIndex(DEPTH_WEIGHTS)]!
      const [text, kind] = deepText(r, depth)
      if (r.chance(0.15)) {
        t.root = new Raw(text)
        return `deep(${kind},${depth})@root`
      }
      const s = pickSlot(t, r, deepTarget(c))
      if (!s) return 'deep(none)'
      setAt(s, new Raw(text))
      return `deep(${kind},${depth})@${name(s)}`
    }
  ],
  [
    'nan',
    5,
    (t, r) => {
      const s = pickSlot(t, r, ['amount', 'vat_amount', 'commission_amount', 'total_amount', 'risk_level'])
      if (!s) return 'nan(none)'
      const v = r.pick(SPECIALS)
      setAt(s, new Raw(v))
      return `nan(${v})@${name(s)}`
    }
  ],
  [
    'dup-key',
    6,
    (t, r) => {
      const objs = objects(t.root)
      const o = r.chance(0.6) ? objs[0] : objs.length > 0 ? r.pick(objs) : undefined
      if (!o || o.entries.length === 0) return 'dup-key(none)'
      const [k, v] = r.pick(o.entries)
      const value = r.pick<() => Json>([() => v, () => retyped(r, v)[0], () => new Raw(r.pick(SPECIALS))])()
      o.entries.splice(r.int(0, o.entries.length), 0, [k, value])
      return `dup-key(${String(k)})`
    }
  ],
  [
    'many-fields',
    1.5,
    (t, r) => {
      const n = r.pick([999, 1_001, 3_000, 8_000])
      const s = pickSlot(t, r, ['device_info'])
      if (r.chance(0.5)) {
        const o = new Obj(Array.from({ length: n }, (_, i) => [`f${i}`, i] as [string, Json]))
        if (s) setAt(s, o)
        else t.root = o
        return `many-fields(obj,${n})@${s ? name(s) : 'root'}`
      }
      const a = new Arr(Array.from({ length: n }, (_, i) => i))
      if (s) setAt(s, a)
      else t.root = a
      return `many-fields(arr,${n})@${s ? name(s) : 'root'}`
    }
  ],
  [
    'escapes',
    5,
    (t, r, c) => {
      const ids =
        c.kind === 'event'
          ? ['transaction_id', 'customer_id', 'merchant_id', 'timestamp', 'status']
          : ['alert_id', 'customer_id', 'severity', 'created_at']
      const s = pickSlot(t, r, ids)
      if (!s) return 'escapes(none)'
      const old = valueAt(s)
      if (typeof old === 'string' && old.length > 0 && r.chance(0.3)) {
        // The same string with its first character escaped: equal once decoded.
        const code = old.charCodeAt(0).toString(16).padStart(4, '0')
        setAt(s, new Raw(`"\\u${code}${JSON.stringify(old).slice(2)}`))
        return `escapes(\\u${code}…)@${name(s)}`
      }
      if (r.chance(0.3)) {
        const v = r.pick(RAW_STRINGS)
        setAt(s, new Raw(v))
        return `escapes(raw ${v})@${name(s)}`
      }
      const v = r.pick(STRINGS)
      setAt(s, typeof old === 'string' && r.chance(0.5) ? old + v : v)
      return `escapes(${JSON.stringify(v).slice(0, 20)})@${name(s)}`
    }
  ],
  [
    'rename-key',
    3,
    (t, r) => {
      const s = pickSlot(t, r)
      if (!s || !(s.parent instanceof Obj)) return 'rename-key(none)'
      const k = keyAt(s) ?? 'k'
      const variants = [k.toUpperCase(), ` ${k}`, `${k}\u200b`, k.replace(/a/, 'а'), '', 'x'.repeat(10_000)]
      const nk = r.pick(variants)
      s.parent.entries[s.index]![0] = nk
      return `rename-key(${k}→${nk.slice(0, 16)}${nk.length > 16 ? '…' : ''})`
    }
  ],
  [
    'reorder',
    1,
    (t, r) => {
      if (!(t.root instanceof Obj)) return 'reorder(none)'
      const e = t.root.entries
      for (let i = e.length - 1; i > 0; i--) {
        const j = r.int(0, i)
        ;[e[i], e[j]] = [e[j]!, e[i]!]
      }
      return 'reorder'
    }
  ],
  [
    'non-object',
    2,
    (t, r) => {
      const forms: [string, () => Json][] = [
        ['42', () => 42],
        ['string', () => 'str'],
        ['array-of-event', () => new Arr([t.root])],
        ['null', () => null],
        ['true', () => true],
        ['[]', () => new Arr([])],
        ['{}', () => new Obj([])]
      ]
      const [n, make] = r.pick(forms)
      t.root = make()
      return `non-object(${n})`
    }
  ]
]

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

const BYTES: [string, number, ByteOp][] = [
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
const WHOLE: [string, number, (r: Random, c: MutationContext) => [Buffer | null, string]][] = [
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
