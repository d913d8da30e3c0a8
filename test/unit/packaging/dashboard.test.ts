/**
 * The Grafana dashboard and Prometheus targets of docker/compose.yml against the metric contract
 * docker/grafana/metrics.json (the names, types and labels a node serves on /metrics).
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Metrics } from '../../../src/metrics/index.js'

const DOCKER = resolve(import.meta.dirname, '../../../docker')

interface MetricSpec {
  name: string
  type: 'counter' | 'gauge' | 'histogram'
  labels: string[]
}

const METRICS_CONTRACT = JSON.parse(readFileSync(join(DOCKER, 'grafana/metrics.json'), 'utf8')) as {
  targetLabels: string[]
  metrics: MetricSpec[]
}

const dashboard = JSON.parse(readFileSync(join(DOCKER, 'grafana/dashboards/polis.json'), 'utf8'))
const targets = JSON.parse(readFileSync(join(DOCKER, 'prometheus/targets.json'), 'utf8')) as {
  targets: string[]
  labels: Record<string, string>
}[]
const compose = readFileSync(join(DOCKER, 'compose.yml'), 'utf8')

/** Series names a metric exposes: a histogram's _bucket, _sum, _count; otherwise the name itself. */
function seriesOf(spec: MetricSpec): string[] {
  return spec.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => spec.name + s) : [spec.name]
}
const SERIES = new Map(METRICS_CONTRACT.metrics.flatMap((m) => seriesOf(m).map((s) => [s, m] as const)))

// PromQL words that are not metric names.
const PROMQL_WORDS = new Set(
  [
    'sum',
    'avg',
    'min',
    'max',
    'count',
    'topk',
    'bottomk',
    'quantile',
    'by',
    'without',
    'on',
    'ignoring',
    'group_left',
    'group_right',
    'and',
    'or',
    'unless',
    'offset',
    'bool',
    'rate',
    'irate',
    'increase',
    'delta',
    'deriv',
    'idelta',
    'histogram_quantile',
    'clamp_min',
    'clamp_max',
    'abs',
    'label_values',
    'max_over_time',
    'min_over_time',
    'avg_over_time',
    'vector',
    'scalar',
  ].map((w) => w.toLowerCase()),
)

interface ParsedExpr {
  metrics: string[]
  /** Labels in matchers and by/without/on clauses. */
  labels: string[]
}

function parseExpr(expr: string): ParsedExpr {
  const labels: string[] = []
  let rest = expr
    .replace(/\$__\w+|\$\{?\w+\}?/g, 'X') // Grafana variables
    .replace(/\[[^\]]*\]/g, ' ') // range selectors
  // Grafana's label_values(<selector>, <label>)
  rest = rest.replace(/label_values\(\s*([^,]+),\s*(\w+)\s*\)/g, (_, selector: string, label: string) => {
    labels.push(label)
    return selector
  })
  rest = rest.replace(/\{([^}]*)\}/g, (_, matchers: string) => {
    for (const m of matchers.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"[^"]*"/g)) labels.push(m[1])
    return ' '
  })
  rest = rest.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, _kw, list: string) => {
    labels.push(
      ...list
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    )
    return ' '
  })
  rest = rest.replace(/"[^"]*"/g, ' ')
  const metrics = [...rest.matchAll(/[a-zA-Z_:][\w:]*/g)]
    .map((m) => m[0])
    .filter((w) => !PROMQL_WORDS.has(w.toLowerCase()) && w !== 'X' && !/^\d/.test(w))
  return { metrics, labels }
}

interface Target {
  expr: string
}
interface Panel {
  id: number
  title: string
  type: string
  targets?: Target[]
  panels?: Panel[]
}
const panels: Panel[] = (dashboard.panels as Panel[]).flatMap((p) => [p, ...(p.panels ?? [])])
const exprs: { panel: string; expr: string }[] = panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
)
for (const v of dashboard.templating?.list ?? []) {
  const query = typeof v.query === 'string' ? v.query : v.query?.query
  if (v.type === 'query' && query) exprs.push({ panel: `variable ${v.name}`, expr: query })
}

