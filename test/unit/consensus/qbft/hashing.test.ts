import { RLP } from '@ethereumjs/rlp'
import { equalsBytes } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { encodeExtraData, genesisExtraData } from '../../../../src/consensus/qbft/extraData.js'
import { blockHashForHeader, commitSealHash } from '../../../../src/consensus/qbft/hashing.js'
import { address, crypto, extraDataFor, makeHeader } from './helpers.js'

const validators = [address(1), address(2), address(3), address(4)]
const k = crypto.keccak256

function fakeSeal(byte: number): Uint8Array {
  return new Uint8Array(65).fill(byte)
}

describe('blockHashForHeader', () => {
  it('is the same for every round and every set of seals', () => {
    const base = blockHashForHeader(makeHeader(extraDataFor(validators)), k)
    const other = makeHeader(extraDataFor(validators, { round: 7, committedSeals: [fakeSeal(1), fakeSeal(2)] }))
    expect(blockHashForHeader(other, k)).toEqual(base)
  })

  it('equals keccak of the header RLP whose extraData has round 0 and no seals', () => {
    const sealed = makeHeader(extraDataFor(validators, { round: 3, committedSeals: [fakeSeal(9)] }))
    const raw = sealed.raw()
    raw[12] = encodeExtraData(extraDataFor(validators))
    expect(blockHashForHeader(sealed, k)).toEqual(k(RLP.encode(raw)))
    expect(blockHashForHeader(sealed, k)).not.toEqual(sealed.hash())
  })

  it('changes with the vote, which is part of the hashed extraData', () => {
    const noVote = blockHashForHeader(makeHeader(extraDataFor(validators)), k)
    const vote = makeHeader(extraDataFor(validators, { vote: { recipient: address(9), add: true } }))
    expect(equalsBytes(blockHashForHeader(vote, k), noVote)).toBe(false)
  })

  it('hashes a genesis header with its extraData untouched', () => {
    const genesis = makeHeader(genesisExtraData(validators), 0n)
    expect(blockHashForHeader(genesis, k)).toEqual(genesis.hash())
  })
})

describe('commitSealHash', () => {
  it('depends on the round but not on the seals already present', () => {
    const header = makeHeader(extraDataFor(validators, { round: 1 }))
    const sealed = makeHeader(extraDataFor(validators, { round: 1, committedSeals: [fakeSeal(1)] }))
    expect(commitSealHash(header, 1, k)).toEqual(commitSealHash(sealed, 1, k))
    expect(equalsBytes(commitSealHash(header, 1, k), commitSealHash(header, 2, k))).toBe(false)
  })

  it('for round 0 equals the block hash', () => {
    const header = makeHeader(extraDataFor(validators, { committedSeals: [fakeSeal(1)] }))
    expect(commitSealHash(header, 0, k)).toEqual(blockHashForHeader(header, k))
  })
})
