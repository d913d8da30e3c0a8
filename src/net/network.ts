import './polyfill.js'
import { EventEmitter } from 'node:events'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { type Identify, identify } from '@libp2p/identify'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Ping, ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { Crypto } from '../crypto/index.js'
import type { Logger } from '../log/index.js'
import { Dialer } from './dialer.js'
import { NetworkError } from './errors.js'
import { Gossip, type GossipHandler, type TopicCounts } from './gossip.js'
import { addressOfPeer, nodePrivateKey, peerIdOfMultiaddr, peerIdOfPrivateKey } from './identity.js'
import { defaultNetworkOptions, type NetworkOptions, STATUS_PROTOCOL } from './options.js'
import { ReqResp, type RequestHandler, type RequestOptions } from './reqresp.js'
import { emptyStats, type NetworkStats } from './stats.js'
import { type ChainStatus, decodeStatus, encodeStatus, statusMismatch } from './status.js'

export interface NetworkDeps {
  /** 32-byte secp256k1 node key; for a validator, its validator key, so that its peer id maps to its address. */
  privateKey: Uint8Array
  crypto: Crypto
  log: Logger
  /** Our chain as of now; sent in every status handshake. */
  status: () => ChainStatus
}

/** A peer that passed the status handshake. */
export interface PeerInfo {
  peerId: string
  /** 20-byte Ethereum address of the peer's secp256k1 key. */
  address: Uint8Array
  remoteAddr: string
  direction: 'inbound' | 'outbound'
  /** The peer's latest status (its head), refreshed whenever it sends or answers a status request. */
  status: ChainStatus
}

export interface NetworkEvents {
  'peer:connected': [peer: PeerInfo]
  'peer:disconnected': [peerId: string]
  'peer:status': [peer: PeerInfo]
  'peer:rejected': [rejection: { peerId: string; reason: string }]
}

type Services = { identify: Identify; ping: Ping; pubsub: GossipSub }

// Room for gossipsub's protobuf framing around a payload of `maxMessageSize`.
const GOSSIP_RPC_OVERHEAD = 64 * 1024

/** The node's libp2p host: status handshake, static peers, gossip topics and request/response protocols. */
export class Network extends EventEmitter<NetworkEvents> {
  readonly peerId: string
  /** Our own 20-byte Ethereum address (of the node key). */
  readonly address: Uint8Array
  private readonly counters: NetworkStats = emptyStats()
  private readonly verified = new Map<string, PeerInfo>()
  private readonly addressCache = new Map<string, Uint8Array>()
  private readonly gossip: Gossip
  private readonly reqresp: ReqResp
  private readonly dialer: Dialer
  private readonly log: Logger
  private running = false
  private statusHandled = false

  static async create(options: Partial<NetworkOptions>, deps: NetworkDeps): Promise<Network> {
    const opts: NetworkOptions = { ...defaultNetworkOptions, ...options }
    // Fail on a mistyped static peer or bootnode before anything is built.
    for (const addr of [...opts.staticPeers, ...opts.bootnodes]) peerIdOfMultiaddr(addr)
    const bans = new Map<string, number>()
    const denied = (peerId: PeerId): boolean => bannedUntil(bans, peerId.toString()) !== undefined
    const libp2p = await createLibp2p<Services>({
      start: false,
      privateKey: nodePrivateKey(deps.privateKey),
      addresses: { listen: opts.listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: { maxConnections: opts.maxConnections },
      connectionGater: { denyDialPeer: denied, denyInboundEncryptedConnection: denied },
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: gossipsub({
          // Payloads carry their own signatures (txs, seals, QBFT messages): like Ethereum's consensus layer,
          // gossip is unsigned and a message's id is the hash of its data, so identical payloads dedupe.
          globalSignaturePolicy: 'StrictNoSign',
          msgIdFn: (msg) => deps.crypto.keccak256(msg.data),
          allowPublishToZeroTopicPeers: true,
          ignoreDuplicatePublishError: true,
          maxInboundDataLength: opts.maxMessageSize + GOSSIP_RPC_OVERHEAD,
          // Off: with >10 peers seen from one IP in the last hour (one host, NAT, k8s) the default penalty graylists
          // every newcomer from that IP and its gossip is silently ignored. Peers here are known keys, not sybils.
          scoreParams: { IPColocationFactorWeight: 0 },
        }),
      },
    })
    return new Network(opts, deps, libp2p, bans)
  }

