import type { Logger } from 'pino'
import type { Chain } from '../chain/index.js'
import type { Crypto } from '../crypto/index.js'
import type { Execution } from '../execution/index.js'
import type { ChainSpec } from '../genesis/index.js'
import type { HealthSource } from '../metrics/index.js'
import type { TxPool } from '../txpool/index.js'
import type { AdminBackend } from './admin.js'
import { DEFAULT_HOST_ALLOWLIST, DEFAULT_JWT_APIS } from './auth.js'
import type { RpcMetrics } from './dispatcher.js'
import type { QbftBackend } from './qbft.js'

export interface RpcOptions {
  host: string
  /** 0 picks a free port (see RpcServer.url). */
  port: number
  /** Largest request body; larger ones get HTTP 413. */
  maxBodyBytes: number
  /** Most requests in one batch. */
  maxBatchLength: number
  /** eth_getLogs: largest toBlock - fromBlock (geth's --rpc.rangelimit). */
  maxLogBlockRange: number
  /** eth_getLogs: most logs in one answer. */
  maxLogResults: number
  /**
   * Lowest priority fee eth_maxPriorityFeePerGas suggests (and eth_gasPrice adds to the base fee) on chains that
   * charge fees; gas-free chains (baseFeeMode 'zero') suggest 0 until transactions there pay tips.
   */
  gasPriceFloor: bigint
  /** Namespaces served (RPC_NAMESPACES): 'eth', 'net', 'web3' by default; 'txpool', 'debug', 'trace', 'ots', 'erigon', 'qbft', 'admin' and 'testing' when asked for. */
  apis: string[]
  /** Origins a browser may call from (CORS): ['*'] answers any origin; otherwise only the listed ones. */
  corsOrigins: string[]
  /** Highest gas eth_call, eth_estimateGas, eth_createAccessList and eth_simulateV1 may use (geth's --rpc.gascap); 0 = no cap. */
  gasCap: bigint
  /** Wall-clock limit of one such request in ms (geth's --rpc.evmtimeout); 0 = none. */
  evmTimeoutMs: number
  // Limits of the listener (see limits.ts): each answered with a JSON-RPC error, never by stalling the node.
  /** Largest answer, in bytes of JSON; a batch counts its items together (geth's --rpc.batch-response-max-size). */
  maxResponseBytes: number
  /** Open HTTP and WebSocket connections at once; requests on connections above it get HTTP 503 and -32005. */
  maxConnections: number
  /** Calls of one batch that run at once (calls that change state run alone, in order). */
  batchConcurrency: number
  /** Requests of one WebSocket connection that run at once. */
  wsMaxConcurrentRequests: number
  /** Requests of one WebSocket connection that wait for a turn; more get -32005 "too many concurrent requests". */
  wsMaxQueuedRequests: number
  /** HS256 secret: when set, methods of `jwtApis` need `Authorization: Bearer <token>` (see auth.ts). */
  jwtSecret?: Uint8Array
  /** Namespaces the JWT secret protects. */
  jwtApis: string[]
  /** Host names (Host header) accepted, as geth's --http.vhosts: IP addresses always are; '*' = any. */
  hostAllowlist: string[]
  /** What the listener serves: JSON-RPC over HTTP POST, over WebSocket, or both on one port (the default). */
  transports: RpcTransport[]
  /** A port of its own for WebSocket (Besu's --rpc-ws-port, geth's --ws.port): `port` then serves HTTP only. */
  wsPort?: number
  /** Address of that port (default: `host`). */
  wsHost?: string
}

export type RpcTransport = 'http' | 'ws'

export const defaultRpcOptions: RpcOptions = {
  host: '127.0.0.1',
  port: 8545,
  maxBodyBytes: 5 * 1024 * 1024,
  maxBatchLength: 1000,
  maxLogBlockRange: 10_000,
  maxLogResults: 10_000,
  gasPriceFloor: 1_000_000_000n,
  apis: ['eth', 'net', 'web3'],
  corsOrigins: ['*'],
  gasCap: 50_000_000n,
  evmTimeoutMs: 5_000,
  // geth's batch response limit; an eth_getLogs answer at maxLogResults is a few MiB, a full block far less.
  maxResponseBytes: 25_000_000,
  maxConnections: 256,
  batchConcurrency: 8,
  wsMaxConcurrentRequests: 16,
  wsMaxQueuedRequests: 256,
  jwtApis: [...DEFAULT_JWT_APIS],
  hostAllowlist: [...DEFAULT_HOST_ALLOWLIST],
  transports: ['http', 'ws'],
}

export interface RpcDeps {
  spec: ChainSpec
  chain: Chain
  execution: Execution
  txpool: TxPool
  crypto: Crypto
  clientVersion: string
  /** The validator's address, or undefined on a follower. */
  coinbase: Uint8Array | undefined
  log: Logger
  /** Connected peers (net_peerCount); absent without networking. */
  peerCount?: () => number
  /** Catch-up progress for eth_syncing: undefined when the node is at the head it knows of. */
  syncStatus?: () => { startingBlock: bigint; currentBlock: bigint; highestBlock: bigint } | undefined
  /** Sends an accepted eth_sendRawTransaction to peers (absent without networking). */
  broadcastTransaction?: (raw: Uint8Array) => void
  /** Consensus state for the qbft_ namespace (absent on nodes without consensus). */
  qbft?: QbftBackend
  /** Peers and addresses for the admin_ namespace (absent without networking). */
  admin?: AdminBackend
  /** Besu's GET /liveness and /readiness on the HTTP port; absent = not served. */
  health?: HealthSource
  /** Calls, latency and errors by method (absent = not recorded). */
  metrics?: RpcMetrics
}

/** Every namespace a node can serve. */
export const RPC_NAMESPACES: readonly string[] = [
  'eth',
  'net',
  'web3',
  'txpool',
  'debug',
  'trace',
  'ots',
  'erigon',
  'qbft',
  'admin',
  'testing',
]

/** A second listener for namespaces kept off the public port (debug, txpool, qbft …), with the same limits. */
export interface RpcAdminOptions {
  host: string
  port: number
  /** Default: every namespace but 'testing' (it makes the node execute arbitrary blocks: only when asked for). */
  apis: string[]
}

export const defaultRpcAdminOptions: Omit<RpcAdminOptions, 'port'> = {
  host: '127.0.0.1',
  apis: RPC_NAMESPACES.filter((name) => name !== 'testing'),
}

/** What every namespace is built from. */
export interface RpcContext {
  opts: RpcOptions
  deps: RpcDeps
}
