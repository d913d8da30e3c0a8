import type { TypedTransaction } from '@ethereumjs/tx'
import { describe, expect, it } from 'vitest'
import { TxPoolError } from '../../../src/txpool/index.js'
import { addressOf, FakeChain, feeMarketTx, GWEI, privateKey } from './helpers.js'

const alice = privateKey(1)
const bob = privateKey(2)
const carol = privateKey(3)
const dave = privateKey(4)
const BASE_FEE = 7n * GWEI

const tip = (gwei: bigint) => ({ maxPriorityFeePerGas: gwei * GWEI })

function fifoPool(opts: { maxSlots?: number } = {}, chain = new FakeChain()) {
  return chain.pool({ order: 'fifo', ...opts })
}

async function addAll(pool: { add(tx: TypedTransaction): Promise<unknown> }, txs: TypedTransaction[]) {
  for (const tx of txs) await pool.add(tx)
}

describe('txpool fifo order: selection', () => {
  it('takes transactions in arrival order across senders, whatever they pay', async () => {
    const a0 = feeMarketTx(alice, tip(1n))
    const b0 = feeMarketTx(bob, tip(9n))
    const c0 = feeMarketTx(carol, tip(5n))
    const fifo = fifoPool()
    const price = new FakeChain().pool()
    await addAll(fifo, [a0, b0, c0])
    await addAll(price, [a0, b0, c0])
    expect(fifo.selectForBlock(BASE_FEE, 30_000_000n)).toEqual([a0, b0, c0])
    expect(price.selectForBlock(BASE_FEE, 30_000_000n)).toEqual([b0, c0, a0])
  })

  it('keeps nonce order within a sender: a later nonce that arrived first goes right after its predecessor', async () => {
    const pool = fifoPool()
    const a0 = feeMarketTx(alice, { nonce: 0n })
    const a1 = feeMarketTx(alice, { nonce: 1n })
    const b0 = feeMarketTx(bob, { nonce: 0n })
    const b1 = feeMarketTx(bob, { nonce: 1n })
    const c0 = feeMarketTx(carol)
    // Arrival: a1 (queued behind a gap), b0, a0 (fills it), c0, b1.
    await addAll(pool, [a1, b0, a0, c0, b1])
    expect(pool.stats()).toEqual({ pending: 5, queued: 0 })
    // a1 waits for a0 and then goes at a0's place in the line, before c0 which arrived after a0.
    expect(pool.selectForBlock(BASE_FEE, 30_000_000n)).toEqual([b0, a0, a1, c0, b1])
  })

  it('leaves queued transactions out until their gap is filled', async () => {
    const pool = fifoPool()
    const a0 = feeMarketTx(alice, { nonce: 0n })
    const a2 = feeMarketTx(alice, { nonce: 2n })
    const b0 = feeMarketTx(bob)
    await addAll(pool, [a2, b0, a0])
    expect(pool.stats()).toEqual({ pending: 2, queued: 1 })
    expect(pool.selectForBlock(BASE_FEE, 30_000_000n)).toEqual([b0, a0])
  })

  it('packs by gas: skips a sender whose next tx does not fit, keeps filling from later arrivals', async () => {
    const pool = fifoPool()
    const a0 = feeMarketTx(alice, { nonce: 0n, gasLimit: 50_000n })
    const a1 = feeMarketTx(alice, { nonce: 1n })
    const b0 = feeMarketTx(bob, { nonce: 0n, gasLimit: 40_000n })
    const b1 = feeMarketTx(bob, { nonce: 1n })
    const c0 = feeMarketTx(carol)
    const d0 = feeMarketTx(dave, { gasLimit: 30_000n })
    await addAll(pool, [a0, b0, c0, a1, b1, d0])
    expect(pool.selectForBlock(BASE_FEE, 1_000_000n)).toEqual([a0, b0, c0, a1, b1, d0])
    // 100,000 gas: a0 (50k) and b0 (40k) leave 10k: below 21,000 the block is full.
    expect(pool.selectForBlock(BASE_FEE, 100_000n)).toEqual([a0, b0])
    // 80,000 gas: a0, then b0 (40k > 30k left) is skipped with b1; c0 fits, then a1 does not (9k left): done.
    expect(pool.selectForBlock(BASE_FEE, 80_000n)).toEqual([a0, c0])
    // 45,000 gas: a0 does not fit at all, so Alice is skipped with a1; b0 fits, and nothing else in 5k.
    expect(pool.selectForBlock(BASE_FEE, 45_000n)).toEqual([b0])
    // 35,000 gas: Alice and Bob are skipped; c0 fits and leaves 14k.
    expect(pool.selectForBlock(BASE_FEE, 35_000n)).toEqual([c0])
    expect(pool.selectForBlock(BASE_FEE, 20_999n)).toEqual([])
  })

  it('skips a sender whose next tx cannot pay the base fee, with its later nonces', async () => {
    const pool = fifoPool()
    const a0 = feeMarketTx(alice, { nonce: 0n, maxFeePerGas: 8n * GWEI, maxPriorityFeePerGas: GWEI })
    const a1 = feeMarketTx(alice, { nonce: 1n, maxFeePerGas: 100n * GWEI })
    const b0 = feeMarketTx(bob, { maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: GWEI })
    await addAll(pool, [a0, a1, b0])
    expect(pool.selectForBlock(BASE_FEE, 30_000_000n)).toEqual([a0, a1, b0])
    expect(pool.selectForBlock(9n * GWEI, 30_000_000n)).toEqual([b0])
  })

  it('takes zero-fee transactions on a zero-base-fee chain, in arrival order', async () => {
    const chain = new FakeChain()
    chain.head = { ...chain.head, baseFeePerGas: 0n }
    const pool = fifoPool({}, chain)
    const free = { maxFeePerGas: 0n, maxPriorityFeePerGas: 0n }
    const txs = [
      feeMarketTx(carol, free),
      feeMarketTx(alice, free),
      feeMarketTx(carol, { ...free, nonce: 1n }),
      feeMarketTx(bob, free),
    ]
    await addAll(pool, txs)
    expect(pool.selectForBlock(0n, 30_000_000n)).toEqual(txs)
  })
})

