#!/usr/bin/env -S node --max-semi-space-size=64
// The 64 MiB young generation: a detector keeps whole batches alive across minor collections,
// and with the default size most of a batch is promoted (docs/benchmarks.md). `node bin/…`
// skips this line; set NODE_OPTIONS=--max-semi-space-size=64 there.
// Runs the TypeScript sources directly (through tsx) so a checkout needs no build step;
// a published package ships dist/ and uses it when present.
import { existsSync } from 'node:fs'

const dist = new URL('../dist/cli/main.js', import.meta.url)
const src = new URL('../src/cli/main.ts', import.meta.url)
if (existsSync(src)) {
  const { register } = await import('tsx/esm/api')
  register()
  await import(src.href)
} else if (existsSync(dist)) {
  await import(dist.href)
} else {
  console.error('darooghe: neither src/ nor dist/ found next to bin/; reinstall the package')
  process.exit(1)
}
