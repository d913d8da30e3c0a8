import { describe, expect, it } from 'vitest'
import { QbftError } from '../../../../src/consensus/qbft/errors.js'
import type { QbftVote } from '../../../../src/consensus/qbft/extraData.js'
import {
  isEpochBlock,
  lastEpochBlock,
  VoteProposer,
  VoteTally,
  voteThreshold,
} from '../../../../src/consensus/qbft/votes.js'
import { address } from './helpers.js'

const EPOCH = 30_000
const members = (n: number) => Array.from({ length: n }, (_, i) => address(0x10 * (i + 1)))
const outsider = address(0xee)
const add = (recipient: Uint8Array): QbftVote => ({ recipient, add: true })
const drop = (recipient: Uint8Array): QbftVote => ({ recipient, add: false })

/** Applies blocks 1, 2, … carrying `votes` as [author, vote] pairs. */
function applyVotes(tally: VoteTally, votes: [Uint8Array, QbftVote][], firstNumber = 1n): void {
  votes.forEach(([coinbase, vote], i) => {
    tally.applyBlock({ number: firstNumber + BigInt(i), coinbase, vote }, EPOCH)
  })
}

describe('voteThreshold / epochs', () => {
  it('needs more than half of the validators', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map(voteThreshold)).toEqual([1, 2, 2, 3, 3, 4, 4, 6])
  })

  it('treats block 0 and multiples of the epoch length as epoch blocks', () => {
    expect([0n, 1n, 99n, 100n, 200n].map((n) => isEpochBlock(n, 100))).toEqual([true, false, false, true, true])
    expect(lastEpochBlock(250n, 100)).toBe(200n)
    expect(lastEpochBlock(200n, 100)).toBe(200n)
    expect(() => isEpochBlock(1n, 0)).toThrow(RangeError)
  })
})

describe('VoteTally majority', () => {
  for (const n of [1, 2, 3, 4, 5, 7]) {
    const threshold = voteThreshold(n)

    it(`n = ${n}: adds a validator on the ${threshold}th distinct ADD vote`, () => {
      const validators = members(n)
      const tally = new VoteTally(validators)
      for (let k = 0; k < threshold; k++) {
        expect(tally.isValidator(outsider)).toBe(false)
        applyVotes(tally, [[validators[k], add(outsider)]], BigInt(k + 1))
      }
      expect(tally.isValidator(outsider)).toBe(true)
      expect(tally.size).toBe(n + 1)
      expect(tally.pendingVotes()).toEqual([])
    })

    it(`n = ${n}: drops a validator on the ${threshold}th distinct DROP vote`, () => {
      const validators = members(n)
      const target = validators[n - 1]
      const tally = new VoteTally(validators)
      for (let k = 0; k < threshold; k++) {
        expect(tally.isValidator(target)).toBe(true)
        applyVotes(tally, [[validators[k], drop(target)]], BigInt(k + 1))
      }
      expect(tally.isValidator(target)).toBe(false)
      expect(tally.validators()).toEqual(validators.slice(0, n - 1))
      expect(tally.pendingVotes()).toEqual([])
    })
  }

  it('returns validators ascending, whatever the input order', () => {
    const [a, b, c] = members(3)
    expect(new VoteTally([c, a, b]).validators()).toEqual([a, b, c])
  })
})

