import { type BlockHeader, createBlockHeader } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { ISTANBUL_MIX_HASH, QBFT_DIFFICULTY } from '../../../../src/consensus/qbft/constants.js'
import { encodeExtraData, type QbftExtraData } from '../../../../src/consensus/qbft/extraData.js'
import { sortValidators } from '../../../../src/consensus/qbft/proposer.js'
import { createCrypto } from '../../../../src/crypto/index.js'

export const crypto = createCrypto()
export const common = new Common({ chain: Mainnet, hardfork: Hardfork.London })

export interface TestValidator {
  privateKey: Uint8Array
  address: Uint8Array
}

/** Deterministic keys 0x…01, 0x…02, …; returned sorted by address like a validator set. */
export function makeValidators(count: number, firstKey = 1): TestValidator[] {
  const validators = Array.from({ length: count }, (_, i) => {
    const privateKey = new Uint8Array(32)
    privateKey[31] = firstKey + i
    return { privateKey, address: crypto.privateKeyToAddress(privateKey) }
  })
  const sorted = sortValidators(validators.map((v) => v.address))
  return sorted.map((address) => validators.find((v) => v.address === address)!)
}

export function address(lastByte: number): Uint8Array {
  const a = new Uint8Array(20)
  a[19] = lastByte
  return a
}

export function extraDataFor(validators: Uint8Array[], overrides: Partial<QbftExtraData> = {}): QbftExtraData {
  return { vanity: new Uint8Array(32), validators, vote: undefined, round: 0, committedSeals: [], ...overrides }
}

export function makeHeader(extra: QbftExtraData, number = 1n, coinbase?: Uint8Array): BlockHeader {
  return createBlockHeader(
    {
      number,
      coinbase: coinbase ?? extra.validators[0],
      extraData: encodeExtraData(extra),
      mixHash: ISTANBUL_MIX_HASH,
      difficulty: QBFT_DIFFICULTY,
      gasLimit: 30_000_000n,
      timestamp: 1_700_000_000n,
      baseFeePerGas: 7n,
    },
    // QBFT extraData exceeds mainnet's 32-byte limit; consensus format rules are ours, not ethash's.
    { common, skipConsensusFormatValidation: true },
  )
}
