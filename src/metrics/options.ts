/** The metrics listener: Prometheus `/metrics` and the health checks, off unless a port is set (geth, Besu). */
export interface MetricsOptions {
  host: string
  /** 0 picks a free port (see MetricsServer.url). */
  port: number
}

export const defaultMetricsOptions: Omit<MetricsOptions, 'port'> = { host: '127.0.0.1' }
