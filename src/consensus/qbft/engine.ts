/**
 * The QBFT engine: runs the pure round state machine for the next height and executes what it asks for — timers,
 * building and executing blocks, persisting what this validator signed before sending it, gossip, and importing
 * the decided block. Events are handled one at a time, in arrival order.
 */
import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address, bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { type Chain, expectedBaseFee, type SealedBlock } from '../../chain/index.js'
import type { Crypto } from '../../crypto/index.js'
import { type Database, Prefix } from '../../db/index.js'
import type { ExecutedBlock, Execution } from '../../execution/index.js'
import { type ChainSpec, qbftParams } from '../../genesis/index.js'
import { ISTANBUL_MIX_HASH, QBFT_DIFFICULTY } from './constants.js'
import { encodeExtraData } from './extraData.js'
import { step } from './machine.js'
import { machineBlockInterface, machineSigner, sealedBlockFromCommit } from './machine-block.js'
import { decodeSignedLog, encodeSignedLog } from './machine-log.js'
import { createMachine, type MachineState, type MachineStatus, machineStatus } from './machine-state.js'
import type { BlockInterface, MachineEvent, MachineOutput } from './machine-types.js'
import { classifyMessageHeight, decodeMessage, encodeSignedMessage, type QbftMessage } from './messages.js'
import { containsAddress } from './proposer.js'
import type { QbftRules } from './rules.js'
import { decodeSealedBlock, encodeSealedBlock, sealedBlockNumber } from './sealedBlock.js'
import { headerView, type ValidatorProvider } from './validators.js'
import type { VoteProposer } from './votes.js'

/** What the engine needs from the transaction pool. */
export interface PendingTransactions {
  selectForBlock(baseFeePerGas: bigint, gasLimit: bigint): TypedTransaction[]
  get(hash: Uint8Array): TypedTransaction | undefined
  onBlockImported(included: TypedTransaction[]): Promise<void>
  /** Runs `work` (building or importing a block) with new admissions held back until it is done. */
  prioritize<T>(work: () => Promise<T>): Promise<T>
}

/** Gossip for consensus messages and decided blocks; absent on a node without peers. */
export interface ConsensusTransport {
  publishMessage(bytes: Uint8Array): void
  publishBlock(bytes: Uint8Array): void
}

export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): { cancel(): void }
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    return { cancel: () => clearTimeout(t) }
  },
}

/** What the engine records (the node's `Metrics` has these; structural, so consensus never imports prom-client). */
export interface QbftMetrics {
  blockBuildSeconds: { observe(seconds: number): void }
  roundChanges: { inc(): void }
  roundTimeouts: { inc(): void }
}

export interface QbftEngineOptions {
  /** Cap of the doubling round timeout (Besu has none and stalled networks wait hours). */
  maxRoundTimeoutSeconds: number
  /** Messages kept for heights above the current one. */
  maxFutureMessages: number
  /** How often a stalled height is summarised in the log (WARN 'consensus stalled'). */
  stallLogIntervalMs: number
}

export const defaultQbftEngineOptions: QbftEngineOptions = {
  maxRoundTimeoutSeconds: 30,
  maxFutureMessages: 2000,
  stallLogIntervalMs: 10_000,
}

export interface QbftEngineDeps {
  spec: ChainSpec
  db: Database
  chain: Chain
  execution: Execution
  txpool: PendingTransactions
  rules: QbftRules
  validators: ValidatorProvider
  votes: VoteProposer
  crypto: Crypto
  log: Logger
  transport?: ConsensusTransport
  clock?: Clock
  /** This node's validator key; without one the node follows and observes. */
  validatorKey?: Uint8Array
  /** Told when a decided block beyond the next one shows up: this node has fallen behind. */
  onBehind?: (number: bigint) => void
  /** True while the node catches up from peers: a validator that is behind takes no part in consensus meanwhile. */
  syncing?: () => boolean
  metrics?: QbftMetrics
}

/** Share of the block period a proposer spends adding transactions, leaving time to seal and import. */
const BUILD_SHARE = 0.6
const SIGNED_LOG_KEY = new TextEncoder().encode('signed-log')

