import { rmSync } from 'node:fs'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util'
import { createPublicClient, type Hex, http, keccak256, type PublicClient, parseGwei, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCrypto } from '../../src/crypto/index.js'
import { DEV_ACCOUNTS } from '../../src/genesis/index.js'
import type { PolisNode } from '../../src/node.js'
import { devChain, rpc, startNode, tempDir } from '../helpers/node.js'

const sender = privateKeyToAccount(DEV_ACCOUNTS[3].privateKey)
const other = privateKeyToAccount(DEV_ACCOUNTS[4].privateKey)
const poor = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690e' as Hex)
const CHAIN_ID = 1337
const crypto = createCrypto()

/** Signs an EIP-1559 tx without the client-side checks wallets apply (to test the node's own). */
function signUnchecked(key: Hex, tx: { nonce: bigint; maxFeePerGas: bigint; tip: bigint }): Hex {
  const fields = [
    bigIntToUnpaddedBytes(BigInt(CHAIN_ID)),
    bigIntToUnpaddedBytes(tx.nonce),
    bigIntToUnpaddedBytes(tx.tip),
    bigIntToUnpaddedBytes(tx.maxFeePerGas),
    bigIntToUnpaddedBytes(21_000n),
    hexToBytes(other.address),
    bigIntToUnpaddedBytes(1n),
    new Uint8Array(),
    [],
  ]
  const hash = crypto.keccak256(concatBytes(Uint8Array.of(2), RLP.encode(fields)))
  const signature = crypto.sign(hash, hexToBytes(key))
  const r = signature.subarray(0, 32)
  const s = signature.subarray(32, 64)
  const v = bigIntToUnpaddedBytes(BigInt(signature[64]))
  return bytesToHex(concatBytes(Uint8Array.of(2), RLP.encode([...fields, v, r, s]))) as Hex
}