describe('VoteTally vote bookkeeping', () => {
  const [a, b, c, d] = members(4)

  it('does not double-count a repeated vote by the same validator', () => {
    const tally = new VoteTally([a, b, c, d])
    applyVotes(tally, [
      [a, add(outsider)],
      [a, add(outsider)],
      [a, add(outsider)],
      [b, add(outsider)],
    ])
    expect(tally.isValidator(outsider)).toBe(false)
    expect(tally.pendingVotes()).toEqual([{ recipient: outsider, add: [a, b], drop: [] }])
    applyVotes(tally, [[c, add(outsider)]], 10n)
    expect(tally.isValidator(outsider)).toBe(true)
  })

  it('replaces an earlier vote by the same author with the opposite one', () => {
    const tally = new VoteTally([a, b, c, d])
    applyVotes(tally, [
      [a, drop(d)],
      [b, drop(d)],
      [a, add(d)],
    ])
    expect(tally.pendingVotes()).toEqual([{ recipient: d, add: [a], drop: [b] }])
    applyVotes(tally, [[c, drop(d)]], 10n)
    expect(tally.isValidator(d)).toBe(true)
  })

  it('ignores votes whose author is not a validator', () => {
    const tally = new VoteTally([a])
    applyVotes(tally, [[outsider, add(address(0xef))]])
    applyVotes(tally, [[outsider, drop(a)]], 2n)
    expect(tally.validators()).toEqual([a])
    expect(tally.pendingVotes()).toEqual([])
  })

  it('counts ADD for a validator like Besu: no change, but a majority clears every vote for it', () => {
    const tally = new VoteTally([a, b, c, d])
    applyVotes(tally, [
      [d, drop(c)],
      [a, add(c)],
      [b, add(c)],
    ])
    expect(tally.pendingVotes()).toEqual([{ recipient: c, add: [a, b], drop: [d] }])
    applyVotes(tally, [[c, add(c)]], 10n)
    expect(tally.validators()).toEqual([a, b, c, d])
    expect(tally.pendingVotes()).toEqual([])
  })

  it('counts DROP for a non-validator, which withdraws the author ADD vote', () => {
    const tally = new VoteTally([a, b, c, d])
    applyVotes(tally, [
      [a, add(outsider)],
      [b, add(outsider)],
      [a, drop(outsider)],
      [c, add(outsider)],
    ])
    expect(tally.isValidator(outsider)).toBe(false)
    expect(tally.pendingVotes()).toEqual([{ recipient: outsider, add: [b, c], drop: [a] }])
  })

  it('discards the pending votes of a validator when it is dropped', () => {
    const tally = new VoteTally([a, b, c, d])
    applyVotes(tally, [
      [d, add(outsider)],
      [d, drop(a)],
      [a, drop(d)],
      [b, drop(d)],
    ])
    expect(tally.pendingVotes()).toEqual([
      { recipient: a, add: [], drop: [d] },
      { recipient: d, add: [], drop: [a, b] },
      { recipient: outsider, add: [d], drop: [] },
    ])
    applyVotes(tally, [[c, drop(d)]], 10n)
    expect(tally.validators()).toEqual([a, b, c])
    expect(tally.pendingVotes()).toEqual([])
  })

  it('re-checks a recipient that reached the threshold because the set shrank only at its next vote', () => {
    const tally = new VoteTally([a, b, c, d])
    applyVotes(tally, [
      [a, add(outsider)],
      [b, add(outsider)],
      [a, drop(d)],
      [b, drop(d)],
      [c, drop(d)],
    ])
    // n = 3 now, threshold 2: the two ADD votes for the outsider are enough but nothing re-counted them.
    expect(tally.isValidator(outsider)).toBe(false)
    applyVotes(tally, [[c, drop(outsider)]], 10n)
    expect(tally.isValidator(outsider)).toBe(true)
    expect(tally.pendingVotes()).toEqual([])
  })

  it('copies independently', () => {
    const tally = new VoteTally([a, b, c, d])
    applyVotes(tally, [[a, add(outsider)]])
    const copy = tally.copy()
    applyVotes(copy, [
      [b, add(outsider)],
      [c, add(outsider)],
    ])
    expect(copy.isValidator(outsider)).toBe(true)
    expect(tally.isValidator(outsider)).toBe(false)
    expect(tally.pendingVotes()).toEqual([{ recipient: outsider, add: [a], drop: [] }])
  })

  it('rejects a recipient that is not 20 bytes', () => {
    const tally = new VoteTally([a])
    expect(() => tally.addVote(a, { recipient: new Uint8Array(19), add: true })).toThrow(QbftError)
  })
})

