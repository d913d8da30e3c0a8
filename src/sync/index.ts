/**
 * Catching up: a node that is behind (restarted, or newly joined) fetches decided blocks from a peer whose head is
 * higher, in ranges, and imports them one by one with full validation (seals from a quorum, execution, roots).
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt, bytesToInt, intToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { BlockImportError, type Chain, type SealedBlock } from '../chain/index.js'
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
  /** How often a long catch-up logs its progress. */
  progressLogIntervalMs: number
}

export const defaultSyncOptions: SyncOptions = {
  maxBlocksPerRequest: 64,
  pollIntervalMs: 5_000,
  requestTimeoutMs: 10_000,
  progressLogIntervalMs: 5_000,
}

/** What eth_syncing reports while the node catches up. */
export interface SyncStatus {
  startingBlock: bigint
  currentBlock: bigint
  highestBlock: bigint
}

/** Import failures that say nothing against the block (a race with gossip over the same height); others do. */
const BENIGN_IMPORT_CODES = new Set(['NOT_NEXT_BLOCK', 'ALREADY_KNOWN'])

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
  private progress: (SyncStatus & { startedAt: number; txs: number; loggedAt: number }) | undefined

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

  /** Progress of a catch-up in course, for eth_syncing; undefined when the node is at the head it knows of. */
  status(): SyncStatus | undefined {
    const p = this.progress
    if (p === undefined || p.currentBlock >= p.highestBlock) return undefined
    return { startingBlock: p.startingBlock, currentBlock: p.currentBlock, highestBlock: p.highestBlock }
  }

  /** Consensus saw a decided block beyond the next one: catch up from the peer with the highest head. */
  behind(number: bigint): void {
    const best = this.bestPeer()
    if (best === undefined) return
    this.catchUp(best, best.status.head.number > number ? best.status.head.number : number)
  }

  private bestPeer(): PeerInfo | undefined {
    return this.deps.network.peers().sort((a, b) => (a.status.head.number > b.status.head.number ? -1 : 1))[0]
  }

  private catchUp(peer: PeerInfo, target: bigint): void {
    if (!this.running || this.syncing) return
    this.syncing = this.syncFrom(peer, target).then(
      (outcome) => {
        this.syncing = undefined
        // A peer that served a bad block was dropped: go on at once with the best one left, if it is ahead.
        // Otherwise (done, or a peer that stalled) peer events and the poll start the next catch-up.
        const next = outcome === 'dropped' ? this.bestPeer() : undefined
        if (this.running && next !== undefined && next.status.head.number > this.deps.chain.head.header.number + 1n) {
          this.catchUp(next, next.status.head.number)
        } else this.progress = undefined
      },
      () => {
        this.syncing = undefined
        this.progress = undefined
      },
    )
  }

  /** Asks a peer for its head now and then, in case we fell behind without noticing. */
  private poll(): void {
    const peers = this.deps.network.peers()
    if (peers.length === 0 || this.syncing) return
    const peer = peers[Math.floor(Math.random() * peers.length)]
    this.deps.network.requestStatus(peer.peerId).catch(() => {})
  }

  private readonly onPeer = (peer: PeerInfo): void => {
    if (peer.status.head.number <= this.deps.chain.head.header.number + 1n) return
    this.catchUp(peer, peer.status.head.number)
  }

  private async syncFrom(peer: PeerInfo, target: bigint): Promise<'done' | 'stalled' | 'dropped'> {
    const { chain, network, log } = this.deps
    log.info({ peer: peer.peerId, from: Number(chain.head.header.number), to: Number(target) }, 'catching up')
    const now = performance.now()
    const head = chain.head.header.number
    if (this.progress === undefined || this.progress.currentBlock >= this.progress.highestBlock) {
      this.progress = {
        startingBlock: head,
        currentBlock: head,
        highestBlock: target,
        startedAt: now,
        txs: 0,
        loggedAt: now,
      }
    } else if (target > this.progress.highestBlock) this.progress.highestBlock = target
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
        return 'stalled'
      }
      if (!Array.isArray(blocks)) {
        await network.punish(peer.peerId, 'served a block range that is not a list')
        return 'dropped'
      }
      if (blocks.length === 0) return 'stalled'
      for (const bytes of blocks) {
        let sealed: SealedBlock
        try {
          sealed = decodeSealedBlock(RLP.encode(bytes as never) as Uint8Array, this.deps.spec.common)
        } catch (err) {
          await network.punish(peer.peerId, `served a malformed block: ${(err as Error).message}`)
          return 'dropped'
        }
        const number = sealed.block.header.number
        if (number <= chain.head.header.number) continue
        try {
          await this.deps.importBlock(sealed)
        } catch (err) {
          log.warn({ err, peer: peer.peerId, number: Number(number) }, 'synced block refused')
          // A block that fails its checks is never imported, and the peer that served it is dropped.
          if (err instanceof BlockImportError && !BENIGN_IMPORT_CODES.has(err.code)) {
            await network.punish(peer.peerId, `served block ${number}: ${(err as Error).message}`)
            return 'dropped'
          }
          return 'stalled'
        }
        this.recordProgress(sealed.block.transactions.length)
      }
    }
    log.info({ head: Number(chain.head.header.number) }, 'caught up')
    return 'done'
  }

  /** Counts an imported block and, on a long catch-up, logs blocks/s, tx/s and the time left now and then. */
  private recordProgress(txs: number): void {
    const p = this.progress
    if (p === undefined) return
    p.currentBlock = this.deps.chain.head.header.number
    p.txs += txs
    const now = performance.now()
    if (now - p.loggedAt < this.opts.progressLogIntervalMs) return
    p.loggedAt = now
    const seconds = (now - p.startedAt) / 1000
    const done = Number(p.currentBlock - p.startingBlock)
    const blocksPerSecond = done / seconds
    const left = Number(p.highestBlock - p.currentBlock)
    this.deps.log.info(
      {
        head: Number(p.currentBlock),
        target: Number(p.highestBlock),
        blocksPerSecond: Math.round(blocksPerSecond),
        txPerSecond: Math.round(p.txs / seconds),
        etaSeconds: blocksPerSecond > 0 ? Math.round(left / blocksPerSecond) : undefined,
      },
      'sync progress',
    )
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
