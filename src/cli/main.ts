import { Command, CommanderError } from 'commander'
import { DaroogheError, describeError } from '../errors.ts'
import { VERSION } from '../version.ts'
import { registerCommands } from './commands/index.ts'

/**
 * Entry point of the `darooghe` executable. Every failure that reaches here becomes one
 * line on stderr and a non-zero exit code; stack traces only with DAROOGHE_DEBUG=1.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('darooghe')
    .description('Darooghe: real-time payment fraud detection on Kafka, Redis and MongoDB')
    .version(VERSION, '-v, --version', 'print the version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })
  registerCommands(program)
  program.on('command:*', (operands: string[]) => {
    throw new DaroogheError(
      'USAGE',
      `unknown command '${operands[0]}': run 'darooghe --help' to list the commands`
    )
  })
  try {
    await program.parseAsync(argv, { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode
    }
    const line = error instanceof DaroogheError ? `${describeError(error)}` : describeError(error)
    process.stderr.write(`darooghe: ${line}\n`)
    if (process.env.DAROOGHE_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`)
    return error instanceof DaroogheError && error.kind === 'USAGE' ? 2 : 1
  }
}

const code = await main(process.argv.slice(2))
// Leave open handles (sockets being closed) a moment to finish, but never hang the shell.
process.exitCode = code
if (code !== 0) process.exit(code)
