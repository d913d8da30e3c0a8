/** The metrics listener: GET /metrics (Prometheus text), /liveness and /readiness (Besu's health checks). */
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Logger } from '../log/index.js'
import { type HealthSource, liveness, readiness } from './health.js'
import type { Metrics } from './metrics.js'
import type { MetricsOptions } from './options.js'

export interface MetricsServerDeps {
  metrics: Metrics
  health: HealthSource
  log: Logger
}

export class MetricsServer {
  private constructor(
    private readonly app: FastifyInstance,
    readonly url: string,
  ) {}

  static async start(opts: MetricsOptions, deps: MetricsServerDeps): Promise<MetricsServer> {
    const app = Fastify({ logger: false })
    app.get('/metrics', async (_request, reply) => {
      const { contentType, body } = await deps.metrics.text()
      return reply.header('Content-Type', contentType).send(body)
    })
    addHealthRoutes(app, deps.health)
    await app.listen({ host: opts.host, port: opts.port })
    const port = (app.server.address() as AddressInfo).port
    const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`
    deps.log.info({ url }, 'metrics server listening')
    return new MetricsServer(app, url)
  }

  async close(): Promise<void> {
    await this.app.close()
  }
}

/** GET /liveness and /readiness on a fastify app (the metrics listener, the JSON-RPC HTTP port). */
export function addHealthRoutes(app: FastifyInstance, health: HealthSource): void {
  app.get('/liveness', async (_request, reply) => {
    const { statusCode, body } = liveness()
    return reply.code(statusCode).header('Content-Type', 'application/json').send(JSON.stringify(body))
  })
  app.get('/readiness', async (request, reply) => {
    const { statusCode, body } = readiness((request.query ?? {}) as Record<string, unknown>, health)
    return reply.code(statusCode).header('Content-Type', 'application/json').send(JSON.stringify(body))
  })
}
