import type { Block } from '@ethereumjs/block'
import { equalsBytes } from '@ethereumjs/util'
import { BlockImportError, type ConsensusRules, type SealedBlock } from '../../chain/index.js'
import type { QbftParams } from '../../genesis/index.js'
import { ISTANBUL_MIX_HASH, QBFT_DIFFICULTY } from './constants.js'
import { QbftError } from './errors.js'
import { decodeExtraData } from './extraData.js'
import { compareAddresses, containsAddress } from './proposer.js'
import { type SealCrypto, validateSeals } from './seals.js'
import { headerView, type ValidatorProvider } from './validators.js'

const ZERO_NONCE = new Uint8Array(8)

/**
 * Besu's QBFT header rules for a block following `parent`: constant fields, timestamps, the validator list,
 * the proposer in coinbase, and committed seals from a quorum of the validators after the parent.
 */
export class QbftRules implements ConsensusRules {
  constructor(
    private readonly params: QbftParams,
    private readonly crypto: SealCrypto,
    private readonly validators: ValidatorProvider,
    private readonly now: () => number = Date.now,
  ) {}

  /** Validators that decide the block after `parent` (its listed set with the votes up to it applied). */
  validatorsAfter(parent: Block): Promise<Uint8Array[]> {
    return this.validators.validatorsAfter(headerView(parent.header))
  }

  async validateBlock(sealed: SealedBlock, parent: Block): Promise<void> {
    const validators = await this.validateHeader(sealed.block, parent)
    const { seals } = sealed
    if (seals === undefined) throw new BlockImportError('INVALID_SEALS', 'block has no committed seals')
    try {
      validateSeals(sealed.block.header, seals.round, seals.committedSeals, validators, this.crypto)
    } catch (e) {
      if (e instanceof QbftError) {
        throw new BlockImportError('INVALID_SEALS', `block ${sealed.block.header.number}: ${e.message}`, {
          reason: e.code,
          ...e.data,
        })
      }
      throw e
    }
  }

  /**
   * Every rule but the seals, for a block in its hashing form (also what a proposal must satisfy before it is
   * executed). Returns the validators deciding the block.
   */
  async validateHeader(block: Block, parent: Block): Promise<Uint8Array[]> {
    const { header } = block
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
    const validators = await this.validatorsAfter(parent)
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
    return validators
  }
}
