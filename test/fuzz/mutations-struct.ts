/** Structural mutations: edits of the JSON tree of an event or alert (json-tree.ts). */
import type { Random } from '../../src/domain/random.ts'
import {
  Arr,
  field,
  keyAt,
  Obj,
  objects,
  Raw,
  removeAt,
  setAt,
  slots,
  valueAt,
  type Json,
  type Slot
} from './json-tree.ts'
import {
  POLLUTE,
  DEPTHS,
  DEPTH_WEIGHTS,
  SPECIALS,
  PROTO_KEYS,
  STRINGS,
  RAW_STRINGS,
  retyped,
  deepText,
  hugeString,
  hugeNumber,
  type Tree,
  type StructOp,
  type MutationContext
} from './mutation-kit.ts'

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

export const STRUCT: [string, number, StructOp][] = [
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
