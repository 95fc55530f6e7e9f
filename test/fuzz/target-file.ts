/**
 * Target `file`: `darooghe detect --input FILE --output FILE`, run in process through the same
 * pieces the command uses (processorFromFlags, readNdjsonBatches, the sink's line format), the
 * input cut into chunks at random places; with `cli`, the real command too, whose output must
 * be the same bytes. A record cannot hold a raw newline here: a line break splits it into
 * lines, and every non-empty line (after one trailing \r) is one input record.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import { formatOutputLine, readNdjsonBatches } from '../../src/adapters/file/index.ts'
import { runFileDetect, type DetectFlags } from '../../src/cli/commands/detect.ts'
import { processorFromFlags } from '../../src/config/scoring.ts'
import { Random } from '../../src/domain/random.ts'
import { fixedClock } from '../../src/stream/clock.ts'
import { eventCase } from './cases.ts'
import {
  checkOutputs,
  compareRuns,
  finding,
  limitsOf,
  oracle,
  lastSourceOffset,
  summaryOf,
  tallyHostile,
  type Expected,
  type Origin,
  type Out
} from './checks.ts'
import { describeError } from './drive.ts'
import type { Finding } from './report.ts'
import { alone, type BatchEnv, type BatchResult, type BatchSpec } from './target.ts'

const BIN = new URL('../../bin/darooghe.js', import.meta.url).pathname
const BATCH_SIZES = [1, 7, 64, 5_000]

interface Line {
  readonly bytes: Buffer
  readonly origin: Origin
}

interface FileRun {
  readonly outs: Out[]
  readonly text: string
  /** Records with no output: input records less decisions and errors (the command's own counts). */
  readonly duplicates: number
  readonly error: Error | null
}

function flags(nowMs: number, batchSize: number): DetectFlags {
  return {
    output: '-',
    rules: 'default',
    now: new Date(nowMs).toISOString(),
    allowedLateness: '30s',
    alertThreshold: '80',
    maxEventAge: '1d',
    maxClockSkew: '60s',
    batchSize: String(batchSize),
    quiet: true
  }
}

/** `darooghe detect --input FILE --output FILE` in this process: runFileDetect itself, on files. */
async function detectFile(
  input: Buffer,
  nowMs: number,
  batchSize: number,
  dir: string,
  light = false
): Promise<FileRun> {
  const inPath = join(dir, 'in.ndjson')
  const outPath = join(dir, 'out.ndjson')
  writeFileSync(inPath, input)
  writeFileSync(outPath, '')
  let duplicates = 0
  let error: Error | null = null
  try {
    const s = await runFileDetect({ ...flags(nowMs, batchSize), input: inPath, output: outPath })
    duplicates = s.records - s.approved - s.fraud - s.errors
  } catch (e) {
    error = e as Error
  }
  const text = readFileSync(outPath, 'utf8')
  const outs =
    text === ''
      ? []
      : text
          .slice(0, -1)
          .split('\n')
          .map(l => parseLine(l, light))
  return { outs, text, duplicates, error }
}

/**
 * The same through the pieces the command is made of, the input cut into chunks at random
 * places (the command reads 1 MiB at a time): its bytes must be the command's.
 */
async function chunkedRun(chunks: readonly Buffer[], nowMs: number, batchSize: number): Promise<string> {
  let text = ''
  const processor = processorFromFlags(flags(nowMs, batchSize), new MemoryStateStore(), fixedClock(nowMs))
  const maxLineBytes = limitsOf(processor.options).maxEventBytes
  for await (const batch of readNdjsonBatches(Readable.from(chunks), {
    batchSize,
    timestamp: nowMs,
    maxLineBytes
  })) {
    const r = await processor.processBatch(batch)
    for (const o of r.outputs) text += formatOutputLine(o) + '\n'
  }
  return text
}

const TOPIC = /^\{"topic":("(?:[^"\\]|\\.)*")/