export class QbftEngine {
  readonly address: Uint8Array | undefined
  private readonly clock: Clock
  private readonly blocks: BlockInterface<Block>
  private machine: MachineState<Block> | undefined
  private future: QbftMessage[] = []
  private queue: Promise<void> = Promise.resolve()
  private running = false
  private blockTimer: { cancel(): void } | undefined
  private roundTimer: { cancel(): void; at: number; round: number } | undefined
  /** The block whose execution is staged right now (by build or validation), by its on-chain hash. */
  private executed: { hash: Uint8Array; result: ExecutedBlock } | undefined
  readonly dropped = new Map<string, number>()
  /** The head when it last moved, for the stall summary. */
  private lastProgress = { height: 0n, at: 0 }
  private stallTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly opts: QbftEngineOptions,
    private readonly deps: QbftEngineDeps,
  ) {
    this.clock = deps.clock ?? systemClock
    this.address = deps.validatorKey ? deps.crypto.privateKeyToAddress(deps.validatorKey) : undefined
    this.blocks = machineBlockInterface({ common: deps.spec.common, crypto: deps.crypto })
  }

  get validatorAddress(): Uint8Array | undefined {
    return this.address
  }

  get requestTimeoutSeconds(): number {
    return qbftParams(this.deps.spec).requestTimeoutSeconds
  }

  async start(): Promise<void> {
    this.running = true
    this.deps.chain.on('block', this.onChainBlock)
    this.lastProgress = { height: this.deps.chain.head.header.number, at: this.clock.now() }
    this.stallTimer = setInterval(() => this.logIfStalled(), this.opts.stallLogIntervalMs)
    this.stallTimer.unref()
    await this.enqueue(() => this.startHeight())
  }

  async stop(): Promise<void> {
    this.running = false
    if (this.stallTimer !== undefined) clearInterval(this.stallTimer)
    this.deps.chain.off('block', this.onChainBlock)
    this.blockTimer?.cancel()
    this.roundTimer?.cancel()
    await this.queue
  }

  /** A consensus message from the network. */
  onMessage(bytes: Uint8Array): void {
    let message: QbftMessage
    try {
      message = decodeMessage(bytes, this.deps.crypto)
    } catch {
      this.count('malformed')
      return
    }
    void this.enqueue(async () => {
      const machine = this.machine
      if (machine === undefined) return
      const where = classifyMessageHeight(message, machine.config.height)
      if (where === 'current') await this.feed({ type: 'message', message })
      else if (where === 'future') {
        this.future.push(message)
        if (this.future.length > this.opts.maxFutureMessages) this.future.shift()
      } else this.count('pastHeight')
    })
  }

  /** A decided block from the network: imported if it is the next one (its seals prove it was decided). */
  onBlock(bytes: Uint8Array): void {
    void this.enqueue(async () => {
      // Usually the block this node has just committed itself: look at its number before decoding its transactions.
      const number = sealedBlockNumber(bytes)
      const next = this.deps.chain.head.header.number + 1n
      if (number !== undefined && number < next) return
      let sealed: ReturnType<typeof decodeSealedBlock>
      try {
        sealed = decodeSealedBlock(bytes, this.deps.spec.common)
      } catch {
        this.count('malformedBlock')
        return
      }
      if (sealed.block.header.number > next) this.deps.onBehind?.(sealed.block.header.number)
      if (sealed.block.header.number !== next) return
      // Often the block this node has just validated, decided by the others a moment before it saw the commits.
      const executed = this.executed !== undefined && equalsBytes(this.executed.hash, sealed.block.hash())
      const result = executed ? this.executed?.result : undefined
      if (!executed) await this.resetExecution()
      this.executed = undefined
      const started = this.clock.now()
      try {
        await this.deps.chain.importBlock(sealed, result)
      } catch (e) {
        this.deps.log.warn({ err: e, number: Number(sealed.block.header.number) }, 'gossiped block refused')
        return
      }
      const { block } = sealed
      this.deps.log.info(
        {
          number: Number(block.header.number),
          hash: bytesToHex(block.hash()),
          round: sealed.seals?.round,
          txs: block.transactions.length,
          gasUsed: Number(block.header.gasUsed),
          importMs: this.clock.now() - started,
        },
        'block imported',
      )
    })
  }

  /** Imports a decided block (from sync) in step with consensus work; rejects if the chain refuses it. */
  importDecided(sealed: SealedBlock): Promise<void> {
    let result: Promise<void> = Promise.resolve()
    return this.enqueue(async () => {
      await this.resetExecution()
      result = this.deps.chain.importBlock(sealed).then(() => undefined)
      await result.catch(() => {})
    }).then(() => result)
  }

  /** The live round state, for RPC and logs. */
  status(): (MachineStatus & { roundExpiresInMs: number | undefined }) | undefined {
    if (this.machine === undefined) return undefined
    const expires = this.roundTimer ? Math.max(0, this.roundTimer.at - this.clock.now()) : undefined
    return { ...machineStatus(this.machine), roundExpiresInMs: expires }
  }

  private readonly onChainBlock = ({ block }: { block: Block }): void => {
    void this.enqueue(async () => {
      const machine = this.machine
      if (machine !== undefined && block.header.number >= machine.config.height) {
        this.executed = undefined
        // The pool drops the included transactions at once; re-reading its senders' accounts runs alongside the
        // next height rather than delaying its block timer.
        this.deps.txpool
          .onBlockImported(block.transactions as TypedTransaction[])
          .catch((err) => this.deps.log.error({ err }, 'pool update after a block failed'))
        await this.startHeight()
      }
    })
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(() => (this.running ? task() : undefined))
    this.queue = run.catch((e) => this.deps.log.error({ err: e }, 'consensus task failed'))
    return this.queue
  }

  private count(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1)
  }

  private async startHeight(): Promise<void> {
    const { chain, spec, validators } = this.deps
    this.blockTimer?.cancel()
    this.roundTimer?.cancel()
    this.roundTimer = undefined
    const parent = chain.head
    const height = parent.header.number + 1n
    const set = await validators.validatorsAfter(headerView(parent.header))
    const isValidator = this.address !== undefined && containsAddress(set, this.address)
    const stored = await this.deps.db.get(Prefix.Consensus, SIGNED_LOG_KEY)
    let log = stored ? decodeSignedLog(stored, this.deps.crypto) : undefined
    if (log !== undefined && log.height !== height) log = undefined
    this.machine = createMachine(
      {
        height,
        validators: set,
        localAddress: this.address ?? new Uint8Array(20),
        previousProposer: parent.header.number === 0n ? undefined : parent.header.coinbase.bytes,
        requestTimeoutMs: qbftParams(spec).requestTimeoutSeconds * 1000,
        maxRoundTimeoutMs: this.opts.maxRoundTimeoutSeconds * 1000,
        blocks: this.blocks,
        signer: isValidator ? machineSigner(this.deps.validatorKey as Uint8Array, this.deps.crypto) : undefined,
      },
      log,
    )
    const buffered = this.future.filter((m) => classifyMessageHeight(m, height) === 'current')
    this.future = this.future.filter((m) => classifyMessageHeight(m, height) === 'future')
    this.armBlockTimer(parent)
    for (const message of buffered) await this.feed({ type: 'message', message })
  }

  private armBlockTimer(parent: Block): void {
    const { blockPeriodSeconds } = qbftParams(this.deps.spec)
    const due = (Number(parent.header.timestamp) + blockPeriodSeconds) * 1000
    const height = parent.header.number + 1n
    this.blockTimer = this.clock.setTimeout(
      () => void this.enqueue(() => this.onBlockTimer(height)),
      Math.max(0, due - this.clock.now()),
    )
  }

  private async onBlockTimer(height: bigint): Promise<void> {
    if (this.machine?.config.height !== height) return
    const { spec, txpool, chain } = this.deps
    const { blockPeriodSeconds, emptyBlockPeriodSeconds } = qbftParams(spec)
    if (this.deps.syncing?.()) {
      // Behind the network: no proposal and no round timer for a height the others have finished; look again later.
      this.blockTimer = this.clock.setTimeout(
        () => void this.enqueue(() => this.onBlockTimer(height)),
        blockPeriodSeconds * 1000,
      )
      return
    }
    const parent = chain.head
    if (emptyBlockPeriodSeconds > 0) {
      const emptyDue = (Number(parent.header.timestamp) + emptyBlockPeriodSeconds) * 1000
      const pending = txpool.selectForBlock(expectedBaseFee(spec, parent.header), parent.header.gasLimit)
      if (pending.length === 0 && this.clock.now() < emptyDue) {
        // Besu's empty-block period: no empty block before it has passed; look again after one block period.
        const retry = Math.min(emptyDue, this.clock.now() + blockPeriodSeconds * 1000) - this.clock.now()
        this.blockTimer = this.clock.setTimeout(() => void this.enqueue(() => this.onBlockTimer(height)), retry)
        return
      }
    }
    await this.feed({ type: 'blockTimerExpired' })
  }

  private async feed(event: MachineEvent<Block>): Promise<void> {
    if (this.machine === undefined) return
    const { state, outputs } = step(this.machine, event)
    this.machine = state
    for (const output of outputs) await this.execute(output)
  }

  private async execute(output: MachineOutput<Block>): Promise<void> {
    const height = this.machine?.config.height
    switch (output.type) {
      case 'persist':
        await this.deps.db.writeNow(Prefix.Consensus, SIGNED_LOG_KEY, encodeSignedLog(output.log))
        return
      case 'broadcast':
        this.deps.transport?.publishMessage(encodeSignedMessage(output.message))
        return
      case 'armRoundTimer': {
        this.roundTimer?.cancel()
        const timer = this.clock.setTimeout(
          () => void this.enqueue(() => this.onRoundTimer(height, output.round)),
          output.ms,
        )
        this.roundTimer = { cancel: timer.cancel, at: this.clock.now() + output.ms, round: output.round }
        if (output.round > 0) {
          this.deps.metrics?.roundChanges.inc()
          this.logRound(output.round, output.ms)
        }
        return
      }
      case 'buildBlock':
        await this.build(output.round)
        return
      case 'validateBlock':
        await this.feed({
          type: 'blockValidated',
          round: output.round,
          digest: output.digest,
          valid: await this.validate(output.block),
        })
        return
      case 'commit':
        await this.commit(output.block, output.round, output.seals)
        return
      case 'dropped':
        this.count(output.reason)
        return
    }
  }

  private async onRoundTimer(height: bigint | undefined, round: number): Promise<void> {
    if (height === undefined || this.machine?.config.height !== height) return
    this.deps.metrics?.roundTimeouts.inc()
    await this.feed({ type: 'roundTimerExpired', round })
  }

  /**
   * While no block is decided, a WARN summary every `stallLogIntervalMs`: the height, how long it has been stuck, the
   * round and its proposer, the quorum, who asked for which round change, and what this node dropped — what an
   * operator of a stalled network needs to see without turning on debug logs.
   */
  private logIfStalled(): void {
    const head = this.deps.chain.head.header.number
    const now = this.clock.now()
    if (head !== this.lastProgress.height) {
      this.lastProgress = { height: head, at: now }
      return
    }
    const { blockPeriodSeconds } = qbftParams(this.deps.spec)
    const stuckMs = now - this.lastProgress.at
    if (stuckMs < Math.max(this.opts.stallLogIntervalMs, 3 * blockPeriodSeconds * 1000)) return
    const status = this.status()
    if (status === undefined) return
    this.deps.log.warn(
      {
        height: Number(status.height),
        stuckSeconds: Math.round(stuckMs / 1000),
        round: status.round,
        proposer: bytesToHex(status.proposer),
        quorum: status.quorum,
        preparedRound: status.preparedRound,
        roundChanges: status.roundChanges.map((r) => ({ round: r.round, from: r.authors.map((a) => bytesToHex(a)) })),
        roundExpiresInMs: status.roundExpiresInMs,
        dropped: { ...status.dropped, ...Object.fromEntries(this.dropped) },
      },
      'consensus stalled: no block decided',
    )
  }

  private logRound(round: number, ms: number): void {
    const status = this.status()
    this.deps.log.info(
      {
        height: Number(status?.height),
        round,
        expiresInMs: ms,
        proposer: status ? bytesToHex(status.proposer) : undefined,
        quorum: status?.quorum,
        roundChanges: status?.roundChanges.map((r) => ({ round: r.round, from: r.authors.length })),
      },
      'round change',
    )
  }

  /** Drops staged execution (an abandoned proposal) so that the head state is clean. */
  private async resetExecution(): Promise<void> {
    const { execution, chain } = this.deps
    this.executed = undefined
    if (!equalsBytes(execution.stateRoot, chain.head.header.stateRoot))
      await execution.reset(chain.head.header.stateRoot)
  }

  private async build(round: number): Promise<void> {
    const { spec, chain, execution, txpool, votes, validators } = this.deps
    if (this.address === undefined) return
    await this.resetExecution()
    const parent = chain.head
    const { blockPeriodSeconds } = qbftParams(spec)
    const timestamp = BigInt(
      Math.max(Number(parent.header.timestamp) + blockPeriodSeconds, Math.floor(this.clock.now() / 1000)),
    )
    const baseFeePerGas = expectedBaseFee(spec, parent.header)
    const tally = await validators.tallyAfter(headerView(parent.header))
    const extraData = encodeExtraData({
      vanity: new Uint8Array(32),
      validators: tally.validators(),
      vote: votes.nextVote(tally, this.address),
      round,
      committedSeals: [],
    })
    const coinbase = new Address(this.address)
    const started = this.clock.now()
    // Admissions wait while the block is built: with a burst in flight they would otherwise take the event loop at
    // every await of the execution and the block would miss its slot.
    const built = await txpool.prioritize(() =>
      execution.buildBlock(
        parent,
        {
          timestamp,
          gasLimit: parent.header.gasLimit,
          baseFeePerGas,
          coinbase,
          difficulty: QBFT_DIFFICULTY,
          mixHash: ISTANBUL_MIX_HASH,
          nonce: new Uint8Array(8),
          extraData,
        },
        txpool.selectForBlock(baseFeePerGas, parent.header.gasLimit),
        { deadline: started + blockPeriodSeconds * 1000 * BUILD_SHARE },
      ),
    )
    this.deps.metrics?.blockBuildSeconds.observe((this.clock.now() - started) / 1000)
    this.executed = {
      hash: sealedBlockFromCommit(built.block, round, []).block.hash(),
      result: { receipts: built.receipts, touches: built.touches },
    }
    this.deps.log.debug(
      {
        number: Number(parent.header.number + 1n),
        round,
        txs: built.block.transactions.length,
        ms: this.clock.now() - started,
      },
      'built proposal',
    )
    await this.feed({ type: 'blockBuilt', round, block: built.block })
  }

  /** Executes a proposed block on the head state (staged, not written) and says whether it is valid. */
  private async validate(block: Block): Promise<boolean> {
    const { chain, execution } = this.deps
    const stored = sealedBlockFromCommit(block, 0, []).block
    if (this.executed !== undefined && equalsBytes(this.executed.hash, stored.hash())) return true
    await this.resetExecution()
    const started = this.clock.now()
    // Senders of transactions this node already admitted were recovered then: do not recover them again.
    for (const tx of stored.transactions) {
      const pooled = this.deps.txpool.get(tx.hash())
      if (pooled?.cache.senderPubKey !== undefined) tx.cache.senderPubKey = pooled.cache.senderPubKey
    }
    try {
      await chain.checkCandidate(stored)
      this.executed = { hash: stored.hash(), result: await execution.runBlock(stored, chain.head) }
      this.deps.log.debug(
        { number: Number(block.header.number), txs: block.transactions.length, ms: this.clock.now() - started },
        'validated proposal',
      )
      return true
    } catch (e) {
      this.deps.log.warn({ err: e, number: Number(block.header.number) }, 'invalid proposal')
      await this.resetExecution()
      return false
    }
  }

  private async commit(block: Block, round: number, seals: Uint8Array[]): Promise<void> {
    const { chain, transport, log } = this.deps
    const sealed = sealedBlockFromCommit(block, round, seals)
    const executed = this.executed !== undefined && equalsBytes(this.executed.hash, sealed.block.hash())
    if (!executed) await this.resetExecution()
    const result = executed ? this.executed?.result : undefined
    this.executed = undefined
    const started = this.clock.now()
    await this.deps.txpool.prioritize(() => chain.importBlock(sealed, result))
    transport?.publishBlock(encodeSealedBlock(sealed))
    log.info(
      {
        number: Number(block.header.number),
        hash: bytesToHex(sealed.block.hash()),
        round,
        txs: block.transactions.length,
        gasUsed: Number(block.header.gasUsed),
        seals: seals.length,
        importMs: this.clock.now() - started,
      },
      'block finalized',
    )
  }
}