describe('docker/grafana/metrics.json (the metric contract)', () => {
  it('is what the node registers: every name, type and label', async () => {
    const registered = await new Metrics().registry.getMetricsAsJSON()
    const byName = new Map(registered.map((m) => [m.name, m]))
    for (const m of METRICS_CONTRACT.metrics) {
      const metric = byName.get(m.name)
      expect(metric, `${m.name} is not registered by src/metrics`).toBeDefined()
      expect(String(metric?.type)).toBe(m.type)
    }
    // And every polis_ metric the node serves is in the contract (so the dashboard can show it).
    const contract = new Set(METRICS_CONTRACT.metrics.map((m) => m.name))
    for (const name of byName.keys()) if (name.startsWith('polis_')) expect(contract.has(name), name).toBe(true)
  })

  it('lists unique polis_ / prom-client default names with a type', () => {
    const names = METRICS_CONTRACT.metrics.map((m) => m.name)
    expect(new Set(names).size).toBe(names.length)
    for (const m of METRICS_CONTRACT.metrics) {
      expect(m.name).toMatch(/^(polis_|process_|nodejs_)[a-z0-9_]+$/)
      expect(['counter', 'gauge', 'histogram']).toContain(m.type)
      if (m.type === 'counter') expect(m.name).toMatch(/_total$/)
    }
  })
})

describe('docker/grafana/dashboards/polis.json', () => {
  it('is a dashboard with unique panel ids and the Prometheus datasource', () => {
    expect(dashboard.uid).toBe('polis-overview')
    const ids = panels.map((p) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const p of panels) {
      if (p.type === 'row') continue
      expect(p.targets?.length, p.title).toBeGreaterThan(0)
    }
    const datasource = readFileSync(join(DOCKER, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')
    expect(datasource).toMatch(/uid: prometheus/)
    expect(JSON.stringify(dashboard)).not.toMatch(/"uid":\s*"(?!prometheus"|polis-overview")/)
  })

  it('names only metrics and labels of the contract', () => {
    const allowedLabels = new Set([
      ...METRICS_CONTRACT.targetLabels,
      ...METRICS_CONTRACT.metrics.flatMap((m) => m.labels),
      'le',
    ])
    expect(exprs.length).toBeGreaterThan(15)
    for (const { panel, expr } of exprs) {
      const { metrics, labels } = parseExpr(expr)
      expect(metrics.length, `${panel}: ${expr}`).toBeGreaterThan(0)
      for (const name of metrics) expect(SERIES.has(name), `${panel}: unknown metric ${name} in ${expr}`).toBe(true)
      for (const label of labels) expect(allowedLabels.has(label), `${panel}: unknown label ${label}`).toBe(true)
      // rate/increase only over counters and histogram series; histogram_quantile only over _bucket.
      for (const m of expr.matchAll(/\b(?:rate|irate|increase)\(\s*([a-zA-Z_:][\w:]*)/g)) {
        const spec = SERIES.get(m[1])
        expect(spec?.type === 'counter' || spec?.type === 'histogram', `${panel}: rate over ${m[1]}`).toBe(true)
      }
      if (expr.includes('histogram_quantile')) expect(expr).toMatch(/_bucket\b/)
    }
  })

  it('covers the panels the issue asks for', () => {
    const used = new Set(exprs.flatMap(({ expr }) => parseExpr(expr).metrics.map((s) => SERIES.get(s)?.name)))
    for (const m of METRICS_CONTRACT.metrics) expect(used.has(m.name), `no panel uses ${m.name}`).toBe(true)
  })

  it('the expression parser catches an unknown metric', () => {
    expect(
      parseExpr('histogram_quantile(0.99, sum by (node, le) (rate(polis_nope_bucket{node=~"$node"}[5m])))'),
    ).toEqual({ metrics: ['polis_nope_bucket'], labels: ['node', 'node', 'le'] })
  })
})

describe('docker/prometheus/targets.json and docker/compose.yml', () => {
  it('scrapes the metrics port of each of the five nodes, labelled node and role', () => {
    const nodes = ['node-0', 'node-1', 'node-2', 'node-3', 'node-follower']
    expect(targets.flatMap((t) => t.targets).sort()).toEqual(nodes.map((n) => `${n}:9545`))
    for (const t of targets) {
      expect(t.labels.node).toBe(t.targets[0].split(':')[0])
      expect(['validator', 'follower']).toContain(t.labels.role)
    }
    const prometheus = readFileSync(join(DOCKER, 'prometheus/prometheus.yml'), 'utf8')
    expect(prometheus).toContain('/etc/prometheus/targets.json')
    expect(compose).toContain('./prometheus/targets.json:/etc/prometheus/targets.json:ro')
    // Each node is a compose service started with the metrics flags on 9545 and its own generated config.
    for (const n of nodes) {
      expect(compose).toMatch(new RegExp(`^ {2}${n}:$`, 'm'))
      expect(compose).toContain(`--config, /network/${n}/config.toml, --metrics-host, 0.0.0.0, --metrics-port, "9545"`)
    }
  })
})
