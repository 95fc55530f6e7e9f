import type { DaroogheConfig } from './load.ts'
import type { Setting } from './setting.ts'

/** What `darooghe config print` shows: every value already masked, each with its source. */
export interface ConfigReport {
  /** The command whose configuration this is; null for the connections alone. */
  readonly command: string | null
  readonly connections: {
    readonly kafka?: readonly Setting[]
    readonly redis?: readonly Setting[]
    readonly mongo?: readonly Setting[]
  }
  readonly general: readonly Setting[]
  /** The command's own flags (set or defaulted), when a command is named. */
  readonly settings: readonly Setting[]
}

export function configReport(
  config: DaroogheConfig,
  command: string | null,
  settings: readonly Setting[] = []
): ConfigReport {
  return {
    command,
    connections: {
      ...(config.kafka ? { kafka: config.kafka.settings } : {}),
      ...(config.redis ? { redis: config.redis.settings } : {}),
      ...(config.mongo ? { mongo: config.mongo.settings } : {})
    },
    general: config.settings,
    settings
  }
}

const asObject = (settings: readonly Setting[]): Record<string, { value: string; source: string }> =>
  Object.fromEntries(settings.map(s => [s.name, { value: s.value, source: s.source }]))

/** JSON: `{ command, connections: { kafka: { name: { value, source } } }, general, settings }`. */
export function reportJson(report: ConfigReport): string {
  const connections = Object.fromEntries(
    Object.entries(report.connections).map(([name, settings]) => [name, asObject(settings)])
  )
  return `${JSON.stringify(
    {
      command: report.command,
      connections,
      general: asObject(report.general),
      settings: asObject(report.settings)
    },
    null,
    2
  )}\n`
}

/** Text: one section per service, then the general and the command's settings; name, value, source. */
export function reportText(report: ConfigReport): string {
  const sections: [string, readonly Setting[]][] = [
    ...Object.entries(report.connections).map(([n, s]) => [n, s] as [string, readonly Setting[]]),
    ['general', report.general],
    ...(report.command && report.settings.length > 0
      ? [[report.command, report.settings] as [string, readonly Setting[]]]
      : [])
  ]
  const all = sections.flatMap(([, s]) => s)
  const nameWidth = Math.max(...all.map(s => s.name.length)) + 2
  const valueWidth = Math.min(60, Math.max(...all.map(s => s.value.length))) + 2
  let out = ''
  for (const [title, settings] of sections) {
    out += `${title}\n`
    for (const s of settings) out += `  ${s.name.padEnd(nameWidth)}${s.value.padEnd(valueWidth)}${s.source}\n`
  }
  return out
}
