import { describe, expect, it } from 'vitest'
import { blockRewards, blockTipSamples, MAX_SUGGESTED_TIP, suggestTip } from '../../../src/rpc/fees.js'
import { FakeChain, GWEI, legacyTx, tx1559 } from './fixtures.js'

describe('suggested priority fee', () => {
  it('is the 60th percentile of the samples', () => {
    const samples = [5n, 1n, 4n, 2n, 3n, 6n, 7n, 8n, 9n, 10n].map((g) => g * GWEI)
    // (10 - 1) * 60 / 100 = 5 → the sixth lowest.
    expect(suggestTip(samples, 0n)).toBe(6n * GWEI)
  })

  it('never goes below the floor, and is the floor without samples', () => {
    expect(suggestTip([1n, 2n], GWEI)).toBe(GWEI)
    expect(suggestTip([], GWEI)).toBe(GWEI)
    expect(suggestTip([], 0n)).toBe(0n)
  })

  it('is capped at 500 gwei', () => {
    expect(suggestTip([10_000n * GWEI], 0n)).toBe(MAX_SUGGESTED_TIP)
  })

  it("samples a block's three lowest effective tips", () => {
    const chain = new FakeChain()
    const block = chain.add(
      [
        tx1559(0n, { tip: 5n * GWEI }),
        tx1559(1n, { tip: 1n * GWEI }),
        legacyTx(2n, 4n * GWEI),
        tx1559(3n, { tip: 2n * GWEI }),
      ],
      [],
      { baseFeePerGas: 2n * GWEI },
    )
    expect(blockTipSamples(block)).toEqual([1n * GWEI, 2n * GWEI, 2n * GWEI])
  })
})

describe('fee history rewards', () => {
  it('weights percentiles by gas used, like geth', () => {
    const chain = new FakeChain()
    const block = chain.add([tx1559(0n, { tip: 3n * GWEI }), tx1559(1n, { tip: 1n * GWEI })], [], {
      baseFeePerGas: GWEI,
      gasPerTx: 50_000n,
    })
    // Sorted by tip: 1 gwei (50k gas), then 3 gwei (50k gas); block gas used 100k.
    expect(blockRewards(block, [50_000n, 50_000n], [0, 50, 51, 100])).toEqual([GWEI, GWEI, 3n * GWEI, 3n * GWEI])
  })

  it('is all zeros for an empty block', () => {
    const chain = new FakeChain()
    expect(blockRewards(chain.add([]), [], [25, 75])).toEqual([0n, 0n])
  })
})