  private constructor(
    private readonly opts: NetworkOptions,
    private readonly deps: NetworkDeps,
    /** The underlying host, for diagnostics and tests; modules use the methods below. */
    readonly libp2p: Libp2p<Services>,
    private readonly bans: Map<string, number>,
  ) {
    super()
    this.log = deps.log.child({ module: 'net' })
    this.peerId = peerIdOfPrivateKey(deps.privateKey)
    this.address = Uint8Array.from(deps.crypto.privateKeyToAddress(deps.privateKey))
    const isBanned = (peerId: string) => bannedUntil(bans, peerId) !== undefined
    this.gossip = new Gossip(libp2p.services.pubsub, opts, this.counters, this.log, isBanned)
    this.reqresp = new ReqResp(libp2p, opts, this.counters)
    this.dialer = new Dialer(libp2p, opts, this.counters, this.log, (peerId) => bannedUntil(bans, peerId))
    const notSelf = (addr: string) => peerIdOfMultiaddr(addr) !== this.peerId
    this.dialer.add(opts.staticPeers.filter(notSelf), true)
    this.dialer.add(opts.bootnodes.filter(notSelf), false)
    libp2p.addEventListener('peer:connect', (event) => {
      const peerId = event.detail.toString()
      this.onPeerConnect(peerId).catch((err) => this.log.error({ peerId, err }, 'peer connect handling failed'))
    })
    libp2p.addEventListener('peer:disconnect', (event) => {
      const peerId = event.detail.toString()
      // A throwing listener inside libp2p's EventTarget would be an uncaught exception: keep it here.
      try {
        this.onPeerDisconnect(peerId)
      } catch (err) {
        this.log.error({ peerId, err }, 'peer disconnect handling failed')
      }
    })
  }

