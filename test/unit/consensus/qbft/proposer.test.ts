import { describe, expect, it } from 'vitest'
import { QbftError } from '../../../../src/consensus/qbft/errors.js'
import { containsAddress, selectProposer, sortValidators } from '../../../../src/consensus/qbft/proposer.js'
import { address } from './helpers.js'

const [a, b, c, d] = [address(0x10), address(0x20), address(0x30), address(0x40)]
const validators = [a, b, c, d]

describe('sortValidators / containsAddress', () => {
  it('sorts ascending by unsigned byte order into a new array', () => {
    const high = new Uint8Array(20).fill(0xff)
    const input = [d, high, b, a, c]
    expect(sortValidators(input)).toEqual([a, b, c, d, high])
    expect(input[0]).toBe(d)
  })

  it('compares by value, not identity', () => {
    expect(containsAddress(validators, address(0x30))).toBe(true)
    expect(containsAddress(validators, address(0x31))).toBe(false)
  })
})

describe('selectProposer (n = 4, change each block)', () => {
  it('after genesis starts at index 0 and advances one per round, wrapping', () => {
    expect([0, 1, 2, 3, 4, 5].map((r) => selectProposer(validators, undefined, r))).toEqual([a, b, c, d, a, b])
  })

  it('moves to the validator after the previous proposer, then one per round', () => {
    expect([0, 1, 2, 3].map((r) => selectProposer(validators, b, r))).toEqual([c, d, a, b])
    expect([0, 1].map((r) => selectProposer(validators, d, r))).toEqual([a, b])
  })

  it('when the previous proposer was removed, starts at the next address above it', () => {
    const afterRemovingB = [a, c, d]
    expect([0, 1, 2, 3].map((r) => selectProposer(afterRemovingB, b, r))).toEqual([c, d, a, c])
  })

  it('when the removed proposer was the highest address, wraps to the first validator', () => {
    const afterRemovingD = [a, b, c]
    expect([0, 1].map((r) => selectProposer(afterRemovingD, d, r))).toEqual([a, b])
  })

  it('treats a zero-address coinbase (genesis) like the start of the list', () => {
    expect(selectProposer(validators, new Uint8Array(20), 0)).toEqual(a)
  })

  it('rejects unsorted, duplicate or empty validator lists and negative rounds', () => {
    expect(() => selectProposer([b, a], undefined, 0)).toThrow(QbftError)
    expect(() => selectProposer([a, a], undefined, 0)).toThrow(QbftError)
    expect(() => selectProposer([], undefined, 0)).toThrow(QbftError)
    expect(() => selectProposer(validators, undefined, -1)).toThrow(QbftError)
  })
})
