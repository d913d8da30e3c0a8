/**
 * The state machine's view of real blocks. A proposed block carries its proposal round in extraData and no seals,
 * as in Besu's Proposal and RoundChange messages; its digest is the commit-seal hash (Besu decodes those blocks
 * with `BftBlockHeaderFunctions.forCommittedSeal`), which is also what every committer signs.
 */
import { Block, type BlockOptions, createBlockFromRLP, createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { SealedBlock } from '../../chain/index.js'
import { decodeExtraData, encodeExtraData, hashingExtraData, type QbftExtraData } from './extraData.js'
import { commitSealHash } from './hashing.js'
import type { BlockInterface, MachineSigner } from './machine-types.js'
import { type MessageCrypto, signPayload } from './messages.js'
import { createCommitSeal, type SealCrypto } from './seals.js'

/** Position of extraData in a header's raw fields (yellow-paper order). */
const EXTRA_DATA_INDEX = 12

export interface MachineBlockOptions {
  /** The chain's Common; a decoded block takes the hardfork of its number and time. */
  common: Common
  crypto: SealCrypto
  /** Overrides how blocks off the wire are constructed. */
  blockOptions?: BlockOptions
}

/**
 * `block` with another extraData, everything else byte-identical, under the block's own hardfork. The transaction
 * objects are shared, not re-created, so their cached hashes and recovered senders carry over.
 */
export function withExtraData(block: Block, extra: QbftExtraData): Block {
  const raw = block.header.raw()
  raw[EXTRA_DATA_INDEX] = encodeExtraData(extra)
  // QBFT extraData is longer than mainnet's 32-byte limit.
  const opts = { common: block.common, skipConsensusFormatValidation: true }
  const header = createBlockHeaderFromBytesArray(raw, opts)
  return new Block(header, block.transactions, block.uncleHeaders, block.withdrawals, opts)
}

export function machineBlockInterface({ common, crypto, blockOptions }: MachineBlockOptions): BlockInterface<Block> {
  const decodeOptions = blockOptions ?? { common, setHardfork: true, skipConsensusFormatValidation: true }
  const extras = new WeakMap<Block, QbftExtraData>()
  const extraOf = (block: Block): QbftExtraData => {
    let extra = extras.get(block)
    if (extra === undefined) {
      extra = decodeExtraData(block.header.extraData)
      extras.set(block, extra)
    }
    return extra
  }
  const round = (block: Block) => extraOf(block).round
  return {
    hash: (block) => commitSealHash(block.header, round(block), crypto.keccak256),
    number: (block) => block.header.number,
    round,
    proposer: (block) => block.header.coinbase.bytes,
    withRound(block, newRound) {
      const extra = extraOf(block)
      if (extra.round === newRound && extra.committedSeals.length === 0) return block
      return withExtraData(block, { ...extra, round: newRound, committedSeals: [] })
    },
    commitSealSigner(block, commitRound, seal) {
      try {
        return crypto.recoverAddress(commitSealHash(block.header, commitRound, crypto.keccak256), seal)
      } catch {
        return undefined
      }
    },
    encode: (block) => block.serialize(),
    decode(bytes) {
      const block = createBlockFromRLP(bytes, decodeOptions)
      // Fail here, where the machine expects it, rather than in a later round() call.
      extraOf(block)
      return block
    },
  }
}

/** This node's key as the machine uses it: message signatures and Besu commit seals. */
export function machineSigner(privateKey: Uint8Array, crypto: MessageCrypto): MachineSigner<Block> {
  return {
    signPayload: (payload) => signPayload(payload, privateKey, crypto),
    signCommitSeal: (block, round) => createCommitSeal(block.header, round, privateKey, crypto),
  }
}

/** A `commit` output as the chain imports it: header in hashing form (round 0, no seals), seals beside it. */
export function sealedBlockFromCommit(block: Block, round: number, seals: Uint8Array[]): SealedBlock {
  const stored = withExtraData(block, hashingExtraData(decodeExtraData(block.header.extraData)))
  return { block: stored, seals: { round, committedSeals: seals } }
}
