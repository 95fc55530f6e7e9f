import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DaroogheError } from '../../../errors.ts'
import { chartsOf, renderHtml } from './html.ts'
import { renderPngs } from './png.ts'
import type { AnalyticsReport } from './types.ts'

export interface WriteOptions {
  /** Chromium for the PNGs; null skips them (`--no-png`). */
  readonly chromiumPath: string | null
}

export interface Written {
  readonly html: string
  readonly json: string
  readonly pngs: readonly string[]
  /** Console errors of the page while rendering the PNGs. */
  readonly consoleErrors: readonly string[]
}

/**
 * Writes DIR/report.html, DIR/report.json and DIR/charts/<name>.png. Each file is written
 * beside its final name and renamed into place, so a server reading "the latest report"
 * never sees half a file.
 */
export async function writeReport(
  dir: string,
  report: AnalyticsReport,
  options: WriteOptions
): Promise<Written> {
  const charts = join(dir, 'charts')
  try {
    await mkdir(charts, { recursive: true })
    const html = join(dir, 'report.html')
    const json = join(dir, 'report.json')
    await place(html, renderHtml(report))
    let pngs: string[] = []
    let consoleErrors: string[] = []
    if (options.chromiumPath !== null) {
      const targets = chartsOf(report.results).map(name => ({ name, path: join(charts, `${name}.png`) }))
      const tmp = targets.map(t => ({ name: t.name, path: `${t.path}.tmp.png` }))
      consoleErrors = await renderPngs(html, tmp, { executablePath: options.chromiumPath })
      for (let i = 0; i < targets.length; i++) await rename(tmp[i]!.path, targets[i]!.path)
      pngs = targets.map(t => t.path)
    }
    // The JSON last: its presence says the whole report is there.
    await place(json, JSON.stringify(report, null, 2) + '\n')
    return { html, json, pngs, consoleErrors }
  } catch (cause) {
    if (cause instanceof DaroogheError) throw cause
    throw new DaroogheError('IO', `cannot write the report to ${dir}: ${(cause as Error).message}`, { cause })
  }
}

async function place(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text)
  await rename(`${path}.tmp`, path)
}
