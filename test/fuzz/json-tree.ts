/**
 * A JSON document as the mutator edits it: objects keep their entries as a list (so a key may
 * appear twice, or be `__proto__`, without JavaScript's object semantics getting in the way),
 * and `Raw` splices text in verbatim (1e400, NaN, a nesting thousands deep built as one string).
 * Trees stay shallow; anything deep is a Raw, so serializing never recurses deeply.
 */

export class Raw {
  constructor(readonly text: string) {}
}

export class Obj {
  constructor(readonly entries: [key: string | Raw, value: Json][]) {}
}

export class Arr {
  constructor(readonly items: Json[]) {}
}

export type Json = null | boolean | number | string | Obj | Arr | Raw

/** A parsed JSON value (of bounded depth: the generator's events) as a tree. */
export function toTree(v: unknown): Json {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v
  if (Array.isArray(v)) return new Arr(v.map(toTree))
  if (typeof v === 'object') {
    return new Obj(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toTree(x)]))
  }
  throw new TypeError(`not JSON: ${typeof v}`)
}

/** JSON text; `indent` pretty-prints (line breaks between tokens, still one valid document). */
export function serialize(j: Json, indent = ''): string {
  const nl = indent === '' ? '' : '\n'
  const walk = (x: Json, pad: string): string => {
    if (x instanceof Raw) return x.text
    if (x instanceof Obj) {
      if (x.entries.length === 0) return '{}'
      const inner = pad + indent
      const parts = x.entries.map(
        ([k, v]) => `${nl}${inner}${k instanceof Raw ? k.text : JSON.stringify(k)}:${walk(v, inner)}`
      )
      return `{${parts.join(',')}${nl}${pad}}`
    }
    if (x instanceof Arr) {
      if (x.items.length === 0) return '[]'
      const inner = pad + indent
      return `[${x.items.map(v => `${nl}${inner}${walk(v, inner)}`).join(',')}${nl}${pad}]`
    }
    return JSON.stringify(x)
  }
  return walk(j, '')
}

/** A place that holds a value: an object entry or an array slot, with its depth (root's children: 1). */
export interface Slot {
  readonly parent: Obj | Arr
  readonly index: number
  readonly depth: number
}

/** Every slot of the tree, breadth first. */
export function slots(root: Json): Slot[] {
  const out: Slot[] = []
  const queue: [Json, number][] = [[root, 1]]
  for (let q = 0; q < queue.length; q++) {
    const [node, depth] = queue[q]!
    if (node instanceof Obj) {
      node.entries.forEach((e, index) => {
        out.push({ parent: node, index, depth })
        queue.push([e[1], depth + 1])
      })
    } else if (node instanceof Arr) {
      node.items.forEach((v, index) => {
        out.push({ parent: node, index, depth })
        queue.push([v, depth + 1])
      })
    }
  }
  return out
}

/** Every object of the tree (the root first). */
export function objects(root: Json): Obj[] {
  const out: Obj[] = root instanceof Obj ? [root] : []
  for (const s of slots(root)) {
    const v = valueAt(s)
    if (v instanceof Obj) out.push(v)
  }
  return out
}

export function valueAt(s: Slot): Json {
  return s.parent instanceof Obj ? s.parent.entries[s.index]![1] : s.parent.items[s.index]!
}

export function setAt(s: Slot, v: Json): void {
  if (s.parent instanceof Obj) s.parent.entries[s.index]![1] = v
  else s.parent.items[s.index] = v
}

export function removeAt(s: Slot): void {
  if (s.parent instanceof Obj) s.parent.entries.splice(s.index, 1)
  else s.parent.items.splice(s.index, 1)
}

export function keyAt(s: Slot): string | null {
  if (!(s.parent instanceof Obj)) return null
  const k = s.parent.entries[s.index]![0]
  return typeof k === 'string' ? k : null
}

/** The top-level entry named `key`, if any. */
export function field(root: Json, key: string): Slot | null {
  if (!(root instanceof Obj)) return null
  const index = root.entries.findIndex(([k]) => k === key)
  return index < 0 ? null : { parent: root, index, depth: 1 }
}
