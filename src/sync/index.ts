/**
 * Catching up: a node that is behind (restarted, or newly joined) fetches decided blocks from a peer whose head is
 * higher, in ranges, and imports them one by one with full validation (seals from a quorum, execution, roots).
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt, bytesToInt, intToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Chain, SealedBlock } from '../chain/index.js'
import { decodeSealedBlock, encodeSealedBlock } from '../consensus/qbft/index.js'
import type { ChainSpec } from '../genesis/index.js'
import { type Network, type PeerInfo, protocolId } from '../net/index.js'

export const BLOCKS_PROTOCOL = protocolId('blocks')

export interface SyncOptions {
  /** Most blocks asked for (and served) in one request. */
  maxBlocksPerRequest: number
  /** How often peers are asked for their head when nothing else says we are behind. */
  pollIntervalMs: number
  requestTimeoutMs: number
}

export const defaultSyncOptions: SyncOptions = {
  maxBlocksPerRequest: 64,
  pollIntervalMs: 5_000,
  requestTimeoutMs: 10_000,
}

export interface SyncDeps {
  spec: ChainSpec
  chain: Chain
  network: Network
  /** Imports a decided block in step with consensus (the engine serialises it with its own work). */
  importBlock(sealed: SealedBlock): Promise<void>
  log: Logger
}

export class BlockSync {
  private running = false
  private syncing: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly opts: SyncOptions,
    private readonly deps: SyncDeps,
  ) {}

  async start(): Promise<void> {
    this.running = true
    await this.deps.network.handle(BLOCKS_PROTOCOL, (request) => this.serve(request))
    this.deps.network.on('peer:connected', this.onPeer)
    this.deps.network.on('peer:status', this.onPeer)
    this.timer = setInterval(() => this.poll(), this.opts.pollIntervalMs)
    this.timer.unref()
    for (const peer of this.deps.network.peers()) this.onPeer(peer)
  }

  async stop(): Promise<void> {
    this.running = false
    if (this.timer) clearInterval(this.timer)
    this.deps.network.off('peer:connected', this.onPeer)
    this.deps.network.off('peer:status', this.onPeer)
    await this.syncing
  }

  /** Consensus saw a decided block beyond the next one: catch up from the peer with the highest head. */
  behind(number: bigint): void {
    if (!this.running || this.syncing) return
    const best = this.deps.network.peers().sort((a, b) => (a.status.head.number > b.status.head.number ? -1 : 1))[0]
    if (best === undefined) return
    const target = best.status.head.number > number ? best.status.head.number : number
    this.syncing = this.syncFrom(best, target).finally(() => {
      this.syncing = undefined
    })
  }

  /** Asks a peer for its head now and then, in case we fell behind without noticing. */
  private poll(): void {
    const peers = this.deps.network.peers()
    if (peers.length === 0 || this.syncing) return
    const peer = peers[Math.floor(Math.random() * peers.length)]
    this.deps.network.requestStatus(peer.peerId).catch(() => {})
  }

  private readonly onPeer = (peer: PeerInfo): void => {
    if (!this.running || this.syncing) return
    if (peer.status.head.number <= this.deps.chain.head.header.number + 1n) return
    this.syncing = this.syncFrom(peer, peer.status.head.number).finally(() => {
      this.syncing = undefined
    })
  }

  private async syncFrom(peer: PeerInfo, target: bigint): Promise<void> {
    const { chain, network, log } = this.deps
    log.info({ peer: peer.peerId, from: Number(chain.head.header.number), to: Number(target) }, 'catching up')
    // Bounded: each round either imports blocks or stops.
    for (let rounds = 0; this.running && chain.head.header.number < target && rounds < 100_000; rounds++) {
      const from = chain.head.header.number + 1n
      const request = RLP.encode([bigIntToUnpaddedBytes(from), intToBytes(this.opts.maxBlocksPerRequest)])
      let blocks: Uint8Array[]
      try {
        const response = await network.request(peer.peerId, BLOCKS_PROTOCOL, request, {
          timeoutMs: this.opts.requestTimeoutMs,
        })
        blocks = RLP.decode(response) as Uint8Array[]
      } catch (err) {
        log.warn({ err, peer: peer.peerId }, 'block range request failed')
        return
      }
      if (blocks.length === 0) return
      for (const bytes of blocks) {
        const sealed = decodeSealedBlock(RLP.encode(bytes as never) as Uint8Array, this.deps.spec.common)
        if (sealed.block.header.number <= chain.head.header.number) continue
        try {
          await this.deps.importBlock(sealed)
        } catch (err) {
          log.warn({ err, peer: peer.peerId, number: Number(sealed.block.header.number) }, 'synced block refused')
          return
        }
      }
    }
    log.info({ head: Number(chain.head.header.number) }, 'caught up')
  }

  /** Answers [from, count] with up to `maxBlocksPerRequest` sealed canonical blocks. */
  private async serve(request: Uint8Array): Promise<Uint8Array> {
    const { chain } = this.deps
    const [fromBytes, countBytes] = RLP.decode(request) as Uint8Array[]
    const from = bytesToBigInt(fromBytes)
    const count = Math.min(countBytes.length === 0 ? 0 : bytesToInt(countBytes), this.opts.maxBlocksPerRequest)
    const out: Uint8Array[] = []
    for (let n = from; n < from + BigInt(count) && n <= chain.head.header.number; n++) {
      const block = await chain.getBlockByNumber(n)
      if (block === undefined) break
      const seals = await chain.getSeals(block.hash())
      if (seals === undefined) break
      out.push(RLP.decode(encodeSealedBlock({ block, seals })) as unknown as Uint8Array)
    }
    return RLP.encode(out as never)
  }
}
