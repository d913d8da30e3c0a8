import { utf8ToBytes } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import {
  checkProposal,
  checkRoundChange,
  isHighestPrepared,
  isValidRoundChangePayload,
  type JustificationContext,
} from '../../../../src/consensus/qbft/justification.js'
import { type SimBlock, simBlockInterface } from '../../../../src/consensus/qbft/machine-sim.js'
import {
  type PreparePayload,
  type ProposalMessage,
  type RoundChangeMessage,
  type RoundChangePayload,
  type SignedPayload,
  signMessage,
  signPayload,
} from '../../../../src/consensus/qbft/messages.js'
import { crypto, makeValidators, type TestValidator } from './helpers.js'

const HEIGHT = 3n
const keys = makeValidators(4)
const validators = keys.map((k) => k.address)
const blocks = simBlockInterface(crypto)
const ctx: JustificationContext<SimBlock> = { height: HEIGHT, validators, blocks }
const outsider = makeValidators(1, 70)[0]

const block = (proposer: number, round: number, tag = ''): SimBlock => ({
  number: HEIGHT,
  round,
  proposer: validators[proposer],
  body: utf8ToBytes(`body ${proposer}${tag}`),
})
/** The block validator 0 proposed in round 0 and that validators prepared. */
const preparedBlock = block(0, 0)
const preparedDigest = blocks.hash(preparedBlock)

const prepareBy = (key: TestValidator, round = 0, digest = preparedDigest, height = HEIGHT) =>
  signPayload<PreparePayload>({ type: 'PREPARE', height, round, digest }, key.privateKey, crypto)

const roundChangeBy = (key: TestValidator, round: number, prepared?: { round: number; digest: Uint8Array }) =>
  signPayload<RoundChangePayload>({ type: 'ROUND_CHANGE', height: HEIGHT, round, prepared }, key.privateKey, crypto)

const certificate = [0, 1, 2].map((i) => prepareBy(keys[i]))

function proposalOf(
  proposer: TestValidator,
  round: number,
  b: SimBlock,
  roundChanges: SignedPayload<RoundChangePayload>[] = [],
  prepares: SignedPayload<PreparePayload>[] = [],
): ProposalMessage {
  const payload = { type: 'PROPOSAL' as const, height: HEIGHT, round, block: blocks.encode(b) }
  return signMessage(
    { type: 'PROPOSAL', payload, roundChanges, prepares },
    proposer.privateKey,
    crypto,
  ) as ProposalMessage
}

const check = (m: ProposalMessage, b: SimBlock, leader = m.signed.author) => checkProposal(m, b, leader, ctx)

