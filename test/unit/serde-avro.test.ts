import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it, test } from 'node:test'
import { createGenerator } from '../../src/apps/generator/index.ts'
import { DaroogheError } from '../../src/errors.ts'
import type { PaymentEvent } from '../../src/domain/event.ts'
import { DEFAULT_LIMITS } from '../../src/domain/limits.ts'
import { PAYMENT_EVENT_AVRO_SCHEMA, createAvroSerde } from '../../src/domain/serde-avro.ts'

function events(count: number): { event: PaymentEvent; raw: string }[] {
  const generator = createGenerator({
    start: Date.UTC(2025, 3, 26, 8),
    seed: 'avro',
    count,
    rate: 'max',
    invalidRate: 0.2
  })
  const out: { event: PaymentEvent; raw: string }[] = []
  for (const record of generator)
    if (record.event !== undefined) out.push({ event: record.event, raw: record.raw })
  return out
}

function first(): { event: PaymentEvent; raw: string } {
  const [one] = events(1)
  assert.ok(one !== undefined)
  return one
}

function isSchemaError(pattern: RegExp) {
  return (error: unknown) =>
    error instanceof DaroogheError && error.kind === 'SCHEMA' && pattern.test(error.message)
}

describe('Avro serde', () => {
  it('schemas/payment_event.avsc is the schema the code uses', () => {
    const file = JSON.parse(
      readFileSync(new URL('../../schemas/payment_event.avsc', import.meta.url), 'utf8')
    )
    assert.deepEqual(file, JSON.parse(JSON.stringify(PAYMENT_EVENT_AVRO_SCHEMA)))
  })

  it('round-trips generated events to plain objects with the same JSON bytes', () => {
    const serde = createAvroSerde()
    const sample = events(2_000)
    assert.ok(sample.length > 1_800)
    for (const { event, raw } of sample) {
      const decoded = serde.decode(serde.encode(event))
      assert.deepStrictEqual(decoded, {
        ...event,
        location: { ...event.location },
        device_info: { ...event.device_info }
      })
      assert.equal(JSON.stringify(decoded), raw)
    }
  })

  it('writes and reads the Confluent wire format', () => {
    const bare = createAvroSerde()
    const framed = createAvroSerde({ schemaId: 258 })
    const { event } = first()
    const body = bare.encode(event)
    const message = framed.encode(event)
    assert.equal(message[0], 0)
    assert.equal(message.readUInt32BE(1), 258)
    assert.deepEqual(message.subarray(5), body)
    assert.deepEqual(framed.decode(message), bare.decode(body))
    // A consumer configured for framing still reads bare bodies.
    assert.deepEqual(framed.decode(body), bare.decode(body))
    assert.deepEqual(framed.decode(new Uint8Array(message)), bare.decode(body))
  })

  it('rejects an unknown schema id, a wrong magic byte and broken bodies with clear errors', () => {
    const framed = createAvroSerde({ schemaId: 7 })
    const { event } = first()
    const other = createAvroSerde({ schemaId: 8 }).encode(event)
    assert.throws(
      () => framed.decode(other),
      isSchemaError(/unknown Avro schema id 8 \(this consumer reads schema id 7\)/)
    )
    const wrongMagic = Buffer.from(framed.encode(event))
    wrongMagic[0] = 1
    assert.throws(() => framed.decode(wrongMagic), isSchemaError(/magic byte 0x01, expected 0x00/))
    const body = createAvroSerde().encode(event)
    assert.throws(
      () => createAvroSerde().decode(body.subarray(0, body.length - 3)),
      isSchemaError(/not an Avro PaymentEvent/)
    )
    assert.throws(
      () => createAvroSerde().decode(Buffer.concat([body, Buffer.from([1, 2])])),
      isSchemaError(/trailing bytes/)
    )
    assert.throws(
      () => createAvroSerde().decode(Buffer.from('{"amount":1}')),
      isSchemaError(/not an Avro PaymentEvent/)
    )
  })

  it('names the offending fields when an event does not fit the schema', () => {
    const serde = createAvroSerde()
    const { event } = first()
    const bad = { ...event, timestamp: 1714133950, payment_method: 'cash' } as unknown as PaymentEvent
    assert.throws(() => serde.encode(bad), isSchemaError(/invalid timestamp, payment_method/))
  })

  it('validates its options', () => {
    assert.throws(
      () => createAvroSerde({ schemaId: -1 }),
      (e: unknown) => e instanceof DaroogheError && e.kind === 'CONFIG'
    )
    assert.throws(() => createAvroSerde({ schemaId: 1.5 }), /schemaId must be an integer/)
  })
})

test('a payload beyond the size limit is refused before it is decoded, naming the limit', () => {
  const serde = createAvroSerde({ limits: { ...DEFAULT_LIMITS, maxEventBytes: 100 } })
  assert.throws(
    () => serde.decode(Buffer.alloc(101)),
    /record exceeds --max-event-bytes 100: the record has 101 bytes/
  )
})
