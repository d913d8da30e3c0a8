/**
 * Catching up: a node that is behind (restarted, or newly joined) fetches decided blocks from a peer whose head is
 * higher, in ranges, and imports them one by one with full validation (seals from a quorum, execution, roots).
 */
import { RLP } from '@ethereumjs/rlp'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bigIntToUnpaddedBytes, bytesToBigInt, bytesToInt } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { BlockImportError, type Chain, type SealedBlock } from '../chain/index.js'
import { decodeSealedBlock, encodeSealedBlock } from '../consensus/qbft/index.js'
import type { ChainSpec } from '../genesis/index.js'
import { type Network, type PeerInfo, protocolId } from '../net/index.js'

export const BLOCKS_PROTOCOL = protocolId('blocks')

export interface SyncOptions {
  /** Most blocks asked for (and served) in one request. */
  maxBlocksPerRequest: number
  /** Range requests outstanding at once during a catch-up, spread over the peers that have the blocks. */
  maxRequestsInFlight: number
  /** How often peers are asked for their head when nothing else says we are behind. */
  pollIntervalMs: number
  requestTimeoutMs: number
  /** How often a long catch-up logs its progress. */
  progressLogIntervalMs: number
}

export const defaultSyncOptions: SyncOptions = {
  maxBlocksPerRequest: 64,
  maxRequestsInFlight: 4,
  pollIntervalMs: 5_000,
  requestTimeoutMs: 10_000,
  progressLogIntervalMs: 5_000,
}

interface RangeRequest {
  from: bigint
  count: bigint
  peer: string
  response: Promise<{ kind: 'ok'; blocks: Uint8Array[] } | { kind: 'failed' }>
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
  /** Recovers transaction senders off the event loop (Crypto.recoverSenders). */
  recoverSenders(txs: readonly TypedTransaction[]): Promise<void>
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

  /** Consensus saw a decided block beyond the next one: catch up to it (or further, if a peer is further). */
  behind(number: bigint): void {
    this.catchUp(number)
  }

