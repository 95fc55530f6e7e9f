import { createWriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import { once } from 'node:events'
import { DaroogheError } from '../../errors.ts'
import type { OutRecord } from '../../ports/log.ts'

/**
 * One output record per line: `{"topic":"darooghe.transactions.approved","key":"cust_1","value":{...}}`.
 * The topic is kept so the routing is visible (`jq 'select(.topic == "darooghe.fraud_alerts")'`).
 * Values are the processor's JSON texts and are embedded as they are, not re-encoded.
 */
export function formatOutputLine(r: OutRecord): string {
  const key =
    r.key == null ? 'null' : JSON.stringify(typeof r.key === 'string' ? r.key : r.key.toString('utf8'))
  const value = r.value == null ? 'null' : typeof r.value === 'string' ? r.value : r.value.toString('utf8')
  return `{"topic":${JSON.stringify(r.topic)},"key":${key},"value":${value}}`
}

export class NdjsonSink {
  readonly #out: Writable
  readonly #own: boolean
  readonly #name: string
  #failure: Error | null = null
  #wake: (() => void) | null = null

  /** `own`: end the stream on close (files), or leave it open (stdout). */
  constructor(out: Writable, options: { own: boolean; name: string }) {
    this.#out = out
    this.#own = options.own
    this.#name = options.name
    out.on('error', err => {
      this.#failure = err
      this.#wake?.()
    })
    out.on('drain', () => this.#wake?.())
  }

  static open(path: string): NdjsonSink {
    if (path === '-') return new NdjsonSink(process.stdout, { own: false, name: 'stdout' })
    return new NdjsonSink(createWriteStream(path), { own: true, name: path })
  }

  /** Writes a batch as one chunk, waiting for the stream to drain (back-pressure). */
  async write(records: readonly OutRecord[]): Promise<void> {
    this.#check()
    if (records.length === 0) return
    let text = ''
    for (const r of records) text += formatOutputLine(r) + '\n'
    if (!this.#out.write(text) && this.#failure === null) {
      await new Promise<void>(resolve => (this.#wake = resolve))
      this.#wake = null
    }
    this.#check()
  }

  async close(): Promise<void> {
    this.#check()
    if (this.#own) {
      this.#out.end()
      await once(this.#out, 'finish')
    }
  }

  #check(): void {
    if (this.#failure) {
      throw new DaroogheError('IO', `cannot write ${this.#name}: ${this.#failure.message}`, {
        cause: this.#failure
      })
    }
  }
}
