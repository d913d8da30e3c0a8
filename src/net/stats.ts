/** Counters of what the network layer did and what it refused; read through `Network.stats()`. */
export interface NetworkStats {
  dials: number
  dialFailures: number
  redialsScheduled: number
  statusHandshakes: number
  statusMismatches: number
  statusFailures: number
  peersBanned: number
  gossipPublished: number
  gossipReceived: number
  gossipOversized: number
  gossipIgnored: number
  gossipHandlerErrors: number
  requestsSent: number
  requestsFailed: number
  requestTimeouts: number
  requestsServed: number
  requestHandlerErrors: number
  oversizedFrames: number
  malformedFrames: number
}

export function emptyStats(): NetworkStats {
  return {
    dials: 0,
    dialFailures: 0,
    redialsScheduled: 0,
    statusHandshakes: 0,
    statusMismatches: 0,
    statusFailures: 0,
    peersBanned: 0,
    gossipPublished: 0,
    gossipReceived: 0,
    gossipOversized: 0,
    gossipIgnored: 0,
    gossipHandlerErrors: 0,
    requestsSent: 0,
    requestsFailed: 0,
    requestTimeouts: 0,
    requestsServed: 0,
    requestHandlerErrors: 0,
    oversizedFrames: 0,
    malformedFrames: 0,
  }
}
