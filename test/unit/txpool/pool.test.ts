import type { TypedTransaction } from '@ethereumjs/tx'
import { describe, expect, it } from 'vitest'
import { addressOf, ETHER, FakeChain, feeMarketTx, GWEI, legacyTx, privateKey } from './helpers.js'

const alice = privateKey(1)
const bob = privateKey(2)
const carol = privateKey(3)
const BASE_FEE = 7n * GWEI

function nonces(txs: TypedTransaction[]): bigint[] {
  return txs.map((tx) => tx.nonce)
}

describe('txpool pending and queued', () => {
  it('queues a tx behind a nonce gap and promotes it when the gap is filled', async () => {
    const chain = new FakeChain()
    const pool = chain.pool()
    const key = addressOf(alice).toString()
    await pool.add(feeMarketTx(alice, { nonce: 0n }))
    await pool.add(feeMarketTx(alice, { nonce: 2n }))
    await pool.add(feeMarketTx(alice, { nonce: 3n }))
    expect(pool.stats()).toEqual({ pending: 1, queued: 2 })
    expect(await pool.pendingNonce(addressOf(alice))).toBe(1n)
    let content = pool.content()
    expect(nonces(content.pending.get(key)!)).toEqual([0n])
    expect(nonces(content.queued.get(key)!)).toEqual([2n, 3n])
    expect(nonces(pool.selectForBlock(BASE_FEE, 30_000_000n))).toEqual([0n])

    await pool.add(feeMarketTx(alice, { nonce: 1n }))
    expect(pool.stats()).toEqual({ pending: 4, queued: 0 })
    expect(await pool.pendingNonce(addressOf(alice))).toBe(4n)
    content = pool.content()
    expect(nonces(content.pending.get(key)!)).toEqual([0n, 1n, 2n, 3n])
    expect(content.queued.has(key)).toBe(false)
  })

  it('holds new admissions back while prioritized work (a block being built or imported) runs', async () => {
    const pool = new FakeChain().pool()
    let finish: () => void = () => {}
    const building = pool.prioritize(
      () =>
        new Promise<string>((resolve) => {
          finish = () => resolve('block')
        }),
    )
    const admitted = pool.addRaw(feeMarketTx(alice, { nonce: 0n }).serialize())
    // Let the admission run as far as it can: it waits for the work.
    for (let i = 0; i < 20; i++) await Promise.resolve()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(pool.stats()).toEqual({ pending: 0, queued: 0 })
    finish()
    expect(await building).toBe('block')
    await admitted
    expect(pool.stats()).toEqual({ pending: 1, queued: 0 })
    // A failed piece of work releases admissions too, and its error reaches the caller.
    await expect(pool.prioritize(() => Promise.reject(new Error('bad block')))).rejects.toThrow('bad block')
    await pool.addRaw(feeMarketTx(alice, { nonce: 1n }).serialize())
    expect(pool.stats()).toEqual({ pending: 2, queued: 0 })
  })

  it('pendingNonce is the state nonce without txs, and stops at the first gap', async () => {
    const chain = new FakeChain()
    chain.setAccount(addressOf(bob), { nonce: 7n })
    const pool = chain.pool()
    expect(await pool.pendingNonce(addressOf(bob))).toBe(7n)
    await pool.add(feeMarketTx(bob, { nonce: 9n }))
    expect(await pool.pendingNonce(addressOf(bob))).toBe(7n)
    await pool.add(feeMarketTx(bob, { nonce: 7n }))
    expect(await pool.pendingNonce(addressOf(bob))).toBe(8n)
    expect(pool.stats()).toEqual({ pending: 1, queued: 1 })
  })

  it('keys content by lowercase sender address and caches the sender', async () => {
    const pool = new FakeChain().pool()
    const tx = feeMarketTx(carol)
    await pool.addRaw(tx.serialize())
    const key = addressOf(carol).toString()
    expect(key).toBe(key.toLowerCase())
    expect([...pool.content().pending.keys()]).toEqual([key])
    expect(pool.sender(pool.get(tx.hash())!).toString()).toBe(key)
  })
})

