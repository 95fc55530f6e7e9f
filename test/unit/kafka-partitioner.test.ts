import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compatibilityPartitioner } from '@platformatic/kafka'
import { murmur2 } from '../../src/adapters/kafka/murmur2.ts'

test('murmur2 partitions keys exactly as the Java client (and the client library) do', () => {
  // Every tail length (0–3 leftover bytes), multi-byte UTF-8, and keys longer than the scratch buffer.
  const keys = ['', 'a', 'ab', 'abc', 'abcd', 'c-000042', 'é漢字-customer', 'x'.repeat(5_000)]
  for (let i = 0; i < 5_000; i++)
    keys.push(`cust-${i.toString(36).repeat(1 + (i % 7))}${i % 11 === 0 ? 'ü' : ''}`)
  for (const key of keys) {
    const expected = compatibilityPartitioner(null as never, Buffer.from(key))
    assert.equal(murmur2(key), expected, `key ${JSON.stringify(key.slice(0, 40))}`)
    assert.equal(murmur2(Buffer.from(key)), expected)
  }
})