/** An output line of the sink, `{"topic":…,"key":…,"value":{…}}`: parsed, or with `light` read from its text. */
function parseLine(line: string, light: boolean): Out {
  const bytes = Buffer.byteLength(line)
  const m = TOPIC.exec(line)
  const topic = m ? (JSON.parse(m[1]!) as string) : '?'
  const summary = summaryOf(topic, line)
  if (light) return { topic, value: undefined, parsed: true, offset: lastSourceOffset(line), bytes, summary }
  try {
    const v = JSON.parse(line) as { topic: string; value: { source?: { offset?: unknown } } | null }
    const o = v.value?.source?.offset
    // The value's text as written: the line without its wrapper (the topic and key, as JSON
    // strings, cannot hold `,"value":` unescaped).
    const raw = line.slice(line.indexOf(',"value":') + 9, -1)
    return {
      topic: v.topic,
      value: v.value,
      parsed: true,
      offset: typeof o === 'number' ? o : null,
      bytes,
      summary,
      raw
    }
  } catch {
    return { topic, value: undefined, parsed: false, offset: lastSourceOffset(line), bytes, summary }
  }
}

/** Non-empty lines of the input (one trailing \r removed), numbered from 1 as the reader does. */
function inputRecords(lines: readonly Line[]): { offset: number; line: Line; bytes: Buffer }[] {
  const out: { offset: number; line: Line; bytes: Buffer }[] = []
  lines.forEach((line, i) => {
    let b = line.bytes
    if (b.length > 0 && b[b.length - 1] === 0x0d) b = b.subarray(0, b.length - 1)
    if (b.length > 0) out.push({ offset: i + 1, line, bytes: b })
  })
  return out
}

/** The input in chunks cut at random places (the reader joins lines across chunks). */
function chunked(input: Buffer, r: Random): Buffer[] {
  const out: Buffer[] = []
  let at = 0
  while (at < input.length) {
    const n = r.chance(0.5) ? r.int(1, 64) : r.int(1, 1 << 17)
    out.push(input.subarray(at, at + n))
    at += n
  }
  return out
}

