/**
 * Header hashes of Besu's BftBlockHashing: the normal Ethereum header RLP with only extraData substituted.
 * As in Besu, a genesis header (number 0) is hashed with its extraData untouched, so these functions also
 * give the right genesis hash even when its extraData is not canonical QBFT.
 */
import type { BlockHeader } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import {
  commitSealExtraData,
  decodeExtraData,
  encodeExtraData,
  hashingExtraData,
  type QbftExtraData,
} from './extraData.js'

export type Keccak256 = (data: Uint8Array) => Uint8Array

/** Position of extraData in header.raw() (yellow-paper field order). */
const EXTRA_DATA_INDEX = 12

function hashWithExtraData(
  header: BlockHeader,
  keccak256: Keccak256,
  substitute: (extra: QbftExtraData) => QbftExtraData,
): Uint8Array {
  const raw = header.raw()
  if (header.number !== 0n) raw[EXTRA_DATA_INDEX] = encodeExtraData(substitute(decodeExtraData(header.extraData)))
  return keccak256(RLP.encode(raw))
}

/** On-chain block hash: round 0 and no seals, so it is the same for every round's proposal of this block. */
export function blockHashForHeader(header: BlockHeader, keccak256: Keccak256): Uint8Array {
  return hashWithExtraData(header, keccak256, hashingExtraData)
}

/** Digest each committer signs: extraData with `round` and without seals. */
export function commitSealHash(header: BlockHeader, round: number, keccak256: Keccak256): Uint8Array {
  return hashWithExtraData(header, keccak256, (extra) => commitSealExtraData(extra, round))
}
