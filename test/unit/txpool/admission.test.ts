import { Hardfork } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bigIntToUnpaddedBytes, bytesToHex, concatBytes, ecrecover, hexToBytes } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { defaultTxPoolOptions, TxPool, TxPoolError, type TxPoolErrorCode } from '../../../src/txpool/index.js'
import { fixtureCommon, readIoFile } from '../../helpers/executionApis.js'
import { addressOf, customCommon, ETHER, FakeChain, feeMarketTx, GWEI, legacyTx, privateKey } from './helpers.js'

const alice = privateKey(1)
const bob = privateKey(2)

async function rejection(promise: Promise<unknown>): Promise<TxPoolError> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(TxPoolError)
    return err as TxPoolError
  }
  throw new Error('expected the pool to reject the transaction')
}

async function expectRejected(promise: Promise<unknown>, code: TxPoolErrorCode, word: string): Promise<TxPoolError> {
  const err = await rejection(promise)
  expect(err.code).toBe(code)
  expect(err.message === word || err.message.startsWith(`${word}: `)).toBe(true)
  return err
}

/** Re-encodes a signed EIP-1559 tx with some fields changed (the signature no longer matches). */
function tamperedFeeMarketRaw(edit: (fields: Uint8Array[]) => void): Uint8Array {
  const fields = feeMarketTx(alice).raw() as Uint8Array[]
  edit(fields)
  return concatBytes(Uint8Array.of(2), RLP.encode(fields))
}

