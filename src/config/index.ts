/**
 * Node configuration: a TOML file (`polis run --config FILE`) whose values command-line flags override.
 * Relative paths in the file are relative to the file's directory.
 */
import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { z } from 'zod'

const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
/** The transaction pool's block-building orders (txpool's `TxPoolOrder`). */
export const TXPOOL_ORDERS = ['price', 'fifo'] as const
/** The longest rejournal interval a Node.js timer can hold (2^31 - 1 ms). */
export const MAX_REJOURNAL_SECONDS = 2_147_483
const port = z.number().int().min(0).max(65535)

// JSON-RPC listener limits and the second (admin) listener: [rpc] keys and [rpc.admin].
const positiveInt = z.number().int().positive()
const rpcLimitKeys = {
  'max-body-bytes': positiveInt.optional(),
  'max-batch-length': positiveInt.optional(),
  'max-response-bytes': positiveInt.optional(),
  'max-connections': positiveInt.optional(),
  'batch-concurrency': positiveInt.optional(),
  'ws-max-concurrent': positiveInt.optional(),
  'ws-max-queued': z.number().int().min(0).optional(),
  admin: z
    .object({ host: z.string().optional(), port, apis: z.array(z.string()).optional() })
    .strict()
    .optional(),
}

export interface RpcLimitsConfig {
  rpcMaxBodyBytes?: number
  rpcMaxBatchLength?: number
  rpcMaxResponseBytes?: number
  rpcMaxConnections?: number
  rpcBatchConcurrency?: number
  rpcWsMaxConcurrent?: number
  rpcWsMaxQueued?: number
  rpcAdminHost?: string
  /** Set = a second listener serves rpcAdminApis (default every namespace) on rpcAdminHost (default 127.0.0.1). */
  rpcAdminPort?: number
  rpcAdminApis?: string[]
}

function rpcLimitsFromFile(rpc: z.infer<z.ZodObject<typeof rpcLimitKeys>> | undefined): RpcLimitsConfig {
  return {
    rpcMaxBodyBytes: rpc?.['max-body-bytes'],
    rpcMaxBatchLength: rpc?.['max-batch-length'],
    rpcMaxResponseBytes: rpc?.['max-response-bytes'],
    rpcMaxConnections: rpc?.['max-connections'],
    rpcBatchConcurrency: rpc?.['batch-concurrency'],
    rpcWsMaxConcurrent: rpc?.['ws-max-concurrent'],
    rpcWsMaxQueued: rpc?.['ws-max-queued'],
    rpcAdminHost: rpc?.admin?.host,
    rpcAdminPort: rpc?.admin?.port,
    rpcAdminApis: rpc?.admin?.apis,
  }
}

// The metrics listener (Prometheus /metrics, /liveness, /readiness): [metrics] host and port.
const metricsSection = z.object({ host: z.string().optional(), port: port.optional() }).strict().optional()

export interface MetricsConfig {
  metricsHost?: string
  /** Set = the metrics listener serves on metricsHost (default 127.0.0.1). */
  metricsPort?: number
}

function metricsFromFile(metrics: z.infer<typeof metricsSection>): MetricsConfig {
  return { metricsHost: metrics?.host, metricsPort: metrics?.port }
}

