import { pino, type Logger } from 'pino'

export type { Logger }

/**
 * Namespaced JSON logs on stderr (stdout carries data in file modes). The level comes from
 * the CLI (`--log-level` or LOG_LEVEL); secrets never reach a log line (see redact paths).
 */
export function createLogger(name: string, level = 'info'): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      redact: {
        paths: ['url', 'webhook', 'token', '*.url', '*.webhook', '*.token', 'headers.authorization'],
        censor: '***'
      }
    },
    pino.destination({ dest: 2, sync: true })
  )
}

/** A logger that drops everything, for libraries used from tests. */
export const silentLogger: Logger = pino({ level: 'silent' })
