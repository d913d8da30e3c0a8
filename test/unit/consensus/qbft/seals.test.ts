import { describe, expect, it } from 'vitest'
import { QbftError } from '../../../../src/consensus/qbft/errors.js'
import { decodeExtraData, type QbftExtraData } from '../../../../src/consensus/qbft/extraData.js'
import { createCommitSeal, recoverCommitters, validateCommittedSeals } from '../../../../src/consensus/qbft/seals.js'
import { crypto, extraDataFor, makeHeader, makeValidators, type TestValidator } from './helpers.js'

const validators = makeValidators(4)
const addresses = validators.map((v) => v.address)
const ROUND = 2

/** A header for `round` carrying commit seals from `signers`, as a proposer would assemble it. */
function sealedHeader(signers: TestValidator[], round = ROUND, extraSeals: Uint8Array[] = []) {
  const unsealed = makeHeader(extraDataFor(addresses, { round }))
  const seals = signers.map((s) => createCommitSeal(unsealed, round, s.privateKey, crypto))
  return makeHeader(extraDataFor(addresses, { round, committedSeals: [...seals, ...extraSeals] }))
}

function expectQbftError(fn: () => unknown, code: string): void {
  expect(fn).toThrow(QbftError)
  try {
    fn()
  } catch (err) {
    expect((err as QbftError).code).toBe(code)
  }
}

describe('createCommitSeal / recoverCommitters', () => {
  it('recovers each signer in seal order', () => {
    const header = sealedHeader([validators[2], validators[0]])
    expect(decodeExtraData(header.extraData).committedSeals).toHaveLength(2)
    expect(recoverCommitters(header, crypto)).toEqual([addresses[2], addresses[0]])
  })

  it('binds the seal to the round in the header', () => {
    const unsealed = makeHeader(extraDataFor(addresses, { round: 1 }))
    const seal = createCommitSeal(unsealed, 1, validators[0].privateKey, crypto)
    const moved = makeHeader(extraDataFor(addresses, { round: 2, committedSeals: [seal] }))
    expect(recoverCommitters(moved, crypto)[0]).not.toEqual(addresses[0])
  })

  it('throws INVALID_SEAL for a seal that recovers to no key', () => {
    const garbage = new Uint8Array(65).fill(0xff)
    garbage[64] = 0
    const header = makeHeader(extraDataFor(addresses, { committedSeals: [garbage] }))
    expectQbftError(() => recoverCommitters(header, crypto), 'INVALID_SEAL')
  })

  it('throws INVALID_SEAL for a recovery id other than 0 or 1', () => {
    const unsealed = makeHeader(extraDataFor(addresses, { round: ROUND }))
    const seal = createCommitSeal(unsealed, ROUND, validators[0].privateKey, crypto)
    seal[64] = 27
    const header = makeHeader(extraDataFor(addresses, { round: ROUND, committedSeals: [seal] }))
    expectQbftError(() => recoverCommitters(header, crypto), 'INVALID_SEAL')
  })
})

describe('validateCommittedSeals', () => {
  it('accepts seals from 3 of 4 validators (quorum) and returns the committers', () => {
    const header = sealedHeader(validators.slice(1))
    expect(validateCommittedSeals(header, addresses, crypto)).toEqual(addresses.slice(1))
  })

  it('accepts seals from all 4 validators', () => {
    expect(validateCommittedSeals(sealedHeader(validators), addresses, crypto)).toHaveLength(4)
  })

  it('rejects 2 of 4 with INSUFFICIENT_SEALS', () => {
    expectQbftError(
      () => validateCommittedSeals(sealedHeader(validators.slice(0, 2)), addresses, crypto),
      'INSUFFICIENT_SEALS',
    )
  })

  it('rejects a block without seals with INSUFFICIENT_SEALS', () => {
    expectQbftError(() => validateCommittedSeals(sealedHeader([]), addresses, crypto), 'INSUFFICIENT_SEALS')
  })

  it('rejects an empty validator set with INSUFFICIENT_SEALS', () => {
    expectQbftError(() => validateCommittedSeals(sealedHeader([]), [], crypto), 'INSUFFICIENT_SEALS')
  })

  it('rejects the same validator sealing twice with DUPLICATE_SEAL, even when the count reaches quorum', () => {
    const header = sealedHeader([validators[0], validators[1], validators[0]])
    expectQbftError(() => validateCommittedSeals(header, addresses, crypto), 'DUPLICATE_SEAL')
  })

  it('rejects a seal from outside the validator set with SEAL_NOT_FROM_VALIDATOR', () => {
    const [outsider] = makeValidators(1, 100)
    const header = sealedHeader([validators[0], validators[1], validators[2], outsider])
    expectQbftError(() => validateCommittedSeals(header, addresses, crypto), 'SEAL_NOT_FROM_VALIDATOR')
  })

  it('rejects seals made for another round (they recover to non-validators)', () => {
    const unsealed = makeHeader(extraDataFor(addresses, { round: 0 }))
    const seals = validators.slice(0, 3).map((v) => createCommitSeal(unsealed, 0, v.privateKey, crypto))
    const header = makeHeader(extraDataFor(addresses, { round: 1, committedSeals: seals }))
    expectQbftError(() => validateCommittedSeals(header, addresses, crypto), 'SEAL_NOT_FROM_VALIDATOR')
  })

  it('accepts a 1-of-1 validator set', () => {
    const [solo] = makeValidators(1)
    const extra: QbftExtraData = extraDataFor([solo.address], { round: 0 })
    const seal = createCommitSeal(makeHeader(extra), 0, solo.privateKey, crypto)
    const header = makeHeader({ ...extra, committedSeals: [seal] })
    expect(validateCommittedSeals(header, [solo.address], crypto)).toEqual([solo.address])
  })
})
