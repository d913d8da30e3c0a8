import { RLP } from '@ethereumjs/rlp'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  decodeTxBatch,
  defaultTxGossipOptions,
  encodeTxBatch,
  TxBatcher,
  TxIngress,
} from '../../../src/txpool/index.js'
import { addressOf, FakeChain, feeMarketTx, privateKey } from './helpers.js'

const raw = (n: number, size = 100) => new Uint8Array(size).fill(n)

describe('transaction batches on the wire', () => {
  it('round-trips raw transactions through one RLP list', () => {
    const raws = [raw(1), raw(2, 1), raw(3, 5000)]
    expect(decodeTxBatch(encodeTxBatch(raws), 10)).toEqual(raws)
  })

  it('refuses what is not a list of raw transactions, or too many of them', () => {
    expect(() => decodeTxBatch(new Uint8Array([0xff, 0x00]), 10)).toThrow(/malformed/)
    expect(() => decodeTxBatch(RLP.encode(raw(1)), 10)).toThrow(/not a list/)
    expect(() => decodeTxBatch(RLP.encode([raw(1), [raw(2)]]), 10)).toThrow(/not a raw transaction/)
    expect(() => decodeTxBatch(RLP.encode([raw(1), new Uint8Array()]), 10)).toThrow(/not a raw transaction/)
    expect(() => decodeTxBatch(encodeTxBatch([raw(1), raw(2), raw(3)]), 2)).toThrow(/3 > 2/)
  })
})

describe('TxBatcher', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('sends after the delay, at the count limit, and before the byte limit is crossed', () => {
    vi.useFakeTimers()
    const sent: Uint8Array[][] = []
    const batcher = new TxBatcher(
      { ...defaultTxGossipOptions, maxDelayMs: 50, maxBatchCount: 3, maxBatchBytes: 1000 },
      (b) => sent.push(decodeTxBatch(b, 100)),
    )
    batcher.add(raw(1))
    batcher.add(raw(2))
    expect(sent).toEqual([])
    vi.advanceTimersByTime(49)
    expect(sent).toEqual([])
    vi.advanceTimersByTime(1)
    expect(sent).toEqual([[raw(1), raw(2)]])

    batcher.add(raw(3))
    batcher.add(raw(4))
    batcher.add(raw(5))
    expect(sent.at(-1)).toEqual([raw(3), raw(4), raw(5)])

    batcher.add(raw(6, 600))
    batcher.add(raw(7, 600))
    expect(sent.at(-1)).toEqual([raw(6, 600)])
    batcher.add(raw(8, 2000))
    expect(sent.slice(-2)).toEqual([[raw(7, 600)], [raw(8, 2000)]])
    batcher.add(raw(9))
    batcher.stop()
    expect(sent.at(-1)).toEqual([raw(9)])
    vi.advanceTimersByTime(1000)
    expect(sent.length).toBe(6)
  })
})

describe('TxIngress', () => {
  it('admits the transactions of received batches into the pool in order, counting refusals', async () => {
    const chain = new FakeChain()
    const pool = chain.pool()
    const alice = privateKey(1)
    const ingress = new TxIngress(defaultTxGossipOptions, (r) => pool.addRaw(r))
    const txs = [0n, 1n, 2n].map((nonce) => feeMarketTx(alice, { nonce }).serialize())
    // Nonce 1 and 2 arrive before 0 within one batch, then a duplicate batch.
    ingress.onBatch(encodeTxBatch([txs[0], txs[1]]))
    ingress.onBatch(encodeTxBatch([txs[2], txs[0]]))
    ingress.onBatch(new Uint8Array([1, 2, 3]))
    await ingress.settled()
    expect(pool.stats()).toEqual({ pending: 3, queued: 0 })
    expect(await pool.pendingNonce(addressOf(alice))).toBe(3n)
    expect(ingress.stats()).toMatchObject({ batches: 2, malformed: 1, admitted: 3, refused: 1, dropped: 0, queued: 0 })
  })

  it('admits one transaction at a time and drops what exceeds the queue', async () => {
    let inFlight = 0
    let maxInFlight = 0
    const seen: number[] = []
    const ingress = new TxIngress({ ...defaultTxGossipOptions, maxQueued: 4 }, async (r) => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise((resolve) => setTimeout(resolve, 1))
      seen.push(r[0])
      inFlight--
    })
    ingress.onBatch(encodeTxBatch([raw(1), raw(2), raw(3)]))
    ingress.onBatch(encodeTxBatch([raw(4), raw(5), raw(6)]))
    // The first transaction is already being admitted, so four wait and the sixth is dropped.
    expect(ingress.stats()).toMatchObject({ dropped: 1, queued: 4 })
    await ingress.settled()
    expect(seen).toEqual([1, 2, 3, 4, 5])
    expect(maxInFlight).toBe(1)
    ingress.onBatch(encodeTxBatch([raw(7)]))
    await ingress.settled()
    expect(seen).toEqual([1, 2, 3, 4, 5, 7])
  })

  it('prepares what is queued together before admitting it one by one, and releases it after', async () => {
    // The first batch starts the drain at once; the second waits for the next chunk.
    const events: string[] = []
    const ingress = new TxIngress(
      defaultTxGossipOptions,
      async (r) => {
        events.push(`admit ${r[0]}`)
      },
      async (raws) => {
        events.push(`prepare ${raws.map((r) => r[0]).join(',')}`)
        return () => events.push('release')
      },
    )
    ingress.onBatch(encodeTxBatch([raw(1), raw(2)]))
    ingress.onBatch(encodeTxBatch([raw(3)]))
    await ingress.settled()
    expect(events).toEqual(['prepare 1,2', 'admit 1', 'admit 2', 'release', 'prepare 3', 'admit 3', 'release'])
    expect(ingress.stats()).toMatchObject({ admitted: 3, queued: 0 })
  })
})
