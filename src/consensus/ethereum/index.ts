/**
 * Block rules of chains that are not QBFT (genesis kind 'ethereum': e.g. a proof-of-work chain merged to proof of
 * stake, as Ethereum's test chains are). Such a chain is imported from a block file, not sealed here: proof of work is
 * not verified (test chains carry fake seals), but a proof-of-work block's difficulty must follow the canonical
 * difficulty rule, and a proof-of-stake block must have none. Everything else a header must satisfy against its
 * parent (gas limit, base fee, blob gas, ommers) is checked by the chain through @ethereumjs before this runs.
 */
import type { Block } from '@ethereumjs/block'
import { BlockImportError, type ConsensusRules, type SealedBlock } from '../../chain/index.js'

export class EthereumRules implements ConsensusRules {
  validateBlock(sealed: SealedBlock, parent: Block): void {
    this.validateHeader(sealed.block, parent)
  }

  validateHeader(block: Block, parent: Block): void {
    const { header } = block
    if (header.common.consensusType() === 'pow') {
      const expected = header.ethashCanonicalDifficulty(parent.header)
      if (header.difficulty !== expected) {
        throw new BlockImportError(
          'INVALID_HEADER',
          `block ${header.number} difficulty ${header.difficulty}, expected ${expected}`,
        )
      }
    } else if (header.difficulty !== 0n) {
      throw new BlockImportError(
        'INVALID_HEADER',
        `proof-of-stake block ${header.number} has difficulty ${header.difficulty}`,
      )
    }
  }
}
