import type { Command } from 'commander'
import { startDemo } from '../../apps/demo/demo.ts'
import { addBatch, emptyTotals } from '../../apps/detector/index.ts'
import { logLevelFrom } from '../../config/connections.ts'
import { createLogger } from '../../logger.ts'
import { generatorOptionsFrom } from './generate.ts'

type Flags = Record<string, unknown>

/** `darooghe demo`: the pipeline embedded, with a one-line live status and the alerts as they come. */
async function demoAction(flags: Flags): Promise<void> {
  const log = createLogger('demo', logLevelFrom(flags.logLevel ?? 'warn', {}))
  const gen = generatorOptionsFrom({ ...flags, rate: flags.rate ?? '50' }, process.env, Date.now())
  gen.customers ??= 5_000
  const abort = new AbortController()
  const stop = (): void => abort.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  if (typeof flags.duration === 'string') gen.durationMs = undefined
  const totals = emptyTotals()
  const started = Date.now()
  const tty = process.stdout.isTTY
  const status = (): string => {
    const secs = Math.max(1, (Date.now() - started) / 1000)
    return (
      `events ${totals.records} (${Math.round(totals.records / secs)}/s)  approved ${totals.approved}  ` +
      `fraud ${totals.fraud}  alerts ${totals.alerts}  errors ${totals.errors}  late ${totals.late}  ` +
      `max latency ${totals.latencyMax} ms`
    )
  }
  process.stdout.write(
    'darooghe demo: generator → embedded log → detector → alerts, all in this process (Ctrl-C to stop)\n' +
      'the dashboard is not built yet; for now alerts print here\n'
  )
  const timer = setInterval(() => {
    if (tty) process.stdout.write(`\r${status()}`)
  }, 500)
  const { done } = startDemo({
    generator: gen,
    rules: (flags.rules as string | undefined) ?? 'default',
    log,
    signal: abort.signal,
    onBatch: s => {
      addBatch(totals, s)
    },
    onAlert: a => {
      const trace = a.trace as Record<string, Record<string, unknown>>
      const why = (a.rules_fired as string[])
        .map(rule => {
          const { fired: _fired, ...numbers } = trace[rule] ?? {}
          return `${rule} ${JSON.stringify(numbers)}`
        })
        .join('; ')
      const line = `ALERT ${a.severity} ${a.customer_id} ${a.transaction_id} risk ${a.risk_score}: ${why}`
      process.stdout.write(`${tty ? '\r\x1b[K' : ''}${line}\n`)
    }
  })
  const limit = typeof flags.seconds === 'string' ? Number(flags.seconds) * 1000 : 0
  const timeout = limit > 0 ? setTimeout(stop, limit) : undefined
  try {
    await done
  } finally {
    clearInterval(timer)
    if (timeout) clearTimeout(timeout)
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    process.stdout.write(`${tty ? '\r\x1b[K' : ''}${status()}\nstopped cleanly\n`)
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the whole pipeline embedded (generator, log, detector, alerts): no service needed')
    .option('--rate <n>', 'events per second (default 50)')
    .option('--customers <n>', 'customers (default 5000)')
    .option('--fraud-rate <f>', 'share of injected fraud (default 0.02)')
    .option('--seed <s>', 'seed for reproducible traffic')
    .option('--rules <name|file>', 'rule set (default: default)')
    .option('--seconds <n>', 'stop after this many seconds (default: until Ctrl-C)')
    .option('--log-level <level>', 'error | warn | info | debug (default warn)')
    .action(async (_opts: Flags, command: Command) => {
      await demoAction(command.opts())
    })
}
