import { pathToFileURL } from 'node:url'
import { DaroogheError } from '../../../errors.ts'

export interface PngOptions {
  /** Chromium executable. */
  readonly executablePath: string
  /** Pixel ratio of the screenshots. Default 2 (sharp on high-density screens and in print). */
  readonly scale?: number
}

/**
 * Opens report.html in headless Chromium and screenshots each chart element to
 * `charts/<name>.png`. Returns the console errors the page logged (empty when it is clean).
 */
export async function renderPngs(
  htmlPath: string,
  charts: readonly { readonly name: string; readonly path: string }[],
  options: PngOptions
): Promise<string[]> {
  // Loaded on demand: only runs that write PNGs need playwright.
  const { chromium } = await import('playwright-core')
  let browser
  try {
    browser = await chromium.launch({
      executablePath: options.executablePath,
      args: ['--no-sandbox', '--disable-background-networking']
    })
  } catch (cause) {
    throw new DaroogheError(
      'IO',
      `cannot start Chromium at ${options.executablePath}: set CHROMIUM_PATH, or pass --no-png`,
      { cause }
    )
  }
  try {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 900 },
      deviceScaleFactor: options.scale ?? 2
    })
    const errors: string[] = []
    page.on('console', m => {
      if (m.type() === 'error') errors.push(m.text())
    })
    page.on('pageerror', e => errors.push(e.message))
    await page.goto(pathToFileURL(htmlPath).href)
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 30_000 })
    for (const c of charts) await page.locator(`#chart-${c.name}`).screenshot({ path: c.path })
    return errors
  } finally {
    await browser.close()
  }
}