describe('txpool fifo order: replacement and eviction', () => {
  it('replaces only with the price bump; the replacement takes its own place in the line', async () => {
    const pool = fifoPool()
    const a0 = feeMarketTx(alice, { maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: 10n * GWEI })
    const b0 = feeMarketTx(bob)
    await addAll(pool, [a0, b0])
    const plus9 = feeMarketTx(alice, { maxFeePerGas: 109n * GWEI, maxPriorityFeePerGas: (109n * GWEI) / 10n })
    await expect(pool.add(plus9)).rejects.toMatchObject({ code: 'REPLACEMENT_UNDERPRICED' })
    const plus10 = feeMarketTx(alice, { maxFeePerGas: 110n * GWEI, maxPriorityFeePerGas: 11n * GWEI })
    await pool.add(plus10)
    expect(pool.has(a0.hash())).toBe(false)
    expect(pool.selectForBlock(BASE_FEE, 30_000_000n)).toEqual([b0, plus10])
  })

  it('a full zero-fee pool keeps its oldest transactions and refuses newcomers (Besu)', async () => {
    const chain = new FakeChain()
    chain.head = { ...chain.head, baseFeePerGas: 0n }
    const pool = fifoPool({ maxSlots: 3 }, chain)
    const free = { maxFeePerGas: 0n, maxPriorityFeePerGas: 0n }
    const kept = [feeMarketTx(alice, free), feeMarketTx(bob, free), feeMarketTx(alice, { ...free, nonce: 1n })]
    await addAll(pool, kept)
    await expect(pool.add(feeMarketTx(carol, free))).rejects.toMatchObject({ code: 'POOL_FULL' })
    await expect(pool.add(feeMarketTx(bob, { ...free, nonce: 1n }))).rejects.toThrow(TxPoolError)
    expect(pool.selectForBlock(0n, 30_000_000n)).toEqual(kept)
  })

  it('a newcomer that pays more evicts the least-priority tx with all its sender’s later nonces, leaving no gap', async () => {
    const a = [2n, 1n, 2n].map((gwei, nonce) => feeMarketTx(alice, { nonce: BigInt(nonce), ...tip(gwei) }))
    const b0 = feeMarketTx(bob, tip(2n))
    const c0 = feeMarketTx(carol, tip(3n))
    const fifo = fifoPool({ maxSlots: 4 })
    await addAll(fifo, [...a, b0])
    await fifo.add(c0)
    // a1 (1 gwei) was the least: a2 went with it, so Alice keeps a0 alone and nothing sits behind a gap.
    expect([a[1], a[2]].map((tx) => fifo.has(tx.hash()))).toEqual([false, false])
    expect(fifo.stats()).toEqual({ pending: 3, queued: 0 })
    expect(fifo.selectForBlock(BASE_FEE, 30_000_000n)).toEqual([a[0], b0, c0])
    // geth's rule in price order evicts a1 alone and leaves a2 queued.
    const price = new FakeChain().pool({ maxSlots: 4 })
    await addAll(price, [...a, b0, c0])
    expect(price.has(a[2].hash())).toBe(true)
    expect(price.stats()).toEqual({ pending: 3, queued: 1 })
  })

  it('among equally cheap transactions the newest goes first', async () => {
    const pool = fifoPool({ maxSlots: 3 })
    const txs = [feeMarketTx(alice, tip(1n)), feeMarketTx(bob, tip(1n)), feeMarketTx(carol, tip(1n))]
    await addAll(pool, txs)
    await pool.add(feeMarketTx(dave, tip(2n)))
    expect(txs.map((tx) => pool.has(tx.hash()))).toEqual([true, true, false])
  })

  it('refuses a tx whose own lower nonce is the least-priority one (evicting it would take the tx along)', async () => {
    const a0 = feeMarketTx(alice, tip(1n))
    const b0 = feeMarketTx(bob, tip(5n))
    const c0 = feeMarketTx(carol, tip(5n))
    const a1 = feeMarketTx(alice, { nonce: 1n, ...tip(9n) })
    const fifo = fifoPool({ maxSlots: 3 })
    await addAll(fifo, [a0, b0, c0])
    await expect(fifo.add(a1)).rejects.toMatchObject({ code: 'POOL_FULL' })
    expect(fifo.stats()).toEqual({ pending: 3, queued: 0 })
    // In price order a sender never evicts its own txs; Carol's (newest of the 5 gwei ones) goes instead.
    const price = new FakeChain().pool({ maxSlots: 3 })
    await addAll(price, [a0, b0, c0, a1])
    expect(price.has(c0.hash())).toBe(false)
  })

  it('may evict the sender’s own higher nonces to admit a lower one', async () => {
    const pool = fifoPool({ maxSlots: 3 })
    const a0 = feeMarketTx(alice, { nonce: 0n, ...tip(5n) })
    const a2 = feeMarketTx(alice, { nonce: 2n, ...tip(1n) })
    const b0 = feeMarketTx(bob, tip(5n))
    await addAll(pool, [a0, a2, b0])
    expect(pool.stats()).toEqual({ pending: 2, queued: 1 })
    const a1 = feeMarketTx(alice, { nonce: 1n, ...tip(5n) })
    await pool.add(a1)
    expect(pool.has(a2.hash())).toBe(false)
    expect(pool.stats()).toEqual({ pending: 3, queued: 0 })
    expect(await pool.pendingNonce(addressOf(alice))).toBe(2n)
  })
})
