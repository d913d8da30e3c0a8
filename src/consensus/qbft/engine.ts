import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address, bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Chain } from '../../chain/index.js'
import { expectedBaseFee } from '../../chain/index.js'
import type { Crypto } from '../../crypto/index.js'
import type { Execution } from '../../execution/index.js'
import type { ChainSpec } from '../../genesis/index.js'
import { ISTANBUL_MIX_HASH, QBFT_DIFFICULTY } from './constants.js'
import { encodeExtraData } from './extraData.js'
import { containsAddress } from './proposer.js'
import type { QbftRules } from './rules.js'
import { createCommitSeal } from './seals.js'

/** What the engine needs from the transaction pool. */
export interface PendingTransactions {
  selectForBlock(baseFeePerGas: bigint, gasLimit: bigint): TypedTransaction[]
  onBlockImported(included: TypedTransaction[]): Promise<void>
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

export interface QbftEngineDeps {
  spec: ChainSpec
  chain: Chain
  execution: Execution
  txpool: PendingTransactions
  rules: QbftRules
  crypto: Crypto
  log: Logger
  clock?: Clock
  /** This node's validator key; without one the node only follows. */
  validatorKey?: Uint8Array
}

/** Share of the block period a proposer spends adding transactions, leaving time to seal and import. */
const BUILD_SHARE = 0.75

/**
 * Drives block production. With a single validator the quorum is 1: at each block time the validator proposes,
 * executes, seals and imports the block itself. Networked rounds with several validators come with the QBFT
 * message layer; until then a node whose validator set has more than one member does not produce blocks.
 */
export class QbftEngine {
  private timer: { cancel(): void } | undefined
  private running = false
  private producing: Promise<void> = Promise.resolve()
  private readonly clock: Clock
  private readonly address: Uint8Array | undefined

  constructor(private readonly deps: QbftEngineDeps) {
    this.clock = deps.clock ?? systemClock
    this.address = deps.validatorKey ? deps.crypto.privateKeyToAddress(deps.validatorKey) : undefined
  }

  get validatorAddress(): Uint8Array | undefined {
    return this.address
  }

  start(): void {
    const validators = this.deps.rules.validatorsAfter(this.deps.chain.head)
    if (this.address === undefined || !containsAddress(validators, this.address)) {
      this.deps.log.info({ validators: validators.map((v) => bytesToHex(v)) }, 'not a validator: following only')
      return
    }
    if (validators.length > 1) {
      throw new Error(
        `the validator set has ${validators.length} members; this node can only seal a single-validator chain`,
      )
    }
    this.running = true
    this.schedule()
  }

  async stop(): Promise<void> {
    this.running = false
    this.timer?.cancel()
    await this.producing
  }

  /** Arms the block timer: at parent time + block period, or at `retryAt` (ms) after a skipped empty block. */
  private schedule(retryAt?: number): void {
    if (!this.running) return
    const { blockPeriodSeconds } = this.deps.spec.qbft
    const parent = this.deps.chain.head
    const due = retryAt ?? (Number(parent.header.timestamp) + blockPeriodSeconds) * 1000
    this.timer = this.clock.setTimeout(
      () => {
        let next: number | undefined
        this.producing = this.produce()
          .then((retry) => {
            next = retry
          })
          .finally(() => this.schedule(next))
      },
      Math.max(0, due - this.clock.now()),
    )
  }

  /** Proposes, seals and imports the next block; returns when to try again if it chose to skip an empty block. */
  private async produce(): Promise<number | undefined> {
    if (!this.running || this.address === undefined || this.deps.validatorKey === undefined) return undefined
    const { spec, chain, execution, txpool, log } = this.deps
    const parent = chain.head
    const { blockPeriodSeconds, emptyBlockPeriodSeconds } = spec.qbft
    const nowSeconds = Math.floor(this.clock.now() / 1000)
    const timestamp = BigInt(Math.max(Number(parent.header.timestamp) + blockPeriodSeconds, nowSeconds))
    const baseFeePerGas = expectedBaseFee(spec, parent.header)
    const gasLimit = parent.header.gasLimit
    const candidates = txpool.selectForBlock(baseFeePerGas, gasLimit)
    if (
      candidates.length === 0 &&
      emptyBlockPeriodSeconds > 0 &&
      timestamp < parent.header.timestamp + BigInt(emptyBlockPeriodSeconds)
    ) {
      // Besu's empty-block period: no empty block before it has passed; look again after one block period.
      const emptyDue = (Number(parent.header.timestamp) + emptyBlockPeriodSeconds) * 1000
      return Math.min(emptyDue, this.clock.now() + blockPeriodSeconds * 1000)
    }
    const extraData = encodeExtraData({
      vanity: new Uint8Array(32),
      validators: this.deps.rules.validatorsAfter(parent),
      vote: undefined,
      round: 0,
      committedSeals: [],
    })
    const started = this.clock.now()
    let block: Block
    try {
      const built = await execution.buildBlock(
        parent,
        {
          timestamp,
          gasLimit,
          baseFeePerGas,
          coinbase: new Address(this.address),
          difficulty: QBFT_DIFFICULTY,
          mixHash: ISTANBUL_MIX_HASH,
          nonce: new Uint8Array(8),
          extraData,
        },
        candidates,
        { deadline: started + blockPeriodSeconds * 1000 * BUILD_SHARE },
      )
      block = built.block
      const seal = createCommitSeal(block.header, 0, this.deps.validatorKey, this.deps.crypto)
      await chain.importBlock({ block, seals: { round: 0, committedSeals: [seal] } }, { receipts: built.receipts })
      if (built.rejected.some((r) => r.invalid)) {
        log.debug({ rejected: built.rejected.filter((r) => r.invalid).map((r) => r.reason) }, 'transactions left out')
      }
    } catch (e) {
      log.error({ err: e, number: parent.header.number + 1n }, 'block production failed')
      if (!equalsBytes(execution.stateRoot, parent.header.stateRoot)) await execution.reset(parent.header.stateRoot)
      return this.clock.now() + blockPeriodSeconds * 1000
    }
    await txpool.onBlockImported(block.transactions as TypedTransaction[])
    log.info(
      {
        number: Number(block.header.number),
        hash: bytesToHex(block.hash()),
        txs: block.transactions.length,
        gasUsed: Number(block.header.gasUsed),
        ms: this.clock.now() - started,
      },
      'sealed block',
    )
    return undefined
  }
}