describe('txpool admission errors', () => {
  it('INVALID_RLP for undecodable bytes', async () => {
    const pool = new FakeChain().pool()
    await expectRejected(pool.addRaw(Uint8Array.of(0x02, 0xc0)), 'INVALID_RLP', 'rlp')
    await expectRejected(pool.addRaw(Uint8Array.of(0xf8, 0x01)), 'INVALID_RLP', 'rlp')
    await expectRejected(pool.addRaw(new Uint8Array()), 'INVALID_RLP', 'rlp')
    const valid = feeMarketTx(alice).serialize()
    await expectRejected(pool.addRaw(valid.subarray(0, valid.length - 3)), 'INVALID_RLP', 'rlp')
  })

  it('INVALID_SENDER for a bad, missing or malformed signature', async () => {
    const pool = new FakeChain().pool()
    const signed = feeMarketTx(alice)
    const { nonce, maxFeePerGas, maxPriorityFeePerGas, gasLimit, to, v, s } = signed
    const badR = createFeeMarket1559Tx(
      { nonce, maxFeePerGas, maxPriorityFeePerGas, gasLimit, to, v, r: 0n, s },
      { common: signed.common },
    )
    await expectRejected(pool.add(badR), 'INVALID_SENDER', 'invalid sender')
    await expectRejected(pool.addRaw(badR.serialize()), 'INVALID_SENDER', 'invalid sender')
    const unsigned = createFeeMarket1559Tx({ gasLimit: 21_000n, maxFeePerGas: GWEI * 100n }, { common: signed.common })
    await expectRejected(pool.add(unsigned), 'INVALID_SENDER', 'invalid sender')
    const badYParity = tamperedFeeMarketRaw((fields) => {
      fields[9] = bigIntToUnpaddedBytes(5n)
    })
    await expectRejected(pool.addRaw(badYParity), 'INVALID_SENDER', 'invalid sender')
    expect(pool.stats()).toEqual({ pending: 0, queued: 0 })
  })

  it('admits a blob transaction with a valid sidecar where blobs are accepted (not on QBFT chains)', async () => {
    // The rpc-compat fixture's blob transaction, on the fixture chain at its BPO2 head.
    const raw = hexToBytes(
      readIoFile('eth_sendRawTransaction', 'send-blob-tx').exchanges[0].request.params?.[0] as `0x${string}`,
    )
    const chainCommon = fixtureCommon()
    chainCommon.setHardforkBy({ blockNumber: 54n, timestamp: 540n })
    const chain = new FakeChain(chainCommon)
    chain.head = { number: 54n, baseFeePerGas: 27_399_063n, gasLimit: 200_000_000n }
    const accepting = new TxPool(defaultTxPoolOptions, { ...chain.deps(), acceptBlobs: true })
    expect(bytesToHex(await accepting.addRaw(raw))).toBe(
      '0x05d85f6a761cac82cfdf06dd168952838ac452b10641aabccdfdad46e03d2f0b',
    )
    // A corrupted KZG proof fails the sidecar check.
    const tampered = raw.slice()
    tampered[tampered.length - 10] ^= 0xff
    await expectRejected(
      new TxPool(defaultTxPoolOptions, { ...chain.deps(), acceptBlobs: true }).addRaw(tampered),
      'INVALID_RLP',
      'rlp',
    )
    await expectRejected(chain.pool().addRaw(raw), 'BLOB_NOT_SUPPORTED', 'blob transactions are not supported')
  })

  it('BLOB_NOT_SUPPORTED for type 3, TX_TYPE_NOT_SUPPORTED for unknown or inactive types', async () => {
    const pool = new FakeChain().pool()
    await expectRejected(
      pool.addRaw(Uint8Array.of(0x03, 0xc0)),
      'BLOB_NOT_SUPPORTED',
      'blob transactions are not supported',
    )
    await expectRejected(
      pool.addRaw(Uint8Array.of(0x05, 0xc0)),
      'TX_TYPE_NOT_SUPPORTED',
      'transaction type not supported',
    )
    const berlinPool = new FakeChain(customCommon(Hardfork.Berlin)).pool()
    await expectRejected(
      berlinPool.addRaw(feeMarketTx(alice).serialize()),
      'TX_TYPE_NOT_SUPPORTED',
      'transaction type not supported',
    )
  })

  it('INVALID_CHAIN_ID for typed and EIP-155 txs of another chain', async () => {
    const pool = new FakeChain().pool()
    const mainnetLike = customCommon(Hardfork.Prague, 1n)
    const typed = feeMarketTx(alice, {}, mainnetLike)
    await expectRejected(pool.addRaw(typed.serialize()), 'INVALID_CHAIN_ID', 'invalid chain id for signer')
    await expectRejected(pool.add(typed), 'INVALID_CHAIN_ID', 'invalid chain id for signer')
    const legacy = legacyTx(alice, {}, mainnetLike)
    await expectRejected(pool.addRaw(legacy.serialize()), 'INVALID_CHAIN_ID', 'invalid chain id for signer')
    await expectRejected(pool.add(legacy), 'INVALID_CHAIN_ID', 'invalid chain id for signer')
  })

  it('UNPROTECTED for a legacy tx without EIP-155, accepts an EIP-155 legacy tx', async () => {
    const pool = new FakeChain().pool()
    const unprotected = legacyTx(alice, {}, customCommon(Hardfork.TangerineWhistle))
    expect(unprotected.v === 27n || unprotected.v === 28n).toBe(true)
    const word = 'only replay-protected (EIP-155) transactions allowed over RPC'
    await expectRejected(pool.addRaw(unprotected.serialize()), 'UNPROTECTED', word)
    await expectRejected(pool.add(unprotected), 'UNPROTECTED', word)
    const protectedTx = legacyTx(alice)
    expect(await pool.addRaw(protectedTx.serialize())).toEqual(protectedTx.hash())
  })

  it('OVERSIZED above maxTxBytes', async () => {
    const pool = new FakeChain().pool({ maxTxBytes: 300 })
    const big = feeMarketTx(alice, { data: new Uint8Array(400).fill(1), gasLimit: 100_000n })
    await expectRejected(pool.addRaw(big.serialize()), 'OVERSIZED', 'oversized data')
    await expectRejected(pool.add(big), 'OVERSIZED', 'oversized data')
  })

  it('GAS_LIMIT above the block gas limit', async () => {
    const chain = new FakeChain()
    const pool = chain.pool()
    await expectRejected(
      pool.add(feeMarketTx(alice, { gasLimit: 30_000_001n })),
      'GAS_LIMIT',
      'exceeds block gas limit',
    )
    expect(await pool.add(feeMarketTx(alice, { gasLimit: 30_000_000n }))).toBeInstanceOf(Uint8Array)
  })

  it('GAS_LIMIT_TOO_HIGH above the EIP-7825 cap, only when EIP-7825 is active', async () => {
    const osaka = customCommon(Hardfork.Osaka)
    expect(osaka.isActivatedEIP(7825)).toBe(true)
    const chain = new FakeChain(osaka)
    chain.head.gasLimit = 60_000_000n
    const pool = chain.pool()
    const tooHigh = feeMarketTx(alice, { gasLimit: 2n ** 24n + 1n })
    await expectRejected(pool.addRaw(tooHigh.serialize()), 'GAS_LIMIT_TOO_HIGH', 'transaction gas limit too high')
    await expectRejected(pool.add(tooHigh), 'GAS_LIMIT_TOO_HIGH', 'transaction gas limit too high')
    // The block gas limit is checked first, as in geth.
    const aboveBlock = feeMarketTx(alice, { gasLimit: 60_000_001n })
    await expectRejected(pool.addRaw(aboveBlock.serialize()), 'GAS_LIMIT', 'exceeds block gas limit')
    await pool.addRaw(feeMarketTx(alice, { gasLimit: 2n ** 24n }).serialize())

    const pragueChain = new FakeChain()
    pragueChain.head.gasLimit = 60_000_000n
    expect(await pragueChain.pool().addRaw(tooHigh.serialize())).toEqual(tooHigh.hash())
  })

  it('TIP_ABOVE_FEE_CAP when maxPriorityFeePerGas > maxFeePerGas', async () => {
    const pool = new FakeChain().pool()
    const raw = tamperedFeeMarketRaw((fields) => {
      fields[2] = bigIntToUnpaddedBytes(200n * GWEI)
      fields[3] = bigIntToUnpaddedBytes(100n * GWEI)
    })
    await expectRejected(pool.addRaw(raw), 'TIP_ABOVE_FEE_CAP', 'max priority fee per gas higher than max fee per gas')
  })

  it('INTRINSIC_GAS below the intrinsic gas', async () => {
    const pool = new FakeChain().pool()
    const err = await expectRejected(
      pool.add(feeMarketTx(alice, { gasLimit: 20_999n })),
      'INTRINSIC_GAS',
      'intrinsic gas too low',
    )
    expect(err.message).toContain('21000')
    // EIP-7623 (Prague) calldata floor: 100 non-zero bytes cost 21000 + 100 * 40 = 25000 gas at least.
    const calldata = { data: new Uint8Array(100).fill(1) }
    await expectRejected(
      pool.add(feeMarketTx(alice, { ...calldata, gasLimit: 24_999n })),
      'INTRINSIC_GAS',
      'intrinsic gas too low',
    )
    await pool.add(feeMarketTx(alice, { ...calldata, gasLimit: 25_000n }))
  })

  it('FEE_CAP_TOO_LOW when the fee cap is below the head base fee', async () => {
    const pool = new FakeChain().pool()
    const word = 'max fee per gas less than block base fee'
    const low = { maxFeePerGas: 7n * GWEI - 1n, maxPriorityFeePerGas: 1n }
    await expectRejected(pool.add(feeMarketTx(alice, low)), 'FEE_CAP_TOO_LOW', word)
    await expectRejected(pool.add(legacyTx(alice, { gasPrice: 7n * GWEI - 1n })), 'FEE_CAP_TOO_LOW', word)
  })

  it('ALREADY_KNOWN for a pooled hash, also for concurrent duplicates', async () => {
    const pool = new FakeChain().pool()
    const tx = feeMarketTx(alice)
    await pool.add(tx)
    await expectRejected(pool.addRaw(tx.serialize()), 'ALREADY_KNOWN', 'already known')
    const other = feeMarketTx(bob)
    const results = await Promise.allSettled([pool.addRaw(other.serialize()), pool.addRaw(other.serialize())])
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected'])
    expect(pool.stats().pending).toBe(2)
  })

  it('NONCE_TOO_LOW below the state nonce, with geth detail', async () => {
    const chain = new FakeChain()
    chain.setAccount(addressOf(alice), { nonce: 5n })
    const err = await expectRejected(
      chain.pool().add(feeMarketTx(alice, { nonce: 3n })),
      'NONCE_TOO_LOW',
      'nonce too low',
    )
    expect(err.message).toBe('nonce too low: next nonce 5, tx nonce 3')
  })

  it('INSUFFICIENT_FUNDS for one tx, and for the sum of pooled txs (overdraft)', async () => {
    const chain = new FakeChain()
    const cost = 21_000n * 100n * GWEI
    const word = 'insufficient funds for gas * price + value'
    chain.setAccount(addressOf(alice), { balance: cost + ETHER - 1n })
    const pool = chain.pool()
    await expectRejected(pool.add(feeMarketTx(alice, { value: ETHER })), 'INSUFFICIENT_FUNDS', word)
    await pool.add(feeMarketTx(alice, { value: ETHER / 2n }))
    // Affordable alone, but not on top of nonce 0.
    await expectRejected(pool.add(feeMarketTx(alice, { nonce: 1n, value: ETHER / 2n })), 'INSUFFICIENT_FUNDS', word)
    await pool.add(feeMarketTx(alice, { nonce: 1n, value: ETHER / 2n - 2n * cost }))
    expect(pool.stats()).toEqual({ pending: 2, queued: 0 })
  })

  it('REPLACEMENT_UNDERPRICED at +9 %, replaces at +10 % on both fee cap and tip', async () => {
    const pool = new FakeChain().pool()
    const original = feeMarketTx(alice, { maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: 10n * GWEI })
    await pool.add(original)
    const word = 'replacement transaction underpriced'
    const plus9 = feeMarketTx(alice, { maxFeePerGas: 109n * GWEI, maxPriorityFeePerGas: (109n * GWEI) / 10n })
    await expectRejected(pool.add(plus9), 'REPLACEMENT_UNDERPRICED', word)
    const tipOnly = feeMarketTx(alice, { maxFeePerGas: 109n * GWEI, maxPriorityFeePerGas: 20n * GWEI })
    await expectRejected(pool.add(tipOnly), 'REPLACEMENT_UNDERPRICED', word)
    const plus10 = feeMarketTx(alice, { maxFeePerGas: 110n * GWEI, maxPriorityFeePerGas: 11n * GWEI })
    await pool.add(plus10)
    expect(pool.has(original.hash())).toBe(false)
    expect(pool.get(plus10.hash())).toBe(plus10)
    expect(pool.stats()).toEqual({ pending: 1, queued: 0 })
    expect(pool.selectForBlock(7n * GWEI, 30_000_000n)).toEqual([plus10])
  })

  it('ACCOUNT_LIMIT when one sender queues too many txs behind a gap', async () => {
    const pool = new FakeChain().pool({ maxQueuedPerAccount: 2 })
    await pool.add(feeMarketTx(alice, { nonce: 1n }))
    await pool.add(feeMarketTx(alice, { nonce: 2n }))
    await expectRejected(pool.add(feeMarketTx(alice, { nonce: 3n })), 'ACCOUNT_LIMIT', 'account limit exceeded')
    // Pending txs do not count: filling the gap promotes the queue, and then more fit.
    await pool.add(feeMarketTx(alice, { nonce: 0n }))
    await pool.add(feeMarketTx(alice, { nonce: 3n }))
    expect(pool.stats()).toEqual({ pending: 4, queued: 0 })
  })

  it('POOL_FULL unless the new tx out-pays the cheapest tx of another sender, which is evicted', async () => {
    const pool = new FakeChain().pool({ maxSlots: 3 })
    const carol = privateKey(3)
    const a0 = feeMarketTx(alice, { nonce: 0n, maxPriorityFeePerGas: 2n * GWEI })
    const a1 = feeMarketTx(alice, { nonce: 1n, maxPriorityFeePerGas: 2n * GWEI })
    const b0 = feeMarketTx(bob, { nonce: 0n, maxPriorityFeePerGas: 1n * GWEI })
    for (const tx of [a0, a1, b0]) await pool.add(tx)
    await expectRejected(
      pool.add(feeMarketTx(carol, { maxPriorityFeePerGas: 1n * GWEI })),
      'POOL_FULL',
      'txpool is full',
    )
    const c0 = feeMarketTx(carol, { maxPriorityFeePerGas: 3n * GWEI })
    await pool.add(c0)
    expect(pool.has(b0.hash())).toBe(false)
    expect(pool.has(c0.hash())).toBe(true)
    expect(pool.stats()).toEqual({ pending: 3, queued: 0 })
    // Bob's new tx would evict an Alice tx at 2 gwei only by paying more.
    await expectRejected(pool.add(feeMarketTx(bob, { maxPriorityFeePerGas: 2n * GWEI })), 'POOL_FULL', 'txpool is full')
    // A sender never evicts its own txs: Alice at 3 gwei would out-pay her own 2 gwei txs, but not Carol's.
    await expectRejected(
      pool.add(feeMarketTx(alice, { nonce: 2n, maxPriorityFeePerGas: 3n * GWEI })),
      'POOL_FULL',
      'txpool is full',
    )
  })
})

describe('txpool sender recovery', () => {
  it('recovers each admitted sender exactly once', async () => {
    let recoveries = 0
    const counting = customCommon(undefined, undefined, {
      customCrypto: {
        ecrecover: (...args: Parameters<typeof ecrecover>) => {
          recoveries++
          return ecrecover(...args)
        },
      },
    })
    const pool = new FakeChain(counting).pool()
    const txs = [feeMarketTx(alice), feeMarketTx(alice, { nonce: 1n }), feeMarketTx(bob)]
    for (const tx of txs) await pool.addRaw(tx.serialize())
    expect(recoveries).toBe(3)
    await rejection(pool.addRaw(txs[0].serialize()))
    const pooled = txs.map((tx) => pool.get(tx.hash())!)
    expect(pooled.map((tx) => pool.sender(tx).toString())).toEqual(
      [alice, alice, bob].map((key) => addressOf(key).toString()),
    )
    pool.selectForBlock(7n * GWEI, 30_000_000n)
    await pool.onBlockImported([pooled[0]])
    expect(recoveries).toBe(3)
  })
})
