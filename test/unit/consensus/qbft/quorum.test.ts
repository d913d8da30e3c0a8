import { describe, expect, it } from 'vitest'
import { faultTolerance, quorum } from '../../../../src/consensus/qbft/quorum.js'

describe('quorum / faultTolerance', () => {
  it('matches Besu ceil(2n/3) and the Dafny (2n-1)/3 + 1 for n = 1..100', () => {
    for (let n = 1; n <= 100; n++) expect(quorum(n)).toBe(Math.floor((2 * n - 1) / 3) + 1)
  })

  it('gives the documented values', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map(quorum)).toEqual([1, 2, 2, 3, 4, 4, 5, 7])
    expect([1, 3, 4, 7, 10].map(faultTolerance)).toEqual([0, 0, 1, 2, 3])
  })
})