describe('transaction submission over JSON-RPC', () => {
  let datadir: string
  let node: PolisNode
  let client: PublicClient

  beforeAll(async () => {
    datadir = tempDir()
    node = await startNode({ datadir })
    client = createPublicClient({ chain: devChain(node.rpc.url), transport: http(node.rpc.url), pollingInterval: 200 })
  })

  afterAll(async () => {
    await node?.stop()
    rmSync(datadir, { recursive: true, force: true })
  })

  const sign = (
    account: ReturnType<typeof privateKeyToAccount>,
    tx: Partial<{
      nonce: number
      gas: bigint
      maxFeePerGas: bigint
      maxPriorityFeePerGas: bigint
      value: bigint
      data: Hex
      chainId: number
      to: Hex
    }>,
  ) =>
    account.signTransaction({
      type: 'eip1559',
      chainId: tx.chainId ?? CHAIN_ID,
      nonce: tx.nonce ?? 0,
      to: tx.to ?? other.address,
      value: tx.value ?? 1n,
      gas: tx.gas ?? 21_000n,
      maxFeePerGas: tx.maxFeePerGas ?? parseGwei('10'),
      maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? parseGwei('1'),
      data: tx.data,
    })

  async function send(raw: Hex) {
    return rpc(node.rpc.url, 'eth_sendRawTransaction', [raw])
  }

  async function expectError(raw: Hex, code: number, word: string) {
    const res = await send(raw)
    expect(res.error?.code).toBe(code)
    expect(res.error?.message.startsWith(word)).toBe(true)
  }

  it('queues a future nonce, replaces it only with a 10 % higher fee, and mines both once the gap is filled', async () => {
    const nonce = await client.getTransactionCount({ address: sender.address })
    const queued = await sign(sender, {
      nonce: nonce + 1,
      maxFeePerGas: parseGwei('10'),
      maxPriorityFeePerGas: parseGwei('2'),
    })
    expect((await send(queued)).result).toBe(keccak256(queued))
    // The gap hides the queued tx from the pending nonce, so the app can find the nonce to fill.
    expect(await client.getTransactionCount({ address: sender.address, blockTag: 'pending' })).toBe(nonce)
    const tooCheap = await sign(sender, {
      nonce: nonce + 1,
      maxFeePerGas: parseGwei('10.9'),
      maxPriorityFeePerGas: parseGwei('2.18'),
    })
    await expectError(tooCheap, -32000, 'replacement transaction underpriced')
    const replacement = await sign(sender, {
      nonce: nonce + 1,
      maxFeePerGas: parseGwei('11'),
      maxPriorityFeePerGas: parseGwei('2.2'),
    })
    expect((await send(replacement)).result).toBe(keccak256(replacement))
    const pooled = await client.getTransaction({ hash: keccak256(replacement) })
    expect(pooled.blockHash).toBeNull()
    const filler = await sign(sender, { nonce })
    await send(filler)
    const mined = await client.waitForTransactionReceipt({ hash: keccak256(replacement), timeout: 20_000 })
    expect(mined.status).toBe('success')
    expect(await client.getTransactionReceipt({ hash: keccak256(filler) })).toMatchObject({ status: 'success' })
    expect(await client.getTransaction({ hash: keccak256(queued) }).catch(() => null)).toBeNull()
    expect(await client.getTransactionCount({ address: sender.address })).toBe(nonce + 2)
  })

  it("answers each bad transaction with geth's error word", async () => {
    const nonce = await client.getTransactionCount({ address: sender.address })
    const ok = await sign(sender, { nonce, maxFeePerGas: parseGwei('5') })
    await send(ok)
    await expectError(ok, -32000, 'already known')
    await client.waitForTransactionReceipt({ hash: keccak256(ok), timeout: 20_000 })
    await expectError(await sign(sender, { nonce: 0 }), -32000, 'nonce too low')
    await expectError(await sign(poor, { nonce: 0, value: 1n }), -32000, 'insufficient funds for gas * price + value')
    await expectError(await sign(sender, { nonce: nonce + 1, gas: 20_000n }), -32000, 'intrinsic gas too low')
    await expectError(await sign(sender, { nonce: nonce + 1, gas: 200_000_000n }), -32000, 'exceeds block gas limit')
    await expectError(
      await sign(sender, { nonce: nonce + 1, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n }),
      -32000,
      'max fee per gas less than block base fee',
    )
    await expectError(
      signUnchecked(DEV_ACCOUNTS[3].privateKey, {
        nonce: BigInt(nonce + 1),
        maxFeePerGas: parseGwei('2'),
        tip: parseGwei('3'),
      }),
      -32000,
      'max priority fee per gas higher than max fee per gas',
    )
    await expectError(
      await sign(sender, { nonce: nonce + 1, gas: 5_000_000n, data: toHex(new Uint8Array(140 * 1024)) }),
      -32000,
      'oversized data',
    )
    await expectError(await sign(sender, { nonce: nonce + 1, chainId: 1 }), -32000, 'invalid chain id for signer')
  })

  it('refuses blob transactions, undecodable bytes and bad hex', async () => {
    // A type-3 envelope: the pool refuses the type before decoding the blob fields.
    const blob = await sender.signTransaction({
      type: 'eip4844',
      chainId: CHAIN_ID,
      nonce: 0,
      to: other.address,
      gas: 21_000n,
      maxFeePerGas: parseGwei('10'),
      maxPriorityFeePerGas: parseGwei('1'),
      maxFeePerBlobGas: parseGwei('1'),
      blobVersionedHashes: [`0x01${'00'.repeat(31)}`],
    })
    await expectError(blob, -32000, 'blob transactions are not supported')
    const garbage = await send('0x02c0ffee')
    expect(garbage.error?.code).toBe(-32000)
    expect(garbage.error?.message).toMatch(/^rlp|^invalid/)
    const notHex = await send('0xzz' as Hex)
    expect(notHex.error?.code).toBe(-32602)
  })
})
