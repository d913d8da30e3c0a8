import { createLegacyTx, createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { createCrypto } from '../../../src/crypto/index.js'
import { createSenderRecovery } from '../../../src/crypto/senders.js'
import { addressOf, customCommon, feeMarketTx, legacyTx, privateKey, RECIPIENT } from '../txpool/helpers.js'

const crypto = createCrypto()
const common = customCommon(undefined, undefined, { customCrypto: crypto.customCrypto })

function cachedKey(tx: TypedTransaction): Uint8Array | undefined {
  return (tx as unknown as { cache: { senderPubKey?: Uint8Array } }).cache.senderPubKey
}

/** A copy of `tx` with `s` replaced: a signature that recovers to nobody, or to someone else. */
function withS(tx: TypedTransaction, s: bigint): TypedTransaction {
  return createLegacyTx({ ...(tx.toJSON() as object), s }, { common })
}

describe('sender recovery in batches', () => {
  it('recovers every sender of a batch into its cache, the same keys as recovering one by one', async () => {
    expect(crypto.backend).toBe('native')
    const keys = Array.from({ length: 12 }, (_, i) => privateKey(i + 1))
    const txs: TypedTransaction[] = keys.map((key, i) =>
      i % 3 === 0 ? legacyTx(key, {}, common) : feeMarketTx(key, { nonce: BigInt(i) }, common),
    )
    expect(txs.every((tx) => cachedKey(tx) === undefined)).toBe(true)
    await crypto.recoverSenders(txs)
    txs.forEach((tx, i) => {
      expect(cachedKey(tx)?.length).toBe(64)
      expect(tx.getSenderAddress().toString()).toBe(addressOf(keys[i]).toString())
    })
    // The same transactions decoded afresh and recovered on the event loop give the same keys.
    for (const tx of txs) {
      const again = createTxFromRLP(tx.serialize(), { common })
      expect(bytesToHex(again.getSenderPublicKey())).toBe(bytesToHex(cachedKey(tx) as Uint8Array))
    }
  })

  it('leaves a signature it cannot recover to the transaction, which reports it on use', async () => {
    const good = Array.from({ length: 6 }, (_, i) => legacyTx(privateKey(i + 1), {}, common))
    // s = 0 recovers nothing; a high s (EIP-2) is refused by the transaction itself, never sent to the worker.
    const broken = withS(good[0], 0n)
    const highS = withS(good[1], 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140n)
    const batch = [broken, ...good.slice(2), highS]
    await crypto.recoverSenders(batch)
    expect(cachedKey(broken)).toBeUndefined()
    expect(cachedKey(highS)).toBeUndefined()
    expect(() => broken.getSenderAddress()).toThrow(/Invalid Signature/)
    expect(() => highS.getSenderAddress()).toThrow(/Invalid Signature/)
    for (const tx of good.slice(2)) expect(cachedKey(tx)).toBeDefined()
  })

  it('a transaction asked for twice while in flight is recovered once, and both callers wait for it', async () => {
    const txs = Array.from({ length: 8 }, (_, i) => feeMarketTx(privateKey(i + 20), {}, common))
    const first = crypto.recoverSenders(txs)
    const second = crypto.recoverSenders(txs.slice(2))
    await second
    expect(txs.slice(2).every((tx) => cachedKey(tx) !== undefined)).toBe(true)
    await first
    expect(txs.every((tx) => cachedKey(tx) !== undefined)).toBe(true)
  })

  it('recovers small batches and, without the native addon, everything on the event loop', async () => {
    const fallback = createSenderRecovery(false)
    const txs = Array.from({ length: 5 }, (_, i) => feeMarketTx(privateKey(i + 40), {}, common))
    await fallback(txs)
    txs.forEach((tx, i) => {
      expect(cachedKey(tx)).toBeDefined()
      expect(tx.getSenderAddress().toString()).toBe(addressOf(privateKey(i + 40)).toString())
    })
    const one = feeMarketTx(privateKey(50), {}, common)
    await crypto.recoverSenders([one])
    expect(cachedKey(one)).toBeDefined()
    // An unsigned transaction has nothing to recover and is left alone.
    await expect(fallback([createLegacyTx({ to: RECIPIENT, gasLimit: 21_000n }, { common })])).resolves.toBeUndefined()
  })
})

describe('sender address memo', () => {
  it('gives the address of the cached key, the same as hashing it, without hashing again', async () => {
    const tx = feeMarketTx(privateKey(60), {}, common)
    const first = tx.getSenderAddress()
    expect(first.toString()).toBe(addressOf(privateKey(60)).toString())
    const cache = (tx as unknown as { cache: { senderAddress?: Uint8Array } }).cache
    expect(bytesToHex(cache.senderAddress as Uint8Array)).toBe(first.toString())
    // Each caller gets its own Address over the remembered bytes.
    const second = tx.getSenderAddress()
    expect(second).not.toBe(first)
    expect(second.equals(first)).toBe(true)
    // Unsigned or unrecoverable transactions still fail as the library says.
    expect(() => createLegacyTx({ to: RECIPIENT, gasLimit: 21_000n }, { common }).getSenderAddress()).toThrow(
      /Invalid Signature|not signed/,
    )
  })
})