  private catchUp(target: bigint): void {
    if (!this.running || this.syncing) return
    this.syncing = this.sync(target)
      .catch((err) => this.deps.log.warn({ err }, 'catch-up failed'))
      .finally(() => {
        this.syncing = undefined
        this.progress = undefined
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
    if (peer.status.head.number <= this.deps.chain.head.header.number + 1n) return
    this.catchUp(peer.status.head.number)
  }

  /**
   * Fetches ranges of blocks from every peer that has them, a few requests ahead of the import, and imports them in
   * order. A peer that fails a request is not asked again in this catch-up; one that serves a bad block is dropped
   * and banned, and its ranges go to others. Ends at the highest head known, or when no peer can serve the next range.
   */
  private async sync(initialTarget: bigint): Promise<void> {
    const { chain, log } = this.deps
    const head = chain.head.header.number
    const now = performance.now()
    this.progress = {
      startingBlock: head,
      currentBlock: head,
      highestBlock: initialTarget,
      startedAt: now,
      txs: 0,
      loggedAt: now,
    }
    log.info({ from: Number(head), to: Number(initialTarget) }, 'catching up')
    const failed = new Set<string>()
    const size = BigInt(this.opts.maxBlocksPerRequest)
    let queue: RangeRequest[] = []
    let turn = 0
    const target = () => {
      let highest = this.progress?.highestBlock ?? initialTarget
      for (const peer of this.usablePeers(failed))
        if (peer.status.head.number > highest) highest = peer.status.head.number
      if (this.progress) this.progress.highestBlock = highest
      return highest
    }
    /** Asks the next usable peer (in turn) that has block `from` for the range starting there. */
    const ask = (from: bigint, count: bigint): RangeRequest | undefined => {
      const peers = this.usablePeers(failed).filter((p) => p.status.head.number >= from)
      if (peers.length === 0) return undefined
      const peer = peers[turn++ % peers.length]
      return { from, count, peer: peer.peerId, response: this.fetch(peer.peerId, from, count) }
    }
    // Bounded: every round imports at least one block or excludes a peer, and stops when no peer is left.
    for (let rounds = 0; this.running && rounds < 1_000_000; rounds++) {
      const next = chain.head.header.number + 1n
      if (next > target()) break
      // Keep a few requests in flight, contiguous from the next block.
      let end = queue.length > 0 ? queue[queue.length - 1].from + queue[queue.length - 1].count : next
      while (queue.length < this.opts.maxRequestsInFlight && end <= target()) {
        const request = ask(end, size)
        if (request === undefined) break
        queue.push(request)
        end += size
      }
      const current = queue.shift()
      if (current === undefined || current.from !== next) {
        log.warn({ head: Number(chain.head.header.number) }, 'no peer can serve the next blocks; waiting for peers')
        break
      }
      const outcome = await current.response
      if (outcome.kind === 'failed') {
        failed.add(current.peer)
        queue = queue.filter((r) => r.peer !== current.peer)
        const again = ask(current.from, current.count)
        if (again) queue.unshift(again)
        continue
      }
      const before = chain.head.header.number
      const result = await this.importRange(current.peer, outcome.blocks)
      // A peer whose answer moved nothing forward (bad, empty or stale) is not asked again in this catch-up.
      if (result === 'bad' || chain.head.header.number === before) {
        failed.add(current.peer)
        queue = queue.filter((r) => r.peer !== current.peer)
      }
      // A short answer (or a bad block) leaves a gap before the next request: ask for it first.
      const gapFrom = chain.head.header.number + 1n
      const gapEnd = queue.length > 0 ? queue[0].from : current.from + current.count
      if (gapFrom < gapEnd) {
        const again = ask(gapFrom, gapEnd - gapFrom)
        if (again) queue.unshift(again)
      }
    }
    log.info({ head: Number(chain.head.header.number) }, 'caught up')
  }

  private usablePeers(failed: Set<string>): PeerInfo[] {
    return this.deps.network.peers().filter((p) => !failed.has(p.peerId))
  }

  private async fetch(
    peerId: string,
    from: bigint,
    count: bigint,
  ): Promise<{ kind: 'ok'; blocks: Uint8Array[] } | { kind: 'failed' }> {
    const request = RLP.encode([bigIntToUnpaddedBytes(from), bigIntToUnpaddedBytes(count)])
    try {
      const response = await this.deps.network.request(peerId, BLOCKS_PROTOCOL, request, {
        timeoutMs: this.opts.requestTimeoutMs,
      })
      const blocks = RLP.decode(response)
      if (!Array.isArray(blocks)) {
        await this.deps.network.punish(peerId, 'served a block range that is not a list')
        return { kind: 'failed' }
      }
      return { kind: 'ok', blocks: blocks as Uint8Array[] }
    } catch (err) {
      this.deps.log.warn({ err, peer: peerId }, 'block range request failed')
      return { kind: 'failed' }
    }
  }

  /** Imports a range in order; a malformed or invalid block gets its peer dropped and ends the range. */
  private async importRange(peerId: string, blocks: Uint8Array[]): Promise<'ok' | 'bad'> {
    const { chain, network, log } = this.deps
    // Decoded up to the first malformed block, whose error ends the range once the blocks before it are imported.
    const decoded: SealedBlock[] = []
    let malformed: Error | undefined
    for (const bytes of blocks) {
      try {
        decoded.push(decodeSealedBlock(RLP.encode(bytes as never) as Uint8Array, this.deps.spec.common))
      } catch (err) {
        malformed = err as Error
        break
      }
    }
    // Every block's senders are recovered off the event loop while the blocks before it execute.
    for (const sealed of decoded) {
      if (sealed.block.header.number > chain.head.header.number) {
        this.deps.recoverSenders(sealed.block.transactions).catch(() => {})
      }
    }
    for (const sealed of decoded) {
      const number = sealed.block.header.number
      if (number <= chain.head.header.number) continue
      try {
        await this.deps.importBlock(sealed)
      } catch (err) {
        log.warn({ err, peer: peerId, number: Number(number) }, 'synced block refused')
        // A block that fails its checks is never imported, and the peer that served it is dropped.
        if (err instanceof BlockImportError && !BENIGN_IMPORT_CODES.has(err.code)) {
          await network.punish(peerId, `served block ${number}: ${(err as Error).message}`)
          return 'bad'
        }
        return 'ok'
      }
      this.recordProgress(sealed.block.transactions.length)
    }
    if (malformed !== undefined) {
      await network.punish(peerId, `served a malformed block: ${malformed.message}`)
      return 'bad'
    }
    return 'ok'
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
