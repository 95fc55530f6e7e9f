import type { FastifyInstance } from 'fastify'
import { DaroogheError } from '../../errors.ts'

/** Listens and returns the bound port; a port in use (or not ours to take) is one clear line. */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<number> {
  try {
    await app.listen({ host, port })
  } catch (cause) {
    const code = (cause as { code?: string }).code
    const why = code === 'EADDRINUSE' ? 'is in use' : code === 'EACCES' ? 'is not allowed' : 'is unavailable'
    throw new DaroogheError(
      'IO',
      `port ${port} on ${host} ${why}: choose another with --port (0 = any free port)`,
      {
        cause
      }
    )
  }
  const address = app.server.address()
  return typeof address === 'object' && address ? address.port : port
}
