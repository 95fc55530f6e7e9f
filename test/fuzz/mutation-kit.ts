/** What the mutations are made of: their types and the hostile values they put in. */
import type { Random } from '../../src/domain/random.ts'
import { Arr, Obj, Raw, type Json } from './json-tree.ts'

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

export type Tree = { root: Json }
export type StructOp = (t: Tree, r: Random, c: MutationContext) => string
export type ByteOp = (b: Buffer, r: Random) => [Buffer, string]

export const POLLUTE = (): Obj => new Obj([['polluted', 'fz']])
export const HUGE_SIZES = [8_193, 9_000, 65_536, 100_000, 300_000, 1_100_000]
export const HUGE_WEIGHTS = [4, 3, 2, 3, 1, 0.3]
export const DEPTHS = [31, 32, 33, 34, 64, 1_000, 5_000, 10_000, 50_000]
export const DEPTH_WEIGHTS = [1, 2, 2, 1, 1, 2, 3, 1.5, 0.5]
export const NUMBERS = [
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
export const SPECIALS = [
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
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype']
export const STRINGS = [
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
export const RAW_STRINGS = [
  '"\\/"',
  '"\\x41"',
  '"\\u12"',
  '"\\uD800\\uDC00"',
  '"\\u0000"',
  "'single'",
  '"\\',
  '"\t"'
]
export const INVALID_UTF8 = [
  [0xff],
  [0xfe],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0x80],
  [0xc3]
]
export const BREAKS = ['\n', '\r\n', '\r', '\u2028', '\u2029', '\u0085']
export const PADS = [' ', '\t', '\r', '\f', '\v', '\u00a0', '\n', '\u0000']
export const BLANKS = [' ', '\t', ' \t  ', '\r', '\r\r', '\f', '\u00a0', '\u3000', '   ']
export const TEXTS = [
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

export function retyped(r: Random, old: Json): [Json, string] {
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

export function deepText(r: Random, depth: number): [string, string] {
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

export function hugeString(r: Random): [Json, string] {
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

export function hugeNumber(r: Random): [Json, string] {
  if (r.chance(0.4)) {
    const n = r.pick([20, 400, 9_000, 100_000])
    return [new Raw('9'.repeat(n)), `digits${n}`]
  }
  const t = r.pick(NUMBERS)
  return [new Raw(t), t.length > 24 ? `${t.slice(0, 12)}…(${t.length})` : t]
}
