/** Gossip topics; versioned so that a change of payload format is a new topic, not a silent incompatibility. */
export const TOPICS = {
  /** An RLP list of raw transactions (txpool's TxBatcher). */
  txs: '/polis/txs/1',
  block: '/polis/block/1',
  qbft: '/polis/qbft/1',
} as const

export type Topic = (typeof TOPICS)[keyof typeof TOPICS]

/** `/polis/<name>/<version>`, the id of a request/response protocol. */
export function protocolId(name: string, version = 1): string {
  return `/polis/${name}/${version}`
}

export const STATUS_PROTOCOL = protocolId('status')

export interface NetworkOptions {
  /** Multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/30303`; tests use `/ip4/127.0.0.1/tcp/0`. */
  listen: string[]
  /** Peers kept connected: dialled on start, redialled with backoff whenever the connection drops. `/…/p2p/<id>` */
  staticPeers: string[]
  /** Peers dialled on start (retried with backoff until the first connection), not kept afterwards. */
  bootnodes: string[]
  /** Largest gossip payload or request/response frame accepted or sent, in bytes. */
  maxMessageSize: number
  /** First delay before redialling a static peer; doubles on each failure up to `redialMaxMs`. */
  redialInitialMs: number
  redialMaxMs: number
  /** Timeout of one dial attempt. */
  dialTimeoutMs: number
  /** Timeout of the status handshake with a new peer; a peer that does not answer in time is disconnected. */
  statusTimeoutMs: number
  /** Default timeout of a request/response exchange (both for requests we send and requests we serve). */
  requestTimeoutMs: number
  /** How long a peer on another chain (chain id or genesis hash) is refused and not redialled. */
  peerBanMs: number
  /** Upper bound on open connections (libp2p's connection manager prunes above it). */
  maxConnections: number
}

export const defaultNetworkOptions: NetworkOptions = {
  listen: ['/ip4/127.0.0.1/tcp/30303'],
  staticPeers: [],
  bootnodes: [],
  maxMessageSize: 10 * 1024 * 1024,
  redialInitialMs: 1_000,
  redialMaxMs: 30_000,
  dialTimeoutMs: 10_000,
  statusTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  peerBanMs: 10 * 60_000,
  maxConnections: 100,
}

/** Exponential backoff: `initial × 2^attempt`, capped at `max`. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30))
}
