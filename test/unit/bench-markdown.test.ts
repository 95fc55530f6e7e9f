import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { transactionIdOf } from '../../benchmarks/lib/decision.ts'
import { fmtSummary, renderMarkdown, slowestStage, table, wallText } from '../../benchmarks/lib/markdown.ts'
import type { Report } from '../../benchmarks/lib/types.ts'

const conditions = {
  date: '2026-01-01T00:00:00.000Z',
  quick: true,
  cpu: 'Test CPU',
  cores: 2,
  memoryGiB: 8,
  node: 'v20.0.0',
  kafka: '4.1.1',
  kafkaClient: '@platformatic/kafka 1.0.0',
  platform: 'linux'
}

describe('bench markdown', () => {
  it('formats a summary with its spread and run count', () => {
    assert.equal(
      fmtSummary({ median: 12_345.4, min: 10_000, max: 20_000, runs: 3 }),
      '12,345 (10,000–20,000, 3 runs)'
    )
    assert.equal(fmtSummary({ median: 0.0745, min: 0.0745, max: 0.0745, runs: 1 }, 3), '0.075 (1 run)')
  })

  it('renders a table and escapes pipes', () => {
    assert.equal(table(['a', 'b'], [['1', 'x|y']]), '| a | b |\n| --- | --- |\n| 1 | x\\|y |')
  })

  it('renders the conditions, the quick flag and only the suites that ran', () => {
    const report: Report = {
      conditions,
      suites: ['stages', 'max'],
      stages: [
        {
          name: 'rules+score',
          eventsPerSecond: { median: 100_000, min: 90_000, max: 110_000, runs: 3 },
          detail: 'd'
        }
      ],
      maxThroughput: {
        p99LimitMs: 100,
        windowS: 10,
        partitions: 6,
        maxSustainableRate: 5_000,
        steps: [
          {
            targetRate: 5_000,
            durationS: 10,
            sent: 50_000,
            achievedSendRate: 5_000,
            decisions: 49_500,
            achievedDecisionRate: 4_950,
            missing: 0,
            count: 49_500,
            p50: 3,
            p90: 5,
            p99: 20,
            p999: 40,
            max: 50,
            passed: true
          }
        ]
      },
      notes: ['a note']
    }
    const md = renderMarkdown(report)
    assert.match(md, /a \*\*quick\*\* run/)
    assert.match(md, /Test CPU × 2 cores/)
    assert.match(md, /Max sustainable rate: 5,000 events\/s/)
    assert.match(md, /\| rules\+score \| 100,000 \(90,000–110,000, 3 runs\) \| d \|/)
    assert.match(md, /- a note/)
    assert.doesNotMatch(md, /Detector throughput/)
    assert.doesNotMatch(md, /End-to-end latency at fixed rates/)
  })
})

