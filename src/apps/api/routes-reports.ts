import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { sendError } from './errors.ts'

export interface ReportRoutesOptions {
  /** The directory `darooghe analyze --out` writes to; the report there is "the latest". */
  readonly reportDir: string
}

/** Chart names are the report's own kebab-case ids; anything else cannot name a file there. */
const CHART_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/

/**
 * The latest report written by `darooghe analyze --out DIR`: its page, its charts and its
 * numbers. Files are read per request: a new run replaces them (by rename) while we serve.
 */
export function reportRoutes(app: FastifyInstance, { reportDir }: ReportRoutesOptions): void {
  const serve = async (
    reply: FastifyReply,
    file: string,
    type: string,
    what: string
  ): Promise<FastifyReply> => {
    let body: Buffer
    try {
      body = await readFile(join(reportDir, file))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      return sendError(reply, 404, 'not_found', `${what} yet: run 'darooghe analyze --out ${reportDir}'`)
    }
    return reply.type(type).header('cache-control', 'no-cache').send(body)
  }

  app.get('/reports/latest', async (_req, reply) =>
    serve(reply, 'report.html', 'text/html; charset=utf-8', 'no report')
  )

  app.get<{ Params: { name: string } }>('/reports/latest/charts/:name.png', async (req, reply) => {
    const { name } = req.params
    if (!CHART_NAME.test(name)) return sendError(reply, 404, 'not_found', `no chart named '${name}'`)
    return serve(reply, join('charts', `${name}.png`), 'image/png', `no chart '${name}'`)
  })

  app.get('/api/reports/latest', async (_req, reply) =>
    serve(reply, 'report.json', 'application/json; charset=utf-8', 'no report')
  )
}

/**
 * POST /api/reports: runs the batch analytics over the stored history now (one run at a time)
 * and answers with the run id once /reports/latest shows it.
 */
export function runReportRoute(app: FastifyInstance, run: () => Promise<{ id: string; rows: number }>): void {
  let running: Promise<{ id: string; rows: number }> | null = null
  app.post('/api/reports', async (_req, reply) => {
    if (running) return sendError(reply, 409, 'conflict', 'a report is being computed: try again in a moment')
    running = run()
    try {
      const { id, rows } = await running
      return reply.code(201).send({ run_id: id, rows, url: '/reports/latest' })
    } finally {
      running = null
    }
  })
}
