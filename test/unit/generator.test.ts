import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  createGenerator,
  createPacer,
  dayFactor,
  formatEventLine,
  hourFactor,
  intensityAt,
  resolveGeneratorOptions,
  TEHRAN_OFFSET_MS
} from '../../src/apps/generator/index.ts'
import type { GeneratedRecord, GeneratorOptions } from '../../src/apps/generator/index.ts'
import { DaroogheError } from '../../src/errors.ts'
import { Random } from '../../src/domain/random.ts'

const START = Date.UTC(2025, 3, 26, 8, 0, 0) // Saturday 11:30 in Tehran
const HOUR = 3_600_000
const DAY = 24 * HOUR

function all(options: Partial<GeneratorOptions>): GeneratedRecord[] {
  return [...createGenerator({ start: START, seed: 1, rate: 'max', count: 2_000, ...options })]
}

describe('seeded random', () => {
  it('is reproducible and seed-sensitive', () => {
    const a = new Random(42)
    const b = new Random('42')
    const c = new Random(43)
    const xs = Array.from({ length: 5 }, () => a.nextUint32())
    assert.deepEqual(
      Array.from({ length: 5 }, () => b.nextUint32()),
      xs
    )
    assert.notDeepEqual(
      Array.from({ length: 5 }, () => c.nextUint32()),
      xs
    )
  })

  it('draws v4 UUIDs and stays in range', () => {
    const r = new Random('uuid')
    for (let i = 0; i < 1_000; i++) {
      assert.match(r.uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      const n = r.int(3, 5)
      assert.ok(n >= 3 && n <= 5)
      const u = r.next()
      assert.ok(u >= 0 && u < 1)
    }
  })
})

describe('generator: determinism and output', () => {
  it('same seed, options and start give byte-identical output; another seed differs', () => {
    const a = all({ history: 300 })
    const b = all({ history: 300 })
    assert.deepEqual(
      a.map(r => [r.raw, r.label, r.scenarioId, r.eventTimeMs]),
      b.map(r => [r.raw, r.label, r.scenarioId, r.eventTimeMs])
    )
    const c = all({ history: 300, seed: 2 })
    assert.notDeepEqual(
      c.map(r => r.raw),
      a.map(r => r.raw)
    )
  })

  it('at a constant rate another start shifts the timestamps and changes nothing else', () => {
    // Truncated (malformed) lines may end inside the timestamp: compare their length only.
    const strip = (rs: GeneratedRecord[]) =>
      rs.map(r => (r.label === 'malformed_json' ? r.raw.length : r.raw.replace(/"timestamp":"[^"]*"/, '')))
    const a = all({ rate: 50 })
    const b = all({ rate: 50, start: START + 12_345_678 })
    assert.deepEqual(strip(b), strip(a))
    assert.notDeepEqual(
      b.map(r => r.raw),
      a.map(r => r.raw)
    )
    assert.deepEqual(
      b.map(r => r.eventTimeMs - 12_345_678),
      a.map(r => r.eventTimeMs)
    )
  })

  it('formats lines exactly as JSON.stringify would, and never puts labels in the payload', () => {
    for (const r of all({ fraudRate: 0.2, invalidRate: 0.2, count: 3_000 })) {
      if (r.event !== undefined) assert.equal(r.raw, JSON.stringify(r.event))
      assert.ok(!r.raw.includes('\n'))
      assert.ok(!/label|scenario|"sc_|legit/.test(r.raw), r.raw)
      if (r.event !== undefined) assert.equal(r.key, r.event.customer_id)
      assert.match(r.key, /^cust_\d+$/)
    }
  })

  it('timestamps are ISO-8601 UTC with milliseconds and equal the event time for valid events', () => {
    for (const r of all({ count: 3_000 })) {
      if (r.label.startsWith('invalid_') || r.label === 'malformed_json') continue
      assert.match(r.event?.timestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      assert.equal(r.event?.timestamp, new Date(r.eventTimeMs).toISOString())
    }
  })

  it('emits history first (monotonic, within the window) and then count live events in event-time order', () => {
    const records = all({ history: 500, historyDays: 2, count: 700 })
    assert.equal(records.length, 1_200)
    const history = records.slice(0, 500)
    assert.ok(history.every(r => r.phase === 'history' && r.label === 'legit'))
    assert.ok(history.every(r => r.eventTimeMs >= START - 2 * DAY && r.eventTimeMs < START))
    assert.ok(records.slice(500).every(r => r.phase === 'live' && r.eventTimeMs >= START))
    for (let i = 1; i < records.length; i++) {
      assert.ok(
        (records[i] as GeneratedRecord).eventTimeMs >= (records[i - 1] as GeneratedRecord).eventTimeMs
      )
    }
  })

  it('stops at the event-time duration', () => {
    const records = [...createGenerator({ start: START, seed: 3, rate: 20, durationMs: 60_000 })]
    // 1,200 arrival slots; a scheduled scenario event may take the place of the first slot past the end.
    assert.ok(records.length >= 1_195 && records.length <= 1_205, String(records.length))
    assert.ok(records.every(r => r.eventTimeMs < START + 60_000))
  })

  it('a constant rate gives that many events per second of event time', () => {
    const records = all({ rate: 250, count: 5_000 })
    const last = (records.at(-1) as GeneratedRecord).eventTimeMs
    assert.ok(Math.abs(last - START - 20_000) <= 4, String(last - START))
  })
})

describe('generator: arrivals', () => {
  it('follows the daily and weekly shape of Tehran time', () => {
    assert.equal(hourFactor(3, 2), 0.2)
    assert.equal(hourFactor(12, 2.5), 2.5)
    assert.equal(hourFactor(19, 2.5), 2.5)
    assert.equal(dayFactor(5), 0.6) // Friday
    assert.equal(dayFactor(1), 1)
    // 2025-04-25 is a Friday; 12:00 Tehran = 08:30 UTC.
    const fridayNoon = Date.UTC(2025, 3, 25, 12) - TEHRAN_OFFSET_MS
    const mondayNoon = fridayNoon + 3 * DAY
    assert.equal(intensityAt(fridayNoon, 60, 2), (60 / 60_000) * 2 * 0.6)
    assert.equal(intensityAt(mondayNoon, 60, 2), (60 / 60_000) * 2)
    assert.equal(intensityAt(mondayNoon - 9 * HOUR, 60, 2), (60 / 60_000) * 0.2) // 03:00
  })

  it('draws more events at peaks than at night and fewer on Fridays', () => {
    const weekStart = Date.UTC(2025, 3, 19) - TEHRAN_OFFSET_MS // Saturday 00:00 Tehran
    const generator = createGenerator({
      start: weekStart,
      seed: 5,
      eventsPerMinute: 20,
      peakFactor: 3,
      durationMs: 7 * DAY
    })
    const byHour = new Array<number>(24).fill(0)
    const byDay = new Array<number>(7).fill(0)
    for (const r of generator) {
      const local = r.eventTimeMs + TEHRAN_OFFSET_MS
      const hour = Math.floor(local / HOUR) % 24
      const day = (Math.floor(local / DAY) + 4) % 7
      byHour[hour] = (byHour[hour] as number) + 1
      byDay[day] = (byDay[day] as number) + 1
    }
    const peak = (byHour[12] as number) + (byHour[13] as number)
    const night = (byHour[2] as number) + (byHour[3] as number)
    // Expected ratio 3 / 0.2 = 15.
    assert.ok(peak / night > 10 && peak / night < 22, `peak/night ${peak / night}`)
    const friday = byDay[5] as number
    const monday = byDay[1] as number
    assert.ok(friday / monday > 0.5 && friday / monday < 0.7, `friday/monday ${friday / monday}`)
  })

  it('the pacer says when each live record is due on the wall clock', () => {
    const options = resolveGeneratorOptions({ start: START, rate: 100 })
    const pacer = createPacer(options, 1_000_000)
    assert.equal(pacer.dueAt({ eventTimeMs: START + 2_500, phase: 'live' }), 1_002_500)
    assert.equal(pacer.dueAt({ eventTimeMs: START - 5_000, phase: 'history' }), -Infinity)
    const max = createPacer(resolveGeneratorOptions({ start: START, rate: 'max' }), 1_000_000)
    assert.equal(max.dueAt({ eventTimeMs: START + 2_500, phase: 'live' }), -Infinity)
  })
})

describe('generator: options', () => {
  it('applies defaults', () => {
    const o = resolveGeneratorOptions({ start: START })
    assert.equal(o.customers, 1000)
    assert.equal(o.merchants, 50)
    assert.equal(o.fraudRate, 0.02)
    assert.equal(o.declinedRate, 0.05)
    assert.equal(o.invalidRate, 0.01)
    assert.equal(o.rate, 'nhpp')
    assert.equal(o.count, Infinity)
    assert.equal(o.history, 0)
    assert.equal(o.historyDays, 7)
  })

  it('rejects bad options with a CONFIG error naming the option', () => {
    const bad: [Partial<GeneratorOptions>, RegExp][] = [
      [{ customers: 0 }, /^customers must be an integer ≥ 1 \(got 0\)$/],
      [{ fraudRate: 0.5 }, /^fraudRate must be a number from 0 to 0.25/],
      [{ rate: -3 }, /^rate must be a positive number/],
      [{ history: 1.5 }, /^history must be a non-negative integer/],
      [{ start: Number.NaN }, /^start must be an epoch time/]
    ]
    for (const [options, message] of bad) {
      assert.throws(
        () => createGenerator({ start: START, ...options }),
        (e: unknown) => e instanceof DaroogheError && e.kind === 'CONFIG' && message.test(e.message)
      )
    }
  })

  it('every generated line is formatted by the fast formatter', () => {
    const [first] = all({ count: 1 }) as [GeneratedRecord]
    assert.equal(formatEventLine(first.event as NonNullable<GeneratedRecord['event']>), first.raw)
  })
})
