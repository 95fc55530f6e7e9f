import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { HttpError } from './errors.ts'

/** web/dashboard of this package. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../web/dashboard/', import.meta.url))

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'views.js': 'text/javascript; charset=utf-8',
  'styles.css': 'text/css; charset=utf-8'
}

/** Chart.js's browser bundle, from node_modules: the dashboard loads nothing from the internet. */
function chartJsPath(): string {
  // The package exports no package.json; its CommonJS entry sits beside the UMD bundle in dist/.
  return join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js')
}

/**
 * The dashboard: `/` and its few static files (a fixed list, so no path from a request ever
 * reaches the file system), plus `/vendor/chart.js`. Files are read once and kept.
 */
export function dashboardRoutes(app: FastifyInstance, dir: string = DASHBOARD_DIR): void {
  const cache = new Map<string, Buffer>()
  const load = async (path: string): Promise<Buffer> => {
    let body = cache.get(path)
    if (!body) {
      body = await readFile(path)
      cache.set(path, body)
    }
    return body
  }
  app.get('/', async (_req, reply) =>
    reply.type(FILES['index.html']!).send(await load(join(dir, 'index.html')))
  )
  app.get<{ Params: { file: string } }>('/dashboard/:file', async (req, reply) => {
    const type = Object.hasOwn(FILES, req.params.file) ? FILES[req.params.file] : undefined
    if (!type) throw new HttpError(404, 'not_found', `no dashboard file '${req.params.file}'`)
    return reply.type(type).send(await load(join(dir, req.params.file)))
  })
  app.get('/vendor/chart.js', async (_req, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=86400')
      .send(await load(chartJsPath()))
  )
}
