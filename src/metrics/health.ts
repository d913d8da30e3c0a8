/**
 * Besu's health checks: `/liveness` (the process serves) and `/readiness?minPeers=N&maxBlocksBehind=M` (enough
 * peers and near the best known head). Served on the metrics listener and on the JSON-RPC HTTP port, as Besu.
 */

/** What readiness is judged from. */
export interface HealthSource {
  /** False on a node without networking (the single-validator dev chain): no peers are needed by default. */
  networked: boolean
  peerCount: () => number
  headNumber: () => bigint
  /** The highest head known from peers' status and from sync (at least our own head). */
  highestKnownBlock: () => bigint
}

/** Besu's defaults: one peer (none without networking) and within two blocks of the best known head. */
export const DEFAULT_MAX_BLOCKS_BEHIND = 2

export interface HealthAnswer {
  statusCode: number
  body: Record<string, unknown>
}

export function liveness(): HealthAnswer {
  return { statusCode: 200, body: { status: 'UP' } }
}

function parseParam(query: Record<string, unknown>, name: string, fallback: number): number | string {
  const raw = query[name]
  if (raw === undefined || raw === '') return fallback
  const text = Array.isArray(raw) ? raw[raw.length - 1] : raw
  if (typeof text !== 'string' || !/^\d+$/.test(text)) return `${name} must be a whole number >= 0`
  return Number(text)
}

/** 200 {"status":"UP"} when ready; 503 {"status":"DOWN", …why} when not; 400 for a malformed parameter. */
export function readiness(query: Record<string, unknown>, source: HealthSource): HealthAnswer {
  const minPeers = parseParam(query, 'minPeers', source.networked ? 1 : 0)
  const maxBlocksBehind = parseParam(query, 'maxBlocksBehind', DEFAULT_MAX_BLOCKS_BEHIND)
  for (const value of [minPeers, maxBlocksBehind]) {
    if (typeof value === 'string') return { statusCode: 400, body: { status: 'DOWN', error: value } }
  }
  const peers = source.peerCount()
  const head = source.headNumber()
  const highest = source.highestKnownBlock()
  const behind = highest > head ? highest - head : 0n
  const reasons: string[] = []
  if (peers < (minPeers as number)) reasons.push(`${peers} peers, fewer than ${minPeers}`)
  if (behind > BigInt(maxBlocksBehind)) reasons.push(`${behind} blocks behind the best known head ${highest}`)
  if (reasons.length === 0) return { statusCode: 200, body: { status: 'UP' } }
  return {
    statusCode: 503,
    body: { status: 'DOWN', reasons, peers, minPeers, head: Number(head), highestKnownBlock: Number(highest) },
  }
}