export const configFileSchema = z
  .object({
    datadir: z.string().optional(),
    genesis: z.string().optional(),
    'validator-key': z.string().optional(),
    'password-file': z.string().optional(),
    'log-level': logLevel.optional(),
    'log-format': z.enum(['json', 'pretty']).optional(),
    'log-modules': z.string().optional(),
    rpc: z
      .object({
        host: z.string().optional(),
        port: port.optional(),
        apis: z.array(z.string()).optional(),
        cors: z.array(z.string()).optional(),
        gascap: z.union([z.number(), z.string()]).optional(),
        evmtimeout: z.union([z.number(), z.string()]).optional(),
        'jwt-secret': z.string().optional(),
        'jwt-apis': z.array(z.string()).optional(),
        'host-allowlist': z.array(z.string()).optional(),
        'ws-host': z.string().optional(),
        'ws-port': port.optional(),
        ...rpcLimitKeys,
      })
      .strict()
      .optional(),
    p2p: z
      .object({
        listen: z.array(z.string()).optional(),
        'static-peers': z.array(z.string()).optional(),
        bootnodes: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
    qbft: z.object({ 'max-round-timeout-seconds': z.number().positive().optional() }).strict().optional(),
    txpool: z
      .object({
        'max-slots': z.number().int().positive().optional(),
        order: z.enum(TXPOOL_ORDERS).optional(),
        journal: z.string().optional(),
        'rejournal-seconds': z.number().int().positive().max(MAX_REJOURNAL_SECONDS).optional(),
      })
      .strict()
      .optional(),
    metrics: metricsSection,
  })
  .strict()

export type ConfigFile = z.infer<typeof configFileSchema>

/** Settings after merging defaults, the config file and flags; paths are absolute. */
export interface NodeConfig extends RpcLimitsConfig, MetricsConfig {
  datadir?: string
  genesis?: string
  validatorKey?: string
  /** Password of a keystore validator key: the file's first line. */
  passwordFile?: string
  logLevel?: z.infer<typeof logLevel>
  /** 'json' lines or 'pretty' for terminals. */
  logFormat?: 'json' | 'pretty'
  /** Per-module levels, "qbft=debug,rpc=warn". */
  logModules?: string
  rpcHost?: string
  rpcPort?: number
  rpcApis?: string[]
  /** Origins allowed to call from a browser ('*' = any). */
  rpcCors?: string[]
  /** Gas cap of eth_call and friends (geth's --rpc.gascap); 0 = none. */
  rpcGasCap?: bigint
  /** Time limit of eth_call and friends in ms (geth's --rpc.evmtimeout); 0 = none. */
  rpcEvmTimeoutMs?: number
  /** HS256 secret file protecting rpcJwtApis (both listeners). */
  rpcJwtSecret?: string
  rpcJwtApis?: string[]
  /** Host names accepted in the Host header (geth's --http.vhosts); IP addresses always are. */
  rpcHostAllowlist?: string[]
  /** A port of its own for JSON-RPC over WebSocket (the RPC port then serves HTTP only). */
  rpcWsPort?: number
  rpcWsHost?: string
  p2pListen?: string[]
  staticPeers?: string[]
  bootnodes?: string[]
  maxRoundTimeoutSeconds?: number
  /** Transactions the pool holds (pending + queued). */
  txpoolMaxSlots?: number
  /** Block building order: 'price' (geth) or 'fifo' (Besu's sequenced pool). */
  txpoolOrder?: (typeof TXPOOL_ORDERS)[number]
  /** Journal file, relative to the data directory unless absolute; '' = none. */
  txpoolJournal?: string
  txpoolRejournalSeconds?: number
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** Reads a TOML config file; errors name the file and every invalid key. */
export async function readConfigFile(path: string): Promise<NodeConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    throw new ConfigError(
      `cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    )
  }
  let raw: unknown
  try {
    raw = parseToml(text)
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid TOML: ${(e as Error).message.split('\n')[0]}`)
  }
  const parsed = configFileSchema.safeParse(raw)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const value = valueAt(raw, i.path)
      const got = value === undefined || typeof value === 'object' ? '' : ` (got ${JSON.stringify(value)})`
      return `${i.path.map(String).join('.') || '(root)'}: ${i.message}${got}`
    })
    throw new ConfigError(`config file ${path}: ${problems.join('; ')}`)
  }
  const base = dirname(resolve(path))
  const abs = (p: string | undefined) => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(base, p))
  const c = parsed.data
  let rpcGasCap: bigint | undefined
  let rpcEvmTimeoutMs: number | undefined
  try {
    if (c.rpc?.gascap !== undefined) rpcGasCap = parseGasCap(c.rpc.gascap)
    if (c.rpc?.evmtimeout !== undefined) rpcEvmTimeoutMs = parseTimeout(c.rpc.evmtimeout)
  } catch (e) {
    throw new ConfigError(`config file ${path}: ${(e as Error).message}`)
  }
  return {
    datadir: abs(c.datadir),
    genesis: abs(c.genesis),
    validatorKey: abs(c['validator-key']),
    passwordFile: abs(c['password-file']),
    logLevel: c['log-level'],
    logFormat: c['log-format'],
    logModules: c['log-modules'],
    rpcHost: c.rpc?.host,
    rpcPort: c.rpc?.port,
    rpcApis: c.rpc?.apis,
    rpcCors: c.rpc?.cors,
    rpcGasCap,
    rpcEvmTimeoutMs,
    rpcJwtSecret: abs(c.rpc?.['jwt-secret']),
    rpcJwtApis: c.rpc?.['jwt-apis'],
    rpcHostAllowlist: c.rpc?.['host-allowlist'],
    rpcWsPort: c.rpc?.['ws-port'],
    rpcWsHost: c.rpc?.['ws-host'],
    ...rpcLimitsFromFile(c.rpc),
    p2pListen: c.p2p?.listen,
    staticPeers: c.p2p?.['static-peers'],
    bootnodes: c.p2p?.bootnodes,
    maxRoundTimeoutSeconds: c.qbft?.['max-round-timeout-seconds'],
    txpoolMaxSlots: c.txpool?.['max-slots'],
    txpoolOrder: c.txpool?.order,
    // Relative to the data directory, as geth's journal path (not to the file), since the journal lives there.
    txpoolJournal: c.txpool?.journal,
    txpoolRejournalSeconds: c.txpool?.['rejournal-seconds'],
    ...metricsFromFile(c.metrics),
  }
}

/** The value a config issue points at (shown with the message, so the operator sees what was read). */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<PropertyKey, unknown>)[key]
  }
  return value
}

/** `override` wins where it has a value. */
export function mergeConfig(base: NodeConfig, override: NodeConfig): NodeConfig {
  const out: NodeConfig = { ...base }
  for (const [key, value] of Object.entries(override) as [keyof NodeConfig, unknown][]) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value
  }
  return out
}

/** A gas cap: a whole number of gas, 0 for none (`[rpc] gascap`, `--rpc-gascap`). */
export function parseGasCap(value: string | number): bigint {
  const text = String(value).trim().replaceAll('_', '')
  if (!/^\d+$/.test(text))
    throw new ConfigError(`rpc gascap must be a whole number of gas (0 = no cap), got ${JSON.stringify(value)}`)
  return BigInt(text)
}

const TIMEOUT_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 }

/**
 * A timeout in whole milliseconds from seconds ("5", 5, "0.5") or a number with a unit ("5s", "500ms", "1m");
 * 0 = none (`[rpc] evmtimeout`, `--rpc-evmtimeout`).
 */
export function parseTimeout(value: string | number): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(String(value).trim())
  const ms = match ? Number(match[1]) * TIMEOUT_UNITS[match[2] ?? 's'] : Number.NaN
  if (!Number.isFinite(ms) || ms > 2 ** 31 - 1) {
    throw new ConfigError(
      `rpc evmtimeout must be seconds ("5", "0.5") or a duration ("5s", "500ms", "1m"); 0 = none, got ${JSON.stringify(value)}`,
    )
  }
  if (!Number.isInteger(ms))
    throw new ConfigError(`rpc evmtimeout must be a whole number of milliseconds, got ${JSON.stringify(value)}`)
  return ms
}
