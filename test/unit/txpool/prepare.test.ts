import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { createCrypto } from '../../../src/crypto/index.js'
import { defaultTxPoolOptions, TxPool, TxPoolError } from '../../../src/txpool/index.js'
import { addressOf, customCommon, FakeChain, feeMarketTx, privateKey } from './helpers.js'

const crypto = createCrypto()
const common = customCommon(undefined, undefined, { customCrypto: crypto.customCrypto })

/** A pool whose batch recovery is observed: every batch it is handed is recorded (and recovered). */
function observedPool(): { pool: TxPool; batches: TypedTransaction[][] } {
  const chain = new FakeChain(common)
  const batches: TypedTransaction[][] = []
  const pool = new TxPool(defaultTxPoolOptions, {
    ...chain.deps(),
    recoverSenders: async (txs) => {
      batches.push([...txs])
      await crypto.recoverSenders(txs)
    },
  })
  return { pool, batches }
}

describe('TxPool.prepareRaw (a batch decoded and recovered before its admissions)', () => {
  it('admits the very transactions it decoded, whose senders were recovered together', async () => {
    const { pool, batches } = observedPool()
    const txs = Array.from({ length: 6 }, (_, i) => feeMarketTx(privateKey(i + 1), {}, common))
    const raws = txs.map((tx) => tx.serialize())
    const release = await pool.prepareRaw(raws)
    expect(batches).toHaveLength(1)
    expect(batches[0]).toHaveLength(6)
    for (const [i, raw] of raws.entries()) {
      expect(bytesToHex(await pool.addRaw(raw))).toBe(bytesToHex(txs[i].hash()))
      // The pooled object is the prepared one (no second decode, its recovered sender kept).
      expect(pool.get(txs[i].hash())).toBe(batches[0][i])
      expect(pool.sender(batches[0][i]).toString()).toBe(addressOf(privateKey(i + 1)).toString())
    }
    release()
    expect(pool.stats().pending).toBe(6)
  })

  it('leaves bytes that do not decode to addRaw, which refuses them as before', async () => {
    const { pool, batches } = observedPool()
    const good = feeMarketTx(privateKey(9), {}, common).serialize()
    const bad = Uint8Array.of(0xf8, 0x01)
    const release = await pool.prepareRaw([bad, good])
    expect(batches[0]).toHaveLength(1)
    await expect(pool.addRaw(bad)).rejects.toBeInstanceOf(TxPoolError)
    await pool.addRaw(good)
    release()
  })

  it('after release, what the batch did not take is decoded afresh; a repeated tx is still already known', async () => {
    const { pool, batches } = observedPool()
    const raw = feeMarketTx(privateKey(11), {}, common).serialize()
    const release = await pool.prepareRaw([raw, raw])
    expect(batches[0]).toHaveLength(1)
    release()
    await pool.addRaw(raw)
    const prepared = batches[0][0]
    expect(pool.get(prepared.hash())).not.toBe(prepared)
    await expect(pool.addRaw(raw)).rejects.toMatchObject({ code: 'ALREADY_KNOWN' })
  })
})
