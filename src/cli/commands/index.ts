import type { Command } from 'commander'
import { DaroogheError } from '../../errors.ts'
import { registerProduce } from './produce.ts'
import { registerDemo } from './demo.ts'
import { registerBench } from './bench.ts'
import { registerServe } from './serve.ts'
import { registerDispatch } from './dispatch.ts'
import { registerDetect } from './detect.ts'
import { registerGenerate } from './generate.ts'
import { registerAnalyze } from './analyze.ts'
import { registerWindows } from './windows.ts'
import { registerReplay } from './replay.ts'

type Register = (program: Command) => void

/** Subcommands still to be built report it clearly instead of pretending. */
function pending(name: string, description: string): Register {
  return program => {
    program
      .command(name)
      .description(description)
      .allowUnknownOption(true)
      .action(() => {
        throw new DaroogheError('USAGE', `'darooghe ${name}' is not built yet`)
      })
  }
}

const commands: Register[] = [
  registerDemo,
  registerGenerate,
  registerProduce,
  registerDetect,
  registerDispatch,
  registerServe,
  registerWindows,
  registerAnalyze,
  registerReplay,
  registerBench
]

export function registerCommands(program: Command): void {
  for (const register of commands) register(program)
}
