/**
 * Blocks as they travel and as clients see them (extraData with round and committed seals) versus as the chain
 * stores them (hashing-form extraData, seals kept beside the block).
 */
import { type Block, type BlockBytes, type BlockHeader, createBlockFromBytesArray } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt } from '@ethereumjs/util'
import type { SealedBlock, Seals } from '../../chain/index.js'
import { QbftError } from './errors.js'
import { decodeExtraData, encodeExtraData, hashingExtraData } from './extraData.js'

/** Position of extraData in a header's RLP list (yellow-paper order). */
const EXTRA_DATA_INDEX = 12
/** Position of the block number in an encoded header. */
const NUMBER_INDEX = 8

/** The header's full extraData: hashing form plus round and seals. Genesis keeps its own. */
export function sealedExtraData(header: BlockHeader, seals: Seals | undefined): Uint8Array {
  if (header.number === 0n || seals === undefined) return header.extraData
  const extra = decodeExtraData(header.extraData)
  return encodeExtraData({ ...extra, round: seals.round, committedSeals: seals.committedSeals })
}

/** The block's raw fields with `extraData` in place of the stored one. */
export function rawWithExtraData(block: Block, extraData: Uint8Array): BlockBytes {
  const raw = block.raw()
  const header = [...raw[0]]
  header[EXTRA_DATA_INDEX] = extraData
  return [header, ...raw.slice(1)] as unknown as BlockBytes
}

/** RLP of the sealed block, as Besu would serialise it. */
export function encodeSealedBlock(sealed: SealedBlock): Uint8Array {
  const { block, seals } = sealed
  return RLP.encode(rawWithExtraData(block, sealedExtraData(block.header, seals)) as unknown as Uint8Array[])
}

/** Splits a sealed block's extraData into the stored (hashing) form and its seals. */
/** The number of an encoded sealed block without decoding its transactions; undefined if it is malformed. */
export function sealedBlockNumber(bytes: Uint8Array): bigint | undefined {
  try {
    const header = (RLP.decode(bytes) as unknown as Uint8Array[][])[0]
    const number = Array.isArray(header) ? header[NUMBER_INDEX] : undefined
    return number instanceof Uint8Array ? bytesToBigInt(number) : undefined
  } catch {
    return undefined
  }
}

export function decodeSealedBlock(bytes: Uint8Array, common: Common): SealedBlock {
  let values: BlockBytes
  try {
    values = RLP.decode(bytes) as unknown as BlockBytes
  } catch (e) {
    throw new QbftError('INVALID_BLOCK', `block is not valid RLP: ${(e as Error).message}`)
  }
  const header = values[0] as unknown as Uint8Array[]
  if (!Array.isArray(header) || header.length <= EXTRA_DATA_INDEX)
    throw new QbftError('INVALID_BLOCK', 'malformed block header')
  const extra = decodeExtraData(header[EXTRA_DATA_INDEX])
  const stored = [...header]
  stored[EXTRA_DATA_INDEX] = encodeExtraData(hashingExtraData(extra))
  try {
    const block = createBlockFromBytesArray([stored, ...values.slice(1)] as unknown as BlockBytes, {
      common,
      setHardfork: true,
      skipConsensusFormatValidation: true,
    })
    return { block, seals: { round: extra.round, committedSeals: extra.committedSeals } }
  } catch (e) {
    throw new QbftError('INVALID_BLOCK', `block does not decode: ${(e as Error).message}`)
  }
}