describe('txpool selectForBlock', () => {
  it('orders senders by effective tip and each sender by nonce', async () => {
    const pool = new FakeChain().pool()
    // Alice's later nonce pays more than Bob's but must wait for her nonce 0.
    const a0 = feeMarketTx(alice, { nonce: 0n, maxPriorityFeePerGas: 1n * GWEI })
    const a1 = feeMarketTx(alice, { nonce: 1n, maxPriorityFeePerGas: 9n * GWEI })
    const b0 = feeMarketTx(bob, { nonce: 0n, maxPriorityFeePerGas: 5n * GWEI })
    const b1 = feeMarketTx(bob, { nonce: 1n, maxPriorityFeePerGas: 2n * GWEI })
    // Carol: a 10 gwei tip capped at maxFee - baseFee = 3 gwei.
    const c0 = feeMarketTx(carol, { maxFeePerGas: BASE_FEE + 3n * GWEI, maxPriorityFeePerGas: BASE_FEE + 3n * GWEI })
    for (const tx of [a1, a0, b1, b0, c0]) await pool.add(tx)
    expect(pool.selectForBlock(BASE_FEE, 30_000_000n)).toEqual([b0, c0, b1, a0, a1])
    // Selection removes nothing.
    expect(pool.stats()).toEqual({ pending: 5, queued: 0 })
  })

  it('breaks tip ties by arrival and treats legacy gasPrice as fee cap and tip', async () => {
    const pool = new FakeChain().pool()
    const first = legacyTx(bob, { gasPrice: BASE_FEE + 2n * GWEI })
    const second = feeMarketTx(alice, { maxPriorityFeePerGas: 2n * GWEI })
    const third = feeMarketTx(carol, { maxPriorityFeePerGas: 2n * GWEI })
    for (const tx of [first, second, third]) await pool.add(tx)
    expect(pool.selectForBlock(BASE_FEE, 30_000_000n)).toEqual([first, second, third])
  })

  it('skips a sender whose next tx cannot pay the base fee, with all its later nonces', async () => {
    const pool = new FakeChain().pool()
    const a0 = feeMarketTx(alice, { nonce: 0n, maxFeePerGas: 20n * GWEI })
    const a1 = feeMarketTx(alice, { nonce: 1n, maxFeePerGas: 8n * GWEI, maxPriorityFeePerGas: GWEI })
    const a2 = feeMarketTx(alice, { nonce: 2n, maxFeePerGas: 100n * GWEI })
    const b0 = feeMarketTx(bob, { maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: GWEI })
    for (const tx of [a0, a1, a2, b0]) await pool.add(tx)
    // At base fee 9 gwei, a1 (cap 8) blocks a2; b0 still pays.
    expect(pool.selectForBlock(9n * GWEI, 30_000_000n)).toEqual([a0, b0])
    expect(pool.selectForBlock(11n * GWEI, 30_000_000n)).toEqual([a0])
  })

  it('packs by gas: skips a sender whose next tx does not fit, keeps filling from other senders', async () => {
    const pool = new FakeChain().pool()
    const big = feeMarketTx(alice, { nonce: 0n, gasLimit: 80_000n, maxPriorityFeePerGas: 9n * GWEI })
    const afterBig = feeMarketTx(alice, { nonce: 1n, maxPriorityFeePerGas: 9n * GWEI })
    const b0 = feeMarketTx(bob, { nonce: 0n, gasLimit: 30_000n, maxPriorityFeePerGas: 5n * GWEI })
    const b1 = feeMarketTx(bob, { nonce: 1n, maxPriorityFeePerGas: 5n * GWEI })
    const c0 = feeMarketTx(carol, { maxPriorityFeePerGas: 1n * GWEI })
    for (const tx of [big, afterBig, b0, b1, c0]) await pool.add(tx)
    expect(pool.selectForBlock(BASE_FEE, 1_000_000n)).toEqual([big, afterBig, b0, b1, c0])
    // 24_000 gas left after Alice's two: b0 (30_000) does not fit, so Bob is out; Carol's 21_000 fits.
    expect(pool.selectForBlock(BASE_FEE, 125_000n)).toEqual([big, afterBig, c0])
    // big does not fit at all: Alice is skipped with her nonce 1; Bob and Carol fill the block.
    expect(pool.selectForBlock(BASE_FEE, 72_000n)).toEqual([b0, b1, c0])
    expect(pool.selectForBlock(BASE_FEE, 20_999n)).toEqual([])
  })
})

