import type { Block } from '@ethereumjs/block'
import { equalsBytes } from '@ethereumjs/util'
import { BlockImportError, type ConsensusRules, type SealedBlock } from '../../chain/index.js'
import type { QbftParams } from '../../genesis/index.js'
import { ISTANBUL_MIX_HASH, QBFT_DIFFICULTY } from './constants.js'
import { QbftError } from './errors.js'
import { decodeExtraData } from './extraData.js'
import { compareAddresses, containsAddress, sortValidators } from './proposer.js'
import { type SealCrypto, validateSeals } from './seals.js'

const ZERO_NONCE = new Uint8Array(8)

/**
 * Besu's QBFT header rules for a block following `parent`: constant fields, timestamps, the validator list,
 * the proposer in coinbase, and committed seals from a quorum of the validators after the parent.
 */
export class QbftRules implements ConsensusRules {
  constructor(
    private readonly params: QbftParams,
    private readonly crypto: SealCrypto,
    private readonly now: () => number = Date.now,
  ) {}

  /** Validators that decide the block after `parent`: those listed in the parent's extraData, sorted. */
  validatorsAfter(parent: Block): Uint8Array[] {
    return sortValidators(decodeExtraData(parent.header.extraData).validators)
  }

  validateBlock(sealed: SealedBlock, parent: Block): void {
    const { header } = sealed.block
    const number = header.number
    if (header.difficulty !== QBFT_DIFFICULTY) {
      throw new BlockImportError('INVALID_HEADER', `block ${number} difficulty ${header.difficulty}, QBFT requires 1`)
    }
    if (!equalsBytes(header.mixHash, ISTANBUL_MIX_HASH)) {
      throw new BlockImportError('INVALID_HEADER', `block ${number} mixHash is not the Istanbul digest`)
    }
    if (!equalsBytes(header.nonce, ZERO_NONCE)) {
      throw new BlockImportError('INVALID_HEADER', `block ${number} nonce must be zero`)
    }
    const minimum = parent.header.timestamp + BigInt(this.params.blockPeriodSeconds)
    if (header.timestamp < minimum) {
      throw new BlockImportError(
        'INVALID_TIMESTAMP',
        `block ${number} timestamp ${header.timestamp} is earlier than parent + block period (${minimum})`,
      )
    }
    const latest = BigInt(Math.floor(this.now() / 1000) + 1)
    if (header.timestamp > latest) {
      throw new BlockImportError('INVALID_TIMESTAMP', `block ${number} timestamp ${header.timestamp} is in the future`)
    }
    let extra: ReturnType<typeof decodeExtraData>
    try {
      extra = decodeExtraData(header.extraData)
    } catch (e) {
      throw new BlockImportError('INVALID_HEADER', `block ${number} extraData: ${(e as Error).message}`)
    }
    if (extra.round !== 0 || extra.committedSeals.length > 0) {
      throw new BlockImportError(
        'INVALID_HEADER',
        `block ${number} header must be in its hashing form (round 0, no seals)`,
      )
    }
    const validators = this.validatorsAfter(parent)
    const listed = extra.validators
    const sameSet = listed.length === validators.length && listed.every((v, i) => equalsBytes(v, validators[i]))
    const sorted = listed.every((v, i) => i === 0 || compareAddresses(listed[i - 1], v) < 0)
    if (!sameSet || !sorted) {
      throw new BlockImportError(
        'INVALID_VALIDATORS',
        `block ${number} lists validators that are not the set after its parent`,
      )
    }
    if (!containsAddress(validators, header.coinbase.bytes)) {
      throw new BlockImportError('INVALID_PROPOSER', `block ${number} proposer ${header.coinbase} is not a validator`, {
        proposer: header.coinbase.toString(),
      })
    }
    try {
      validateSeals(header, sealed.seals.round, sealed.seals.committedSeals, validators, this.crypto)
    } catch (e) {
      if (e instanceof QbftError) {
        throw new BlockImportError('INVALID_SEALS', `block ${number}: ${e.message}`, { reason: e.code, ...e.data })
      }
      throw e
    }
  }
}
