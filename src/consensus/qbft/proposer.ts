import { bytesToHex } from '@ethereumjs/util'
import { QbftError } from './errors.js'

/** Unsigned lexicographic order, the order of Besu's Address (and of 20-byte big-endian integers). */
export function compareAddresses(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i]
  }
  return a.length - b.length
}

/** Returns a new array sorted ascending by byte order. */
export function sortValidators(addresses: readonly Uint8Array[]): Uint8Array[] {
  return [...addresses].sort(compareAddresses)
}

export function containsAddress(list: readonly Uint8Array[], address: Uint8Array): boolean {
  return indexOfAddress(list, address) !== -1
}

export function indexOfAddress(list: readonly Uint8Array[], address: Uint8Array): number {
  return list.findIndex((a) => compareAddresses(a, address) === 0)
}

function checkSortedDistinct(validators: readonly Uint8Array[]): void {
  if (validators.length === 0) throw new QbftError('INVALID_VALIDATORS', 'validator set is empty')
  for (let i = 1; i < validators.length; i++) {
    if (compareAddresses(validators[i - 1], validators[i]) >= 0) {
      throw new QbftError('INVALID_VALIDATORS', 'validators must be sorted ascending and distinct', {
        index: i,
        address: bytesToHex(validators[i]),
      })
    }
  }
}

/**
 * Proposer of `round` at the next height, as Besu's BftProposerSelector with changeEachBlock = true.
 * `validators` is the sorted set after the parent block; `previousProposer` is the parent's coinbase, or
 * undefined for the block after genesis (which starts at index 0).
 */
export function selectProposer(
  validators: readonly Uint8Array[],
  previousProposer: Uint8Array | undefined,
  round: number,
): Uint8Array {
  checkSortedDistinct(validators)
  if (!Number.isSafeInteger(round) || round < 0) throw new QbftError('INVALID_ROUND', 'round must be >= 0', { round })
  const n = validators.length
  if (previousProposer === undefined) return validators[round % n]
  const previousIndex = indexOfAddress(validators, previousProposer)
  if (previousIndex !== -1) return validators[(previousIndex + 1 + round) % n]
  // A removed proposer hands over to the first validator above it in sort order, wrapping to the first.
  const next = validators.findIndex((v) => compareAddresses(v, previousProposer) > 0)
  return validators[((next === -1 ? 0 : next) + round) % n]
}