export async function fileBatch(spec: BatchSpec, env: BatchEnv): Promise<BatchResult> {
  const clean = env.clean(spec.window)
  const cases = spec.cases.map(k => eventCase(spec.seed, 'file', k, env.bases, clean))
  const c = { target: 'file' as const, seed: spec.seed, batch: spec.range }
  const r = new Random(`${spec.seed}/file-batch/${spec.range[0]}/${spec.cases.join(',')}`)
  const lines: Line[] = []
  for (let p = 0; p <= clean.length; p++) {
    for (const h of cases.filter(x => x.pos === p)) {
      for (const payload of h.payloads) {
        const origin: Origin = { case: h.k, mutations: h.mutations, payload }
        let from = 0
        const b = payload ?? Buffer.alloc(0)
        for (let nl = b.indexOf(0x0a); nl >= 0; nl = b.indexOf(0x0a, from)) {
          lines.push({ bytes: b.subarray(from, nl), origin })
          from = nl + 1
        }
        lines.push({ bytes: b.subarray(from), origin })
      }
    }
    if (p < clean.length) {
      const bytes = Buffer.from(clean[p]!.raw)
      lines.push({ bytes, origin: { case: null, mutations: ['clean'], payload: bytes } })
    }
  }
  const nowMs = clean[clean.length - 1]!.eventTimeMs + 5_000
  const batchSize = r.pick(BATCH_SIZES)
  const joinLines = (ls: readonly Line[], final: boolean): Buffer =>
    Buffer.concat(
      ls.flatMap((l, i) => (i < ls.length - 1 || final ? [l.bytes, Buffer.from('\n')] : [l.bytes]))
    )
  const input = joinLines(lines, r.chance(0.7))
  const options = processorFromFlags(
    flags(nowMs, batchSize),
    new MemoryStateStore(),
    fixedClock(nowMs)
  ).options
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-fuzz-'))
  try {
    const findings: Finding[] = []
    const noisy = await detectFile(input, nowMs, batchSize, dir)
    if (noisy.error !== null) {
      findings.push(finding(c, null, 'threw', describeError(noisy.error)))
      if (cases.length > 1) findings.push(...(await isolate(spec, env, 'threw')))
      return { findings, records: lines.length, hostile: lines.length - clean.length, threw: true }
    }
    const records = inputRecords(lines)
    const expected: Expected[] = records.map(x => ({
      offset: x.offset,
      origin: x.line.origin,
      ...oracle(x.bytes, nowMs, options)
    }))
    const check = checkOutputs(expected, noisy.outs, {
      ...c,
      options,
      duplicates: noisy.duplicates,
      duplicateOffsets: null
    })
    findings.push(...check.findings)
    try {
      const chunks = await chunkedRun(chunked(input, r), nowMs, batchSize)
      if (chunks !== noisy.text)
        findings.push(finding(c, null, 'chunking', firstDifference(chunks, noisy.text)))
    } catch (error) {
      findings.push(finding(c, null, 'threw', `input in chunks: ${describeError(error)}`))
    }
    if (env.cli) findings.push(...(await cliRun(dir, nowMs, batchSize, noisy.text, c)))
    // The reference: the clean lines and the hostile lines the validator accepts, alone.
    const keptAt = records.flatMap((x, i) => (x.line.origin.case === null || expected[i]!.valid ? [i] : []))
    const refInput = joinLines(
      keptAt.map(i => records[i]!.line),
      true
    )
    const ref = await detectFile(refInput, nowMs, batchSize, dir, true)
    if (ref.error !== null) {
      findings.push(finding(c, null, 'threw', `reference run: ${describeError(ref.error)}`))
    } else {
      const refExpected = keptAt.map((i, j) => ({ ...expected[i]!, offset: j + 1 }))
      const refCheck = checkOutputs(refExpected, ref.outs, {
        ...c,
        options,
        duplicates: ref.duplicates,
        duplicateOffsets: null
      })
      const originAt = new Map(expected.map(e => [e.offset, e.origin]))
      const toNoisy = (o: number): number => records[keptAt[o - 1]!]!.offset
      const diff = compareRuns(refCheck.summaries, check.summaries, toNoisy, o => originAt.get(o)!, c)
      findings.push(...diff)
      if (diff.length > 0 && cases.length > 1) findings.push(...(await isolate(spec, env, 'differential')))
    }
    return {
      findings,
      records: records.length,
      hostile: records.length - clean.length,
      threw: false,
      tally: tallyHostile(expected, check.summaries)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Where two outputs part: the line, the character, and the text around it in each. */
function firstDifference(got: string, want: string): string {
  const a = got.split('\n')
  const b = want.split('\n')
  const i = a.findIndex((l, j) => l !== b[j])
  const [x, y] = [a[i] ?? '', b[i] ?? '']
  let p = 0
  while (p < x.length && x[p] === y[p]) p++
  const around = (s: string): string => JSON.stringify(s.slice(Math.max(0, p - 40), p + 60))
  return `output line ${i + 1} of ${a.length}, character ${p}: ${around(x)}; the command: ${around(y)}`
}

async function isolate(spec: BatchSpec, env: BatchEnv, check: string): Promise<Finding[]> {
  const out: Finding[] = []
  for (const k of spec.cases) {
    const r = await fileBatch({ ...spec, cases: [k] }, { ...env, cli: false })
    const hostile = eventCase(spec.seed, 'file', k, env.bases, env.clean(spec.window))
    out.push(...r.findings.filter(f => f.check === check).map(f => alone(f, hostile)))
  }
  return out
}

/** The real command on the same input: exit 0, no stack trace, and the in-process output's bytes. */
async function cliRun(
  dir: string,
  nowMs: number,
  batchSize: number,
  want: string,
  c: { target: 'file'; seed: string; batch: readonly [number, number] }
): Promise<Finding[]> {
  const inPath = join(dir, 'in.ndjson')
  const outPath = join(dir, 'cli-out.ndjson')
  const args = [
    BIN,
    'detect',
    '--input',
    inPath,
    '--output',
    outPath,
    '--now',
    new Date(nowMs).toISOString(),
    '--batch-size',
    String(batchSize),
    '--quiet'
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const [code, signal] = await new Promise<[number | null, string | null]>(resolve =>
    child.on('close', (code, signal) => resolve([code, signal]))
  )
  const out: Finding[] = []
  if (code !== 0) {
    const first = stderr.trim().split('\n')[0]?.slice(0, 200)
    out.push(finding(c, null, 'cli-exit', `exit ${code ?? signal}: ${first}`))
  }
  if (/^\s+at /m.test(stderr)) out.push(finding(c, null, 'cli-stack', stderr.slice(0, 300)))
  if (code === 0) {
    const got = readFileSync(outPath, 'utf8')
    if (got !== want) out.push(finding(c, null, 'cli-differs', firstDifference(got, want)))
  }
  return out
}