describe('proposal justification (Dafny isProposalJustification)', () => {
  it('round 0: the leader proposes its own block, without justification', () => {
    expect(check(proposalOf(keys[0], 0, block(0, 0)), block(0, 0))).toEqual({ ok: true })
    expect(check(proposalOf(keys[0], 0, block(0, 0)), block(0, 0), validators[1]).ok).toBe(false)
    expect(check(proposalOf(keys[0], 0, block(1, 0)), block(1, 0)).ok).toBe(false) // coinbase is not the author
    expect(check(proposalOf(keys[0], 0, block(0, 1)), block(0, 1)).ok).toBe(false) // block round differs
    expect(check(proposalOf(keys[0], 0, block(0, 0), [], certificate), block(0, 0)).ok).toBe(false)
    const otherHeight = { ...block(0, 0), number: HEIGHT + 1n }
    expect(check(proposalOf(keys[0], 0, otherHeight), otherHeight).ok).toBe(false)
  })

  it('round r > 0 without prepared round changes: a quorum of them and a fresh block of the leader', () => {
    const rcs = [0, 2, 3].map((i) => roundChangeBy(keys[i], 1))
    const fresh = block(1, 1)
    expect(check(proposalOf(keys[1], 1, fresh, rcs), fresh)).toEqual({ ok: true })
    expect(check(proposalOf(keys[1], 1, fresh, rcs.slice(0, 2)), fresh).ok).toBe(false)
    expect(check(proposalOf(keys[1], 1, fresh, [rcs[0], rcs[0], rcs[1]]), fresh).ok).toBe(false)
    expect(check(proposalOf(keys[1], 1, fresh, [...rcs.slice(0, 2), roundChangeBy(keys[3], 2)]), fresh).ok).toBe(false)
    expect(check(proposalOf(keys[1], 1, fresh, [...rcs.slice(0, 2), roundChangeBy(outsider, 1)]), fresh).ok).toBe(false)
    expect(check(proposalOf(keys[1], 1, fresh, rcs, certificate), fresh).ok).toBe(false)
    expect(check(proposalOf(keys[1], 1, block(0, 1), rcs), block(0, 1)).ok).toBe(false)
  })

  it('round r > 0 with a prepared round change: only the highest prepared block, at the new round, with its prepares', () => {
    const rcs = [
      roundChangeBy(keys[0], 2, { round: 0, digest: preparedDigest }),
      roundChangeBy(keys[1], 2),
      roundChangeBy(keys[3], 2),
    ]
    const reproposed = blocks.withRound(preparedBlock, 2)
    // The coinbase stays validator 0's although validator 2 leads round 2.
    expect(check(proposalOf(keys[2], 2, reproposed, rcs, certificate), reproposed)).toEqual({ ok: true })
    expect(check(proposalOf(keys[2], 2, block(2, 2), rcs, certificate), block(2, 2)).ok).toBe(false)
    expect(check(proposalOf(keys[2], 2, block(2, 2), rcs), block(2, 2)).ok).toBe(false)
    expect(check(proposalOf(keys[2], 2, preparedBlock, rcs, certificate), preparedBlock).ok).toBe(false)
    expect(check(proposalOf(keys[2], 2, reproposed, rcs, certificate.slice(0, 2)), reproposed).ok).toBe(false)
    const wrongRound = [0, 1, 2].map((i) => prepareBy(keys[i], 1))
    expect(check(proposalOf(keys[2], 2, reproposed, rcs, wrongRound), reproposed).ok).toBe(false)
    const withOutsider = [...certificate.slice(0, 2), prepareBy(outsider)]
    expect(check(proposalOf(keys[2], 2, reproposed, rcs, withOutsider), reproposed).ok).toBe(false)
  })

  it('picks the highest prepared round among the round changes', () => {
    const later = block(1, 1, ' later')
    const laterDigest = blocks.hash(later)
    const rcs = [
      roundChangeBy(keys[0], 3, { round: 0, digest: preparedDigest }),
      roundChangeBy(keys[1], 3, { round: 1, digest: laterDigest }),
      roundChangeBy(keys[2], 3),
    ]
    expect(isHighestPrepared(rcs[1], rcs)).toBe(true)
    expect(isHighestPrepared(rcs[0], rcs)).toBe(false)
    expect(isHighestPrepared(rcs[2], rcs)).toBe(false)
    const laterCertificate = [0, 1, 3].map((i) => prepareBy(keys[i], 1, laterDigest))
    const olderReproposal = blocks.withRound(preparedBlock, 3)
    expect(check(proposalOf(keys[3], 3, olderReproposal, rcs, certificate), olderReproposal).ok).toBe(false)
    const reproposal = blocks.withRound(later, 3)
    expect(check(proposalOf(keys[3], 3, reproposal, rcs, laterCertificate), reproposal)).toEqual({ ok: true })
  })
})

describe('round change validity (Dafny validRoundChange, Besu RoundChangeMessageValidator)', () => {
  const message = (
    rc: SignedPayload<RoundChangePayload>,
    b: SimBlock | undefined,
    prepares: SignedPayload<PreparePayload>[] = [],
  ): RoundChangeMessage => ({
    type: 'ROUND_CHANGE',
    signed: rc,
    preparedBlock: b === undefined ? undefined : blocks.encode(b),
    prepares,
  })

  it('accepts an unprepared round change and a prepared one with its block and a quorum of prepares', () => {
    expect(checkRoundChange(message(roundChangeBy(keys[1], 1), undefined), undefined, ctx)).toEqual({ ok: true })
    const prepared = roundChangeBy(keys[1], 1, { round: 0, digest: preparedDigest })
    expect(checkRoundChange(message(prepared, preparedBlock, certificate), preparedBlock, ctx)).toEqual({ ok: true })
  })

  it('rejects prepared data that is not proven or not earlier than the target round', () => {
    const prepared = roundChangeBy(keys[1], 1, { round: 0, digest: preparedDigest })
    expect(checkRoundChange(message(prepared, undefined), undefined, ctx).ok).toBe(false)
    expect(checkRoundChange(message(prepared, preparedBlock, certificate.slice(0, 2)), preparedBlock, ctx).ok).toBe(
      false,
    )
    const other = block(0, 0, ' other')
    expect(checkRoundChange(message(prepared, other, certificate), other, ctx).ok).toBe(false)
    const notEarlier = roundChangeBy(keys[1], 1, { round: 1, digest: blocks.hash(block(0, 1)) })
    expect(isValidRoundChangePayload(notEarlier, HEIGHT, 1, validators)).toBe(false)
    expect(
      checkRoundChange(message(roundChangeBy(keys[1], 1), preparedBlock, certificate), preparedBlock, ctx).ok,
    ).toBe(false)
    expect(checkRoundChange(message(roundChangeBy(outsider, 1), undefined), undefined, ctx).ok).toBe(false)
  })
})
