import { type NestedUint8Array, RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt, bytesToHex, equalsBytes } from '@ethereumjs/util'
import { NetworkError } from './errors.js'

/** What a node says about itself in the `/polis/status/1` handshake. */
export interface ChainStatus {
  chainId: bigint
  genesisHash: Uint8Array
  head: { number: bigint; hash: Uint8Array }
}

/** RLP `[chainId, genesisHash, headNumber, headHash]`. */
export function encodeStatus(status: ChainStatus): Uint8Array {
  return RLP.encode([
    bigIntToUnpaddedBytes(status.chainId),
    status.genesisHash,
    bigIntToUnpaddedBytes(status.head.number),
    status.head.hash,
  ])
}

export function decodeStatus(bytes: Uint8Array): ChainStatus {
  let decoded: Uint8Array | NestedUint8Array
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw new NetworkError('MALFORMED_STATUS', { reason: (err as Error).message })
  }
  if (!Array.isArray(decoded) || decoded.length !== 4 || !decoded.every((item) => item instanceof Uint8Array)) {
    throw new NetworkError('MALFORMED_STATUS', { reason: 'expected a list of 4 byte strings' })
  }
  const [chainId, genesisHash, headNumber, headHash] = decoded as Uint8Array[]
  if (genesisHash.length !== 32 || headHash.length !== 32) {
    throw new NetworkError('MALFORMED_STATUS', { reason: 'hashes must be 32 bytes' })
  }
  if (chainId.length > 32 || headNumber.length > 8) {
    throw new NetworkError('MALFORMED_STATUS', { reason: 'integer too long' })
  }
  if ((chainId.length > 0 && chainId[0] === 0) || (headNumber.length > 0 && headNumber[0] === 0)) {
    throw new NetworkError('MALFORMED_STATUS', { reason: 'integer with leading zero' })
  }
  return {
    chainId: bytesToBigInt(chainId),
    genesisHash,
    head: { number: bytesToBigInt(headNumber), hash: headHash },
  }
}

/** Why a peer's status rules it out (another chain), or undefined when it is on our chain. */
export function statusMismatch(ours: ChainStatus, theirs: ChainStatus): string | undefined {
  if (ours.chainId !== theirs.chainId) return `chain id ${theirs.chainId} != ${ours.chainId}`
  if (!equalsBytes(ours.genesisHash, theirs.genesisHash)) {
    return `genesis ${bytesToHex(theirs.genesisHash)} != ${bytesToHex(ours.genesisHash)}`
  }
  return undefined
}
