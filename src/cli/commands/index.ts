import type { Command } from 'commander'
import { registerProduce } from './produce.ts'
import { registerDemo } from './demo.ts'
import { registerBench } from './bench.ts'
import { registerServe } from './serve.ts'
import { registerDispatch } from './dispatch.ts'
import { registerDetect } from './detect.ts'
import { registerGenerate } from './generate.ts'
import { registerAnalyze } from './analyze.ts'
import { registerStore } from './store.ts'
import { registerWindows } from './windows.ts'
import { registerReplay } from './replay.ts'
import { registerConfig } from './config.ts'

type Register = (program: Command) => void

const commands: Register[] = [
  registerDemo,
  registerGenerate,
  registerProduce,
  registerDetect,
  registerDispatch,
  registerServe,
  registerStore,
  registerWindows,
  registerAnalyze,
  registerReplay,
  registerBench,
  registerConfig
]

export function registerCommands(program: Command): void {
  for (const register of commands) register(program)
}