describe('VoteTally epochs', () => {
  const [a, b, c, d] = members(4)

  it('discards all outstanding votes in the last block of an epoch, not counting that block vote', () => {
    const tally = new VoteTally([a, b, c, d])
    tally.applyBlock({ number: 7n, coinbase: a, vote: add(outsider) }, 10)
    tally.applyBlock({ number: 8n, coinbase: b, vote: drop(d) }, 10)
    tally.applyBlock({ number: 9n, coinbase: c, vote: add(outsider) }, 10)
    expect(tally.pendingVotes()).toEqual([])
    expect(tally.validators()).toEqual([a, b, c, d])
  })

  it('counts the vote in an epoch block itself', () => {
    const tally = new VoteTally([a, b, c, d])
    tally.applyBlock({ number: 10n, coinbase: a, vote: add(outsider) }, 10)
    expect(tally.hasVoted(a, outsider, true)).toBe(true)
  })

  it('keeps local proposals across the epoch reset and casts them again', () => {
    const proposer = new VoteProposer()
    proposer.propose(outsider, true)
    const tally = new VoteTally([a, b, c, d])
    tally.applyBlock({ number: 8n, coinbase: a, vote: proposer.nextVote(tally, a) }, 10)
    expect(proposer.nextVote(tally, a)).toBeUndefined()
    tally.applyBlock({ number: 9n, coinbase: b, vote: undefined }, 10)
    expect(tally.pendingVotes()).toEqual([])
    expect(proposer.pending()).toEqual(new Map([['0x00000000000000000000000000000000000000ee', true]]))
    expect(proposer.nextVote(tally, a)).toEqual(add(outsider))
  })
})

describe('VoteProposer', () => {
  const [a, b, c, d] = members(4)
  const [x, y, z] = [address(0xe1), address(0xe2), address(0xe3)]

  it('rotates through the proposals that would change something', () => {
    const proposer = new VoteProposer()
    proposer.propose(x, true)
    proposer.propose(y, true)
    proposer.propose(c, false)
    const tally = new VoteTally([a, b, c, d])
    const picks = Array.from({ length: 6 }, () => proposer.nextVote(tally, a))
    expect(picks).toEqual([add(x), add(y), drop(c), add(x), add(y), drop(c)])
  })

  it('skips ADD for a validator and DROP for a non-validator', () => {
    const proposer = new VoteProposer()
    proposer.propose(b, true)
    proposer.propose(z, false)
    expect(proposer.nextVote(new VoteTally([a, b, c, d]), a)).toBeUndefined()
  })

  it('does not cast again a vote of ours that is already counted, but does flip it', () => {
    const tally = new VoteTally([a, b, c, d])
    applyVotes(tally, [
      [a, add(x)],
      [a, drop(d)],
    ])
    const proposer = new VoteProposer()
    proposer.propose(x, true)
    proposer.propose(d, false)
    expect(proposer.nextVote(tally, a)).toBeUndefined()
    expect(proposer.nextVote(tally, b)).toEqual(add(x))
    // Now wanting the opposite: ADD d withdraws our DROP although d is a validator; DROP x withdraws our ADD.
    proposer.propose(x, false)
    proposer.propose(d, true)
    expect([proposer.nextVote(tally, a), proposer.nextVote(tally, a)]).toEqual(
      expect.arrayContaining([drop(x), add(d)]),
    )
  })

  it('discards a proposal and lists the rest', () => {
    const proposer = new VoteProposer()
    proposer.propose(x, true)
    proposer.propose(y, false)
    proposer.propose(x, false)
    proposer.discard(y)
    proposer.discard(z)
    expect(proposer.pending()).toEqual(new Map([['0x00000000000000000000000000000000000000e1', false]]))
    expect(() => proposer.propose(new Uint8Array(32), true)).toThrow(QbftError)
  })
})
