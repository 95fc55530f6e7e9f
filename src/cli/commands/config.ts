import { Command } from 'commander'
import { redactSecrets, DaroogheError } from '../../errors.ts'
import { loadConfig, type Service } from '../../config/load.ts'
import { configReport, reportJson, reportText } from '../../config/print.ts'
import { MASK, type Setting } from '../../config/setting.ts'
import { KAFKA_CONFIG_HELP, REDIS_CA_HELP } from './connection-flags.ts'

type Flags = Record<string, unknown>

/** Flags the connection sections already show; the command's own settings leave them out. */
const CONNECTION_FLAGS = new Set([
  'brokers',
  'kafkaConfig',
  'redis',
  'redisCa',
  'mongo',
  'logLevel',
  'retryFor'
])
/** Flags whose value is a secret: shown as ***. */
const SECRET_FLAGS = new Set(['token', 'password'])

/** The services a command would open with these flags (as its action decides). */
export function servicesOf(command: string | null, flags: Flags): Service[] {
  const given = (name: string): boolean => flags[name] !== undefined && flags[name] !== false
  switch (command) {
    case null:
      return ['kafka', 'redis', 'mongo']
    case 'produce':
      return ['kafka']
    case 'detect':
      if (given('input')) return []
      return given('memoryState') ? ['kafka'] : ['kafka', 'redis']
    case 'replay':
    case 'dispatch':
    case 'windows':
      return given('memoryState') ? ['kafka'] : ['kafka', 'redis']
    case 'store':
      return ['kafka', 'mongo']
    case 'serve':
      return ['kafka', 'redis', 'mongo']
    case 'analyze':
      return [
        ...(given('topic') ? (['kafka'] as const) : []),
        ...(given('mongo') ? (['mongo'] as const) : [])
      ]
    case 'demo':
      return [
        ...(given('brokers') || given('kafkaConfig') ? (['kafka'] as const) : []),
        ...(given('redis') ? (['redis'] as const) : []),
        ...(given('mongo') ? (['mongo'] as const) : [])
      ]
    default:
      return []
  }
}

/** The command's own flags with their values (masked) and sources, from commander's record of them. */
function ownSettings(command: Command): Setting[] {
  const opts = command.opts()
  const out: Setting[] = []
  for (const option of command.options) {
    const key = option.attributeName()
    const value = opts[key]
    if (CONNECTION_FLAGS.has(key) || value === undefined) continue
    const from = command.getOptionValueSource(key)
    const shown = SECRET_FLAGS.has(key) ? MASK : redactSecrets(String(value))
    out.push({
      name: option.long ?? option.flags,
      value: shown,
      source:
        from === 'cli' ? `flag ${option.long}` : from === 'env' ? `env ${option.envVar}` : (from ?? 'default')
    })
  }
  return out
}

/** Parses COMMAND's flags with its own definition (a fresh copy of the CLI), without running it. */
async function parseAs(name: string, args: string[]): Promise<{ flags: Flags; settings: Setting[] }> {
  // Imported here: index.ts imports this module.
  const { registerCommands } = await import('./index.ts')
  const probe = new Command('darooghe').exitOverride().configureOutput({ outputError: (t, w) => w(t) })
  registerCommands(probe)
  const sub = probe.commands.find(c => c.name() === name && name !== 'config')
  if (!sub)
    throw new DaroogheError(
      'USAGE',
      `config print: unknown command '${name}': run 'darooghe --help' to list the commands`
    )
  let parsed: { flags: Flags; settings: Setting[] } | null = null
  sub.exitOverride().action((_o: Flags, command: Command) => {
    parsed = { flags: command.opts(), settings: ownSettings(command) }
  })
  await probe.parseAsync([name, ...args], { from: 'user' })
  return parsed!
}

function connectionFlags(args: string[]): Flags {
  const parser = new Command('config print')
    .exitOverride()
    .configureOutput({ outputError: (t, w) => w(t) })
    .option('--brokers <list>')
    .option('--kafka-config <file>')
    .option('--redis <url>')
    .option('--redis-ca <file>')
    .option('--mongo <url>')
    .option('--log-level <level>')
    .option('--retry-for <duration>')
  parser.parse(args, { from: 'user' })
  return parser.opts()
}

/**
 * `darooghe config print [COMMAND] [flags] [--json]`: the configuration COMMAND would run with
 * (the connections alone without one), after flags, environment, properties file and defaults.
 */
async function printAction(args: string[]): Promise<void> {
  const json = args.includes('--json')
  const rest = args.filter(a => a !== '--json')
  const name = rest[0] !== undefined && !rest[0].startsWith('-') ? rest[0] : null
  const { flags, settings } = name
    ? await parseAs(name, rest.slice(1))
    : { flags: connectionFlags(rest), settings: [] }
  const config = loadConfig(flags, process.env, servicesOf(name, flags))
  const report = configReport(config, name, settings)
  process.stdout.write(json ? reportJson(report) : reportText(report))
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('inspect the effective configuration')
  config
    .command('print')
    .description(
      "the configuration COMMAND runs with (connections, and its own settings), secrets masked, with each value's source: flag, env, properties file line or default"
    )
    .usage('[COMMAND] [its flags] [--json]')
    .argument('[args...]', "a command (detect, serve, ...) and that command's flags")
    .option('--json', 'print JSON')
    .option('--brokers <list>', 'Kafka bootstrap brokers (env DAROOGHE_BROKERS, KAFKA_BROKER_URL)')
    .option('--kafka-config <file>', KAFKA_CONFIG_HELP)
    .option('--redis <url>', 'Redis URL (env DAROOGHE_REDIS)')
    .option('--redis-ca <file>', REDIS_CA_HELP)
    .option('--mongo <url>', 'MongoDB URL (env DAROOGHE_MONGO)')
    .allowUnknownOption()
    .action(async (_args: string[], _o: Flags, command: Command) => {
      // Every word after `print` as typed (the options above are listed for --help): they are
      // parsed again with the named command's own definition.
      let root = command
      while (root.parent) root = root.parent
      // commander keeps the arguments it was given in `rawArgs`, untyped in its typings.
      const raw = (root as unknown as { rawArgs?: string[] }).rawArgs ?? []
      const at = raw.indexOf('print')
      await printAction(at >= 0 ? raw.slice(at + 1) : command.args)
    })
}
