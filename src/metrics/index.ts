export {
  DEFAULT_MAX_BLOCKS_BEHIND,
  type HealthAnswer,
  type HealthSource,
  liveness,
  readiness,
} from './health.js'
export { Metrics, type MetricsSources } from './metrics.js'
export { defaultMetricsOptions, type MetricsOptions } from './options.js'
export { addHealthRoutes, MetricsServer, type MetricsServerDeps } from './server.js'