describe('txpool onBlockImported', () => {
  it('removes included txs and re-derives pending from the new state nonce', async () => {
    const chain = new FakeChain()
    const pool = chain.pool()
    const txs = [0n, 1n, 2n, 4n].map((nonce) => feeMarketTx(alice, { nonce }))
    for (const tx of txs) await pool.add(tx)
    const b0 = feeMarketTx(bob)
    await pool.add(b0)
    expect(pool.stats()).toEqual({ pending: 4, queued: 1 })

    chain.setAccount(addressOf(alice), { nonce: 2n })
    await pool.onBlockImported([txs[0], txs[1]])
    expect(pool.has(txs[0].hash())).toBe(false)
    expect(pool.has(txs[1].hash())).toBe(false)
    expect(pool.stats()).toEqual({ pending: 2, queued: 1 })
    expect(pool.selectForBlock(BASE_FEE, 30_000_000n)).toEqual([txs[2], b0])
    expect(await pool.pendingNonce(addressOf(alice))).toBe(3n)
  })

  it('drops a pooled tx whose nonce was used by a tx included from elsewhere', async () => {
    const chain = new FakeChain()
    const pool = chain.pool()
    const pooled = feeMarketTx(alice, { nonce: 0n })
    const next = feeMarketTx(alice, { nonce: 1n })
    await pool.add(pooled)
    await pool.add(next)
    const elsewhere = feeMarketTx(alice, { nonce: 0n, maxPriorityFeePerGas: 3n * GWEI })
    chain.setAccount(addressOf(alice), { nonce: 1n })
    await pool.onBlockImported([elsewhere])
    expect(pool.has(pooled.hash())).toBe(false)
    expect(pool.selectForBlock(BASE_FEE, 30_000_000n)).toEqual([next])
    expect(pool.stats()).toEqual({ pending: 1, queued: 0 })
  })

  it('drops txs the new balance no longer covers', async () => {
    const chain = new FakeChain()
    const pool = chain.pool()
    const cost = 21_000n * 100n * GWEI + ETHER
    const txs = [0n, 1n, 2n].map((nonce) => feeMarketTx(alice, { nonce, value: ETHER }))
    for (const tx of txs) await pool.add(tx)
    // Nonce 0 was included and cost more than expected (e.g. an incoming debit): only nonce 1 is still covered.
    chain.setAccount(addressOf(alice), { nonce: 1n, balance: cost + cost / 2n })
    await pool.onBlockImported([txs[0]])
    expect(pool.has(txs[1].hash())).toBe(true)
    expect(pool.has(txs[2].hash())).toBe(false)
    expect(pool.selectForBlock(BASE_FEE, 30_000_000n)).toEqual([txs[1]])
    expect(pool.stats()).toEqual({ pending: 1, queued: 0 })
  })

  it('re-reads the account when a block lands during admission', async () => {
    const chain = new FakeChain()
    const pool = chain.pool()
    const stale = feeMarketTx(alice, { nonce: 0n })
    const admission = pool.add(stale)
    // The first read returned nonce 0; the block that used nonce 0 lands before the read resolves.
    chain.setAccount(addressOf(alice), { nonce: 1n })
    chain.head = { ...chain.head, number: chain.head.number + 1n }
    await expect(admission).rejects.toMatchObject({ code: 'NONCE_TOO_LOW' })
    expect(chain.accountReads).toBe(2)
  })

  it('re-reads every pooled sender periodically', async () => {
    const chain = new FakeChain()
    const pool = chain.pool()
    const tx = feeMarketTx(carol)
    await pool.add(tx)
    // Carol's nonce moved without the pool being told which tx did it.
    chain.setAccount(addressOf(carol), { nonce: 1n })
    for (let block = 0; block < 64 && pool.has(tx.hash()); block++) await pool.onBlockImported([])
    expect(pool.has(tx.hash())).toBe(false)
    expect(pool.stats()).toEqual({ pending: 0, queued: 0 })
  })
})