describe('bench markdown: client comparison', () => {
  const summary = (median: number, min = median, max = median) => ({ median, min, max, runs: 3 })
  const report: Report = {
    conditions,
    suites: ['clients'],
    clients: {
      events: 100_000,
      partitions: 6,
      meanMessageBytes: 531.3,
      batchRecords: 1_000,
      runs: 3,
      settings: ['produce: acks=all', 'consume: fresh group'],
      clients: [
        {
          client: '@platformatic/kafka',
          version: '1.35.0',
          produceEventsPerSecond: summary(80_000, 70_000, 90_000),
          produceMBPerSecond: summary(43.25, 40, 45),
          consumeEventsPerSecond: summary(300_000),
          consumeMBPerSecond: summary(160.5),
          consumeStartMs: summary(150)
        },
        {
          client: '@confluentinc/kafka-javascript',
          version: null,
          unavailable: 'not installable here: no route to github.com'
        }
      ]
    },
    notes: []
  }

  it('renders one row per client with medians, spreads and versions', () => {
    const md = renderMarkdown(report)
    assert.match(md, /## 5\. Kafka client comparison/)
    assert.match(md, /100,000 events of ~531 bytes, 6 partitions, 3 run\(s\) per client/)
    assert.match(md, /- produce: acks=all\n- consume: fresh group/)
    assert.match(
      md,
      /\| @platformatic\/kafka 1\.35\.0 \| 80,000 \(70,000–90,000, 3 runs\) \| 43\.3 \(40\.0–45\.0, 3 runs\) \| 300,000 \(300,000–300,000, 3 runs\) \| 160\.5 /
    )
  })

  it('shows why a client did not run instead of figures', () => {
    const md = renderMarkdown(report)
    assert.match(
      md,
      /\| @confluentinc\/kafka-javascript \| not installable here: no route to github\.com \| {2}\|/
    )
    assert.doesNotMatch(md, /Detector throughput|Stages alone/)
  })

  it('leaves the section out when the suite did not run', () => {
    assert.doesNotMatch(
      renderMarkdown({ ...report, suites: ['stages'], clients: undefined }),
      /client comparison/i
    )
  })
})

describe('bench helpers: slowest stage and decision ids', () => {
  it('names the stage with the lowest median rate', () => {
    const stage = (name: string, median: number) => ({
      name,
      eventsPerSecond: { median, min: median, max: median, runs: 1 },
      detail: ''
    })
    assert.equal(slowestStage([stage('a', 50_000), stage('b', 20_000), stage('c', 90_000)])?.name, 'b')
    assert.equal(slowestStage([]), undefined)
  })

  it('reads the transaction id of a JSON decision', () => {
    const decision = Buffer.from(
      JSON.stringify({ decision: 'approved', transaction_id: 'a1b2-c3', customer_id: 'cust_1' })
    )
    assert.equal(transactionIdOf(decision), 'a1b2-c3')
    assert.equal(transactionIdOf(Buffer.from('{"customer_id":"cust_1"}')), null)
    assert.equal(transactionIdOf(Buffer.from('{"transaction_id":"cut')), null)
    assert.equal(transactionIdOf(null), null)
  })
})

describe('where the time goes', () => {
  const one = (median: number) => ({ median, min: median, max: median, runs: 1 })
  /** A report with these stage rates (events/s) and this detector result. */
  const reportOf = (stages: Record<string, number>, detector: object): Report =>
    ({
      conditions,
      suites: ['detector', 'stages'],
      notes: [],
      stages: Object.entries(stages).map(([name, rate]) => ({
        name,
        eventsPerSecond: one(rate),
        detail: ''
      })),
      detector
    }) as unknown as Report
  it('adds each stage cost per event and compares the ceiling with the whole detector', () => {
    const report = reportOf(
      {
        'processBatch (memory state)': 50_000,
        'state write-behind (Redis)': 200_000,
        'produce (Kafka)': 100_000
      },
      {
        eventsPerSecond: one(20_000),
        workers: { count: 2, eventsPerSecond: one(30_000) },
        passThrough: { eventsPerSecond: one(60_000), cpuSecondsPer1000: one(0.0174) }
      }
    )
    const text = wallText(report)!
    // 20 + 5 + 17.4 µs (the pass-through's CPU) = 42.4 µs → 23,585 events/s; the detector took 50 µs.
    assert.match(
      text,
      /processBatch 20\.0 µs \+ state write-behind 5\.0 µs \+ Kafka in and out 17\.4 µs = 42\.4 µs/
    )
    assert.match(text, /a ceiling of 23,585 events\/s/)
    assert.match(text, /took 50\.0 µs per event \(20,000 events\/s\)/)
    assert.match(text, /`--workers 2`\) reached 30,000 events\/s/)
    assert.match(text, /Kafka floor alone .* reached 60,000 events\/s at 17\.4 µs of CPU per event/)
  })
  it('a detector faster than the sum of the stages is not compared with a ceiling', () => {
    const report = reportOf(
      { 'processBatch (memory state)': 50_000, 'produce (Kafka)': 100_000 },
      { eventsPerSecond: one(60_000) }
    )
    const text = wallText(report)!
    assert.match(text, /= 30\.0 µs on one core\. /)
    assert.doesNotMatch(text, /ceiling of/)
    assert.match(text, /took 16\.7 µs per event \(60,000 events\/s\), less than the stages' sum/)
  })
  it('without a pass-through run, counts the produce stage', () => {
    const report = reportOf(
      { 'processBatch (memory state)': 50_000, 'produce (Kafka)': 100_000 },
      { eventsPerSecond: one(20_000) }
    )
    assert.match(wallText(report)!, /processBatch 20\.0 µs \+ produce 10\.0 µs = 30\.0 µs/)
  })
  it('says nothing without the stage and detector numbers', () => {
    assert.equal(wallText({ conditions, suites: [], notes: [] } as unknown as Report), null)
  })
})
