import type { TypedTransaction } from '@ethereumjs/tx'
import { describe, expect, it } from 'vitest'
import { addressOf, FakeChain, feeMarketTx, GWEI, privateKey } from './helpers.js'

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function prng(seed: number): (n: number) => number {
  let state = seed
  return (n) => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return (((t ^ (t >>> 14)) >>> 0) % n) | 0
  }
}

interface Arrival {
  tx: TypedTransaction & { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
  sender: string
  seq: number
}

/** The obvious O(n^2) greedy: at each step the best next-nonce tx over all senders. */
function naiveSelect(pending: Map<string, Arrival[]>, baseFee: bigint, gasLimit: bigint): TypedTransaction[] {
  const queues = new Map([...pending].map(([sender, txs]) => [sender, [...txs]]))
  const out: TypedTransaction[] = []
  let gasLeft = gasLimit
  for (;;) {
    let best: Arrival | undefined
    let bestTip = 0n
    for (const [sender, txs] of queues) {
      const head = txs[0]
      if (head === undefined || head.tx.maxFeePerGas < baseFee || head.tx.gasLimit > gasLeft) {
        queues.delete(sender)
        continue
      }
      const tip = head.tx.getEffectivePriorityFee(baseFee)
      if (best === undefined || tip > bestTip || (tip === bestTip && head.seq < best.seq)) {
        best = head
        bestTip = tip
      }
    }
    if (best === undefined) return out
    out.push(best.tx)
    gasLeft -= best.tx.gasLimit
    queues.get(best.sender)!.shift()
  }
}

describe('txpool selection against a reference', () => {
  it('matches the naive greedy on random pools, gas limits and base fees', async () => {
    const random = prng(42)
    for (let round = 0; round < 4; round++) {
      const chain = new FakeChain()
      const pool = chain.pool()
      const arrivals: Arrival[] = []
      const senders = Array.from({ length: 12 }, (_, i) => privateKey(100 + round * 20 + i))
      for (const key of senders) chain.setAccount(addressOf(key), { nonce: BigInt(random(3)) })
      const planned = senders.flatMap((key) => {
        const start = chain.account(addressOf(key)).nonce
        return Array.from({ length: 1 + random(5) }, (_, i) => ({ key, nonce: start + BigInt(i) }))
      })
      // Random arrival order, so nonce gaps are filled late and ties are broken by arrival.
      for (let i = planned.length - 1; i > 0; i--) {
        const j = random(i + 1)
        ;[planned[i], planned[j]] = [planned[j], planned[i]]
      }
      for (const { key, nonce } of planned) {
        const maxFeePerGas = BigInt(8 + random(12)) * GWEI
        const tx = feeMarketTx(key, {
          nonce,
          maxFeePerGas,
          maxPriorityFeePerGas: BigInt(random(4)) * GWEI,
          gasLimit: 21_000n + BigInt(random(3)) * 20_000n,
        })
        await pool.add(tx)
        arrivals.push({ tx, sender: addressOf(key).toString(), seq: arrivals.length })
      }
      const pending = new Map<string, Arrival[]>()
      for (const arrival of [...arrivals].sort((a, b) => Number(a.tx.nonce - b.tx.nonce))) {
        pending.set(arrival.sender, [...(pending.get(arrival.sender) ?? []), arrival])
      }
      expect(pool.stats()).toEqual({ pending: arrivals.length, queued: 0 })
      for (const baseFee of [7n * GWEI, 12n * GWEI]) {
        for (const gasLimit of [30_000_000n, 400_000n, 150_000n]) {
          const selected = pool.selectForBlock(baseFee, gasLimit)
          expect(selected).toEqual(naiveSelect(pending, baseFee, gasLimit))
          expect(selected.reduce((gas, tx) => gas + tx.gasLimit, 0n) <= gasLimit).toBe(true)
        }
      }
    }
  })
})

/**
 * Arrival order, naively: each pending tx ranks at the latest arrival among itself and its sender's lower nonces; walk
 * all txs by (rank, nonce), skipping senders already dropped, dropping a sender whose tx cannot pay or does not fit.
 */
function naiveFifo(pending: Map<string, Arrival[]>, baseFee: bigint, gasLimit: bigint): TypedTransaction[] {
  const ranked: { arrival: Arrival; rank: number }[] = []
  for (const txs of pending.values()) {
    let rank = -1
    for (const arrival of txs) {
      rank = Math.max(rank, arrival.seq)
      ranked.push({ arrival, rank })
    }
  }
  ranked.sort((a, b) => a.rank - b.rank || Number(a.arrival.tx.nonce - b.arrival.tx.nonce))
  const dropped = new Set<string>()
  const out: TypedTransaction[] = []
  let gasLeft = gasLimit
  for (const { arrival } of ranked) {
    if (gasLeft < 21_000n) break
    if (dropped.has(arrival.sender)) continue
    if (arrival.tx.maxFeePerGas < baseFee || arrival.tx.gasLimit > gasLeft) {
      dropped.add(arrival.sender)
      continue
    }
    out.push(arrival.tx)
    gasLeft -= arrival.tx.gasLimit
  }
  return out
}

describe('txpool fifo selection against a reference', () => {
  it('matches the naive arrival-order walk on random pools, gas limits and base fees', async () => {
    const random = prng(7)
    for (let round = 0; round < 4; round++) {
      const chain = new FakeChain()
      const pool = chain.pool({ order: 'fifo' })
      const arrivals: Arrival[] = []
      const senders = Array.from({ length: 10 }, (_, i) => privateKey(300 + round * 20 + i))
      const planned = senders.flatMap((key) => Array.from({ length: 1 + random(5) }, (_, i) => ({ key, nonce: i })))
      for (let i = planned.length - 1; i > 0; i--) {
        const j = random(i + 1)
        ;[planned[i], planned[j]] = [planned[j], planned[i]]
      }
      for (const { key, nonce } of planned) {
        const tx = feeMarketTx(key, {
          nonce: BigInt(nonce),
          maxFeePerGas: BigInt(8 + random(12)) * GWEI,
          maxPriorityFeePerGas: BigInt(random(4)) * GWEI,
          gasLimit: 21_000n + BigInt(random(3)) * 20_000n,
        })
        await pool.add(tx)
        arrivals.push({ tx, sender: addressOf(key).toString(), seq: arrivals.length })
      }
      const pending = new Map<string, Arrival[]>()
      for (const arrival of [...arrivals].sort((a, b) => Number(a.tx.nonce - b.tx.nonce))) {
        pending.set(arrival.sender, [...(pending.get(arrival.sender) ?? []), arrival])
      }
      expect(pool.stats()).toEqual({ pending: arrivals.length, queued: 0 })
      for (const baseFee of [7n * GWEI, 12n * GWEI]) {
        for (const gasLimit of [30_000_000n, 400_000n, 150_000n]) {
          expect(pool.selectForBlock(baseFee, gasLimit)).toEqual(naiveFifo(pending, baseFee, gasLimit))
        }
      }
    }
  })
})