describe('txpool bound', () => {
  it('never holds more than maxSlots txs and evicts the cheapest other sender first', async () => {
    const pool = new FakeChain().pool({ maxSlots: 4 })
    const a = [0n, 1n].map((nonce) => feeMarketTx(alice, { nonce, maxPriorityFeePerGas: 5n * GWEI }))
    const b = [0n, 1n].map((nonce) => feeMarketTx(bob, { nonce, maxPriorityFeePerGas: (2n + nonce) * GWEI }))
    for (const tx of [...a, ...b]) await pool.add(tx)
    await pool.add(feeMarketTx(carol, { maxPriorityFeePerGas: 4n * GWEI }))
    // Bob's nonce 0 at 2 gwei was the cheapest: his nonce 1 now waits behind a gap.
    expect(pool.has(b[0].hash())).toBe(false)
    expect(pool.stats()).toEqual({ pending: 3, queued: 1 })
    await pool.add(feeMarketTx(carol, { nonce: 1n, maxPriorityFeePerGas: 4n * GWEI }))
    expect(pool.has(b[1].hash())).toBe(false)
    expect(pool.stats()).toEqual({ pending: 4, queued: 0 })
  })

  it('re-ranks eviction when the base fee moves', async () => {
    const chain = new FakeChain()
    const pool = chain.pool({ maxSlots: 2 })
    // At base fee 7 gwei: Alice tips 2 gwei, Bob min(10, 10 - 7) = 3 gwei. At 9 gwei Bob only tips 1 gwei.
    const a0 = feeMarketTx(alice, { maxPriorityFeePerGas: 2n * GWEI })
    const b0 = feeMarketTx(bob, { maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: 10n * GWEI })
    await pool.add(a0)
    await pool.add(b0)
    chain.head = { ...chain.head, baseFeePerGas: 9n * GWEI }
    await pool.add(feeMarketTx(carol, { maxPriorityFeePerGas: (3n * GWEI) / 2n }))
    expect(pool.has(b0.hash())).toBe(false)
    expect(pool.has(a0.hash())).toBe(true)
  })
})

describe('txpool replacement, bound and listeners', () => {
  it('replaces a queued tx in place: it stays queued, and needs no free slot in a full pool', async () => {
    const pool = new FakeChain().pool({ maxSlots: 2 })
    const b0 = feeMarketTx(bob)
    const a2 = feeMarketTx(alice, { nonce: 2n, maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: 2n * GWEI })
    await pool.add(b0)
    await pool.add(a2)
    const bumped = feeMarketTx(alice, { nonce: 2n, maxFeePerGas: 110n * GWEI, maxPriorityFeePerGas: 3n * GWEI })
    await pool.add(bumped)
    expect(pool.has(a2.hash())).toBe(false)
    expect(pool.stats()).toEqual({ pending: 1, queued: 1 })
    expect(nonces(pool.content().queued.get(addressOf(alice).toString())!)).toEqual([2n])
    expect(pool.get(bumped.hash())).toBe(bumped)
    expect(pool.has(b0.hash())).toBe(true)
  })

  it('never holds more than maxSlots, and its counts match its content, over a random stream in both orders', async () => {
    let state = 99
    const random = (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31
      return (state >>> 16) % n
    }
    for (const order of ['price', 'fifo'] as const) {
      const pool = new FakeChain().pool({ maxSlots: 8, order })
      const keys = [alice, bob, carol, privateKey(4)]
      let admitted = 0
      for (let i = 0; i < 60; i++) {
        const tx = feeMarketTx(keys[random(4)], {
          nonce: BigInt(random(5)),
          maxFeePerGas: 100n * GWEI,
          maxPriorityFeePerGas: BigInt(1 + random(20)) * GWEI,
        })
        try {
          await pool.add(tx)
          admitted++
        } catch (e) {
          expect((e as { code: string }).code).toMatch(/^(POOL_FULL|REPLACEMENT_UNDERPRICED|ALREADY_KNOWN)$/)
        }
        const { pending, queued } = pool.content()
        const count = (m: Map<string, TypedTransaction[]>) => [...m.values()].reduce((n, txs) => n + txs.length, 0)
        expect(pool.stats()).toEqual({ pending: count(pending), queued: count(queued) })
        expect(pool.stats().pending + pool.stats().queued).toBeLessThanOrEqual(8)
        expect(pool.transactionsInArrivalOrder()).toHaveLength(pool.stats().pending + pool.stats().queued)
      }
      expect(admitted).toBeGreaterThan(8)
    }
  })

  it('tells onAdded listeners each admitted tx with the bytes it came in, until they unsubscribe', async () => {
    const pool = new FakeChain().pool()
    const seen: [TypedTransaction, Uint8Array][] = []
    const unsubscribe = pool.onAdded((tx, raw) => seen.push([tx, raw]))
    const viaRaw = feeMarketTx(alice)
    const viaObject = legacyTx(bob)
    await pool.addRaw(viaRaw.serialize())
    await pool.add(viaObject)
    await expect(pool.add(viaObject)).rejects.toMatchObject({ code: 'ALREADY_KNOWN' })
    unsubscribe()
    await pool.add(feeMarketTx(carol))
    expect(seen.map(([tx]) => tx.hash())).toEqual([viaRaw.hash(), viaObject.hash()])
    expect(seen.map(([, raw]) => raw)).toEqual([viaRaw.serialize(), viaObject.serialize()])
  })
})
