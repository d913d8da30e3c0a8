// First: libp2p 3 needs Promise.withResolvers, which Node 20 lacks.
import './polyfill.js'

export { NetworkError, type NetworkErrorCode } from './errors.js'
export type { GossipHandler, TopicCounts } from './gossip.js'
export { addressOfPeer, peerIdOfMultiaddr, peerIdOfPrivateKey, publicKeyOfPeer } from './identity.js'
export { Network, type NetworkDeps, type NetworkEvents, type PeerInfo } from './network.js'
export {
  backoffDelay,
  defaultNetworkOptions,
  type NetworkOptions,
  protocolId,
  STATUS_PROTOCOL,
  TOPICS,
  type Topic,
} from './options.js'
export type { RequestHandler, RequestOptions } from './reqresp.js'
export type { NetworkStats } from './stats.js'
export { type ChainStatus, decodeStatus, encodeStatus, statusMismatch } from './status.js'
