import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readSync,
  fstatSync,
  ftruncateSync,
  writeSync
} from 'node:fs'
import { DaroogheError } from '../../errors.ts'
import type { Alert, AlertSink } from '../../ports/alert-sink.ts'

/** How much of an existing file's end is read for the ids of its last batches. */
const TAIL_BYTES = 4 << 20

/**
 * NDJSON file sink (`alerts.log`). Lines are buffered and written with one write + fsync per
 * batch (`flush`). On open, a torn last line left by a crash (SIGKILL mid-write) is cut off, so
 * the file always holds whole lines; and the ids in the file's last few MB are remembered: the
 * dispatcher records deliveries after the fsync, so a crash between the two redelivers the last
 * batch, which must not be appended a second time.
 */
export class FileAlertSink implements AlertSink {
  readonly name = 'file'
  readonly #fd: number
  readonly #written: Set<string>
  #pending = ''

  constructor(readonly path: string) {
    try {
      this.#written = existsSync(path) ? (repairTornTail(path), idsInTail(path)) : new Set()
      this.#fd = openSync(path, 'a')
    } catch (cause) {
      throw new DaroogheError('IO', `cannot open the alerts file ${path}`, { cause })
    }
  }

  async deliver(alert: Alert): Promise<void> {
    if (this.#written.has(alert.alert_id)) return
    this.#pending += `${JSON.stringify(alert)}\n`
  }

  async flush(): Promise<void> {
    if (this.#pending === '') return
    const data = Buffer.from(this.#pending)
    this.#pending = ''
    let written = 0
    while (written < data.length) written += writeSync(this.#fd, data, written)
    fsyncSync(this.#fd)
  }

  async close(): Promise<void> {
    await this.flush()
    closeSync(this.#fd)
  }
}

/** alert_id of every whole line in the last TAIL_BYTES of the file. */
function idsInTail(path: string): Set<string> {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const chunk = Buffer.alloc(Math.min(size, TAIL_BYTES))
    readSync(fd, chunk, 0, chunk.length, size - chunk.length)
    const lines = chunk.toString('utf8').split('\n')
    // The first line of a partial read may be cut: it starts mid-line.
    if (chunk.length < size) lines.shift()
    const ids = new Set<string>()
    for (const line of lines) {
      const m = /"alert_id":"([^"\\]+)"/.exec(line)
      if (m) ids.add(m[1]!)
    }
    return ids
  } finally {
    closeSync(fd)
  }
}

/** Truncates a file after its last newline (a line cut short by a crash). */
export function repairTornTail(path: string): void {
  const fd = openSync(path, 'r+')
  try {
    const size = fstatSync(fd).size
    if (size === 0) return
    const chunk = Buffer.alloc(Math.min(size, 1 << 20))
    readSync(fd, chunk, 0, chunk.length, size - chunk.length)
    if (chunk[chunk.length - 1] === 0x0a) return
    const lastNewline = chunk.lastIndexOf(0x0a)
    ftruncateSync(fd, lastNewline < 0 ? size - chunk.length : size - chunk.length + lastNewline + 1)
  } finally {
    closeSync(fd)
  }
}

export type PayloadFormat = 'json' | 'slack' | 'discord'

/** HTTP POST sink: our `/alerts`, any URL, or Slack / Discord incoming webhooks. */
export class HttpAlertSink implements AlertSink {
  readonly name: string
  readonly #url: string
  readonly #format: PayloadFormat
  readonly #timeoutMs: number
  readonly #headers: Record<string, string>

  constructor(options: {
    name: string
    url: string
    format?: PayloadFormat
    timeoutMs?: number
    token?: string
  }) {
    this.name = options.name
    this.#url = options.url
    this.#format = options.format ?? 'json'
    this.#timeoutMs = options.timeoutMs ?? 5_000
    this.#headers = { 'content-type': 'application/json' }
    if (options.token) this.#headers.authorization = `Bearer ${options.token}`
  }

  async deliver(alert: Alert): Promise<void> {
    let res: Response
    try {
      res = await fetch(this.#url, {
        method: 'POST',
        headers: this.#headers,
        body: JSON.stringify(payload(alert, this.#format)),
        signal: AbortSignal.timeout(this.#timeoutMs)
      })
    } catch (cause) {
      // The URL (a webhook secret) never goes into the message.
      throw new DaroogheError('SINK', `${this.name}: request failed`, { cause })
    }
    await res.body?.cancel().catch(() => {})
    if (res.ok) return
    const retriable = res.status >= 500 || res.status === 408 || res.status === 429
    throw new DaroogheError('SINK', `${this.name}: HTTP ${res.status}`, { retriable })
  }
}

function summary(a: Alert): string {
  const rules = a.rules_fired.length > 0 ? a.rules_fired.join(', ') : 'risk score'
  return `Fraud alert (${a.severity}): customer ${a.customer_id}, transaction ${a.transaction_id}, risk ${a.risk_score}, rules: ${rules}`
}

/** The body for each format: the alert itself, or a chat message naming the numbers. */
export function payload(alert: Alert, format: PayloadFormat): unknown {
  if (format === 'json') return alert
  const details = alert.rules_fired
    .map(rule => `• ${rule}: ${JSON.stringify(alert.trace[rule] ?? {})}`)
    .join('\n')
  if (format === 'slack') {
    return {
      text: summary(alert),
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `*${summary(alert)}*` } },
        ...(details ? [{ type: 'section', text: { type: 'mrkdwn', text: details } }] : [])
      ]
    }
  }
  return {
    content: summary(alert),
    embeds: [
      {
        title: `Alert ${alert.alert_id}`,
        description: details || 'risk score above threshold',
        color: 0xd9383a
      }
    ]
  }
}