  get multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((ma) => ma.toString())
  }

  get peerCount(): number {
    return this.verified.size
  }

  get isRunning(): boolean {
    return this.running
  }

  async start(): Promise<void> {
    if (this.running) return
    if (!this.statusHandled) {
      await this.reqresp.handle(STATUS_PROTOCOL, (request, peerId) => this.serveStatus(request, peerId))
      this.statusHandled = true
    }
    await this.libp2p.start()
    this.running = true
    this.gossip.start()
    this.dialer.start()
    this.log.info({ peerId: this.peerId, multiaddrs: this.multiaddrs }, 'network started')
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.dialer.stop()
    this.gossip.stop()
    await this.libp2p.stop()
    this.verified.clear()
    this.log.info({ peerId: this.peerId }, 'network stopped')
  }

  /** Peers that passed the status handshake (same chain id and genesis). */
  peers(): PeerInfo[] {
    return [...this.verified.values()].map((peer) => ({ ...peer }))
  }

  peer(peerId: string): PeerInfo | undefined {
    const peer = this.verified.get(peerId)
    return peer === undefined ? undefined : { ...peer }
  }

  /** The 20-byte Ethereum address behind a secp256k1 peer id. */
  addressOfPeer(peerId: string): Uint8Array {
    let address = this.addressCache.get(peerId)
    if (address === undefined) {
      address = addressOfPeer(peerId, this.deps.crypto.keccak256)
      if (this.addressCache.size > 10_000) this.addressCache.clear()
      this.addressCache.set(peerId, address)
    }
    return address
  }

  /** Gossips `data` on `topic`; resolves to the number of peers it was sent to (0 with none: never throws for that). */
  publish(topic: string, data: Uint8Array): Promise<number> {
    return this.gossip.publish(topic, data)
  }

  /** Calls `handler` once per distinct payload on `topic`; returns the unsubscribe function. */
  subscribe(topic: string, handler: GossipHandler): () => void {
    return this.gossip.subscribe(topic, handler)
  }

  topicPeers(topic: string): string[] {
    return this.gossip.topicPeers(topic)
  }

  /** Serves a request/response protocol (`protocolId(name)`), one length-prefixed request and response per stream. */
  handle(protocol: string, handler: RequestHandler): Promise<void> {
    return this.reqresp.handle(protocol, handler)
  }

  request(peerId: string, protocol: string, data: Uint8Array, options?: RequestOptions): Promise<Uint8Array> {
    return this.reqresp.request(peerId, protocol, data, options)
  }

  /** Asks a peer for its status now (and tells it ours); the stored status is updated. */
  async requestStatus(peerId: string): Promise<ChainStatus> {
    const theirs = await this.exchangeStatus(peerId)
    this.updateStatus(peerId, theirs)
    return theirs
  }

  stats(): NetworkStats {
    return { ...this.counters }
  }

  /** Gossip messages per topic since start: received, published, dropped by validation. */
  gossipCounts(): ReadonlyMap<string, TopicCounts> {
    return this.gossip.topicCounts()
  }

  /**
   * Keeps a connection to `addr` (a multiaddr ending in /p2p/<peer id>) as to a static peer: dialled now and redialled
   * whenever it drops (admin_addPeer). Throws for an address without a peer id.
   */
  addPeer(addr: string): string {
    const peerId = peerIdOfMultiaddr(addr)
    if (peerId === this.peerId) throw new NetworkError('INVALID_MULTIADDR', { addr, reason: 'our own peer id' })
    this.dialer.add([addr], true, true)
    return peerId
  }

  /**
   * Forgets a peer (a peer id, or a multiaddr ending in one) as a dial target and hangs up on it (admin_removePeer);
   * it may still dial us. Throws for something that names no peer.
   */
  async removePeer(target: string): Promise<string> {
    const peerId = target.startsWith('/') ? peerIdOfMultiaddr(target) : parsePeerId(target)
    this.dialer.remove(peerId)
    await this.disconnect(peerId)
    return peerId
  }

  /** Whether `peerId` is kept connected (a static peer, or one added with addPeer). */
  isStaticPeer(peerId: string): boolean {
    return this.dialer.isStatic(peerId)
  }

  private async exchangeStatus(peerId: string): Promise<ChainStatus> {
    const ours = encodeStatus(this.deps.status())
    const response = await this.request(peerId, STATUS_PROTOCOL, ours, { timeoutMs: this.opts.statusTimeoutMs })
    return decodeStatus(response)
  }

  private async serveStatus(request: Uint8Array, peerId: string): Promise<Uint8Array> {
    const theirs = decodeStatus(request)
    const ours = this.deps.status()
    const mismatch = statusMismatch(ours, theirs)
    // Answer even a peer on another chain, so that it learns why; our own handshake with it hangs up.
    if (mismatch === undefined) this.updateStatus(peerId, theirs)
    else this.ban(peerId, mismatch)
    return encodeStatus(ours)
  }

  private updateStatus(peerId: string, status: ChainStatus): void {
    const peer = this.verified.get(peerId)
    if (peer === undefined) return
    peer.status = status
    this.emit('peer:status', { ...peer })
  }

  private async onPeerConnect(peerId: string): Promise<void> {
    if (bannedUntil(this.bans, peerId) !== undefined) return this.disconnect(peerId)
    let theirs: ChainStatus
    try {
      if (peerIdFromString(peerId).type !== 'secp256k1') throw new Error('peer key is not secp256k1')
      theirs = await this.exchangeStatus(peerId)
      this.counters.statusHandshakes++
    } catch (err) {
      if (!this.running || !this.isConnected(peerId)) return
      this.counters.statusFailures++
      this.log.info({ peerId, err: (err as Error).message }, 'status handshake failed, disconnecting')
      return this.disconnect(peerId)
    }
    const mismatch = statusMismatch(this.deps.status(), theirs)
    if (mismatch !== undefined) {
      this.ban(peerId, mismatch)
      return this.disconnect(peerId)
    }
    const connection = this.libp2p.getConnections(peerIdFromString(peerId))[0]
    if (!this.running || connection === undefined) return
    if (this.verified.has(peerId)) return this.updateStatus(peerId, theirs)
    const peer: PeerInfo = {
      peerId,
      address: this.addressOfPeer(peerId),
      remoteAddr: connection.remoteAddr.toString(),
      direction: connection.direction,
      status: theirs,
    }
    this.verified.set(peerId, peer)
    this.dialer.onConnected(peerId)
    this.log.info({ peerId, remoteAddr: peer.remoteAddr, head: theirs.head.number }, 'peer connected')
    this.emit('peer:connected', { ...peer })
  }

  /**
   * Disconnects a peer that served invalid data (a block with a forged seal, a wrong state root, one that does not
   * link to the chain) and refuses it for `peerBanMs`; counted and logged once.
   */
  async punish(peerId: string, reason: string): Promise<void> {
    this.ban(peerId, reason, 'invalid data')
    await this.disconnect(peerId)
  }

  /** Refuses a peer for `peerBanMs` (no dial, no inbound connection); counted and logged once. */
  private ban(peerId: string, reason: string, why: 'another chain' | 'invalid data' = 'another chain'): void {
    if (bannedUntil(this.bans, peerId) !== undefined) return
    this.bans.set(peerId, Date.now() + this.opts.peerBanMs)
    if (why === 'another chain') this.counters.statusMismatches++
    this.counters.peersBanned++
    const message =
      why === 'another chain' ? 'peer is on another chain, disconnecting' : 'peer served invalid data, disconnecting'
    this.log.warn({ peerId, reason, banMs: this.opts.peerBanMs }, message)
    this.emit('peer:rejected', { peerId, reason })
  }

  private onPeerDisconnect(peerId: string): void {
    if (this.verified.delete(peerId)) {
      this.log.info({ peerId }, 'peer disconnected')
      this.emit('peer:disconnected', peerId)
    }
    this.dialer.onDisconnected(peerId)
  }

  private isConnected(peerId: string): boolean {
    return this.libp2p.getConnections(peerIdFromString(peerId)).length > 0
  }

  private async disconnect(peerId: string): Promise<void> {
    await this.libp2p.hangUp(peerIdFromString(peerId)).catch(() => {})
  }
}

function parsePeerId(text: string): string {
  try {
    return peerIdFromString(text).toString()
  } catch (err) {
    throw new NetworkError(
      'INVALID_MULTIADDR',
      { peerId: text, reason: (err as Error).message },
      `invalid peer id: ${text}`,
    )
  }
}

/** Epoch ms until which `peerId` is banned, or undefined; expired bans are forgotten. */
function bannedUntil(bans: Map<string, number>, peerId: string): number | undefined {
  const until = bans.get(peerId)
  if (until === undefined) return undefined
  if (until > Date.now()) return until
  bans.delete(peerId)
  return undefined
}
