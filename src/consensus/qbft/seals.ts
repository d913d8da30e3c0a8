import type { BlockHeader } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'
import type { Crypto } from '../../crypto/index.js'
import { QbftError } from './errors.js'
import { decodeExtraData } from './extraData.js'
import { commitSealHash } from './hashing.js'
import { containsAddress } from './proposer.js'
import { quorum } from './quorum.js'

export type SealCrypto = Pick<Crypto, 'keccak256' | 'sign' | 'recoverAddress'>

/** The 65-byte seal a validator contributes when committing `header` in `round` (Besu QbftRound.createCommitSeal). */
export function createCommitSeal(
  header: BlockHeader,
  round: number,
  privateKey: Uint8Array,
  crypto: SealCrypto,
): Uint8Array {
  return crypto.sign(commitSealHash(header, round, crypto.keccak256), privateKey)
}

/** Addresses recovered from the header's committed seals, in seal order (duplicates kept). */
export function recoverCommitters(header: BlockHeader, crypto: SealCrypto): Uint8Array[] {
  const extra = decodeExtraData(header.extraData)
  return recoverSealers(header, extra.round, extra.committedSeals, crypto)
}

/** Addresses that signed `seals` for `header` committed in `round`; the header's own seals are ignored. */
export function recoverSealers(
  header: BlockHeader,
  round: number,
  seals: readonly Uint8Array[],
  crypto: SealCrypto,
): Uint8Array[] {
  const hash = commitSealHash(header, round, crypto.keccak256)
  return seals.map((seal, index) => {
    try {
      return crypto.recoverAddress(hash, seal)
    } catch (err) {
      throw new QbftError('INVALID_SEAL', 'committed seal does not recover to an address', {
        index,
        seal: bytesToHex(seal),
        reason: (err as Error).message,
      })
    }
  })
}

/**
 * Besu's BftCommitSealsValidationRule: distinct committers, all in `validators` (the set after the parent),
 * at least quorum(n) of them. Returns the committers.
 */
export function validateCommittedSeals(
  header: BlockHeader,
  validators: readonly Uint8Array[],
  crypto: SealCrypto,
): Uint8Array[] {
  return checkCommitters(recoverCommitters(header, crypto), validators)
}

/** The same rule for seals kept beside a header in its hashing form (as the chain stores blocks). */
export function validateSeals(
  header: BlockHeader,
  round: number,
  seals: readonly Uint8Array[],
  validators: readonly Uint8Array[],
  crypto: SealCrypto,
): Uint8Array[] {
  return checkCommitters(recoverSealers(header, round, seals, crypto), validators)
}

function checkCommitters(committers: Uint8Array[], validators: readonly Uint8Array[]): Uint8Array[] {
  const seen: Uint8Array[] = []
  for (const committer of committers) {
    if (containsAddress(seen, committer)) {
      throw new QbftError('DUPLICATE_SEAL', 'more than one committed seal from the same validator', {
        committer: bytesToHex(committer),
      })
    }
    if (!containsAddress(validators, committer)) {
      throw new QbftError('SEAL_NOT_FROM_VALIDATOR', 'committed seal from an address outside the validator set', {
        committer: bytesToHex(committer),
      })
    }
    seen.push(committer)
  }
  // An empty validator set must not make an unsealed block acceptable.
  const required = Math.max(1, quorum(validators.length))
  if (committers.length < required) {
    throw new QbftError('INSUFFICIENT_SEALS', 'not enough committed seals', {
      seals: committers.length,
      required,
      validators: validators.length,
    })
  }
  return committers
}
