/**
 * Hostile record values, one per class, for the readers' tests. Each is bytes exactly as a
 * producer could write them; `null` is a null value (a tombstone).
 */
export interface HostileValue {
  readonly name: string
  readonly value: Buffer | null
}

/** `{"a":{"a":...1...}}`, `depth` objects deep. */
export function deepObject(depth: number): Buffer {
  return Buffer.from(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)
}

/**
 * The classes every reader is tested with. `valid` is an ordinary record of the reader's topic
 * (as an object), used to build the hostile variants that are otherwise well formed, so that
 * the class, and nothing else, is what the reader must notice.
 */
export function hostileValues(valid: Record<string, unknown>): HostileValue[] {
  const text = JSON.stringify(valid)
  const firstKey = Object.keys(valid)[0]!
  // The valid record with one string's bytes replaced by bytes that are not UTF-8.
  const notUtf8 = Buffer.concat([
    Buffer.from(text.slice(0, text.length - 1)),
    Buffer.from(',"note":"'),
    Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
    Buffer.from('"}')
  ])
  return [
    { name: 'nested 5,000 deep', value: deepObject(5_000) },
    {
      name: 'a 100,000-character string',
      value: Buffer.from(JSON.stringify({ ...valid, note: 'x'.repeat(100_000) }))
    },
    { name: 'invalid UTF-8', value: notUtf8 },
    { name: 'an empty value', value: Buffer.alloc(0) },
    { name: 'a null value', value: null },
    { name: '__proto__', value: Buffer.from('{"__proto__":{"polluted":1}}') },
    {
      name: '__proto__ in a valid record',
      value: Buffer.from(`${text.slice(0, -1)},"__proto__":{"polluted":1}}`)
    },
    { name: 'a JSON array', value: Buffer.from('[1,2,3]') },
    { name: 'a number', value: Buffer.from('42') },
    { name: 'truncated JSON', value: Buffer.from(text.slice(0, Math.floor(text.length / 2))) },
    {
      name: 'a duplicate key',
      value: Buffer.from(`{${JSON.stringify(firstKey)}:"shadowed",${text.slice(1)}`)
    },
    { name: 'NaN', value: Buffer.from(`${text.slice(0, -1)},"amount":NaN}`) },
    { name: 'Infinity', value: Buffer.from(`${text.slice(0, -1)},"amount":Infinity}`) },
    { name: '-Infinity', value: Buffer.from(`${text.slice(0, -1)},"amount":-Infinity}`) }
  ]
}

/** Whether anything reached Object.prototype (a polluted key, or one named like the payloads). */
export function prototypeIsClean(): boolean {
  const probe = {} as Record<string, unknown>
  return probe.polluted === undefined && Object.keys(Object.prototype).length === 0 && probe[0] === undefined
}
