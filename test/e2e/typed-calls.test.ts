import { createPublicClient, http, keccak256, type PublicClient, serializeTransaction, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS } from '../../src/genesis/index.js'
import type { PolisNode } from '../../src/node.js'
import { devChain, removeDir, rpc, startNode, tempDir, waitFor } from '../helpers/node.js'

const SENDER = DEV_ACCOUNTS[0].address.toLowerCase() as `0x${string}`
const BLOB_READER = '0xc000000000000000000000000000000000000021'
const TARGET = '0xc000000000000000000000000000000000000022'
const CONTRACT_SENDER = '0xc000000000000000000000000000000000000023'
const EMPTY = '0xc0000000000000000000000000000000000000fe'
// PUSH0 BLOBHASH PUSH0 MSTORE PUSH1 32 PUSH0 RETURN: the call's first blob hash.
const BLOB_READER_CODE = '0x5f495f5260205ff3'
// PUSH1 42 PUSH0 MSTORE PUSH1 32 PUSH0 RETURN
const RETURN_42_CODE = '0x602a5f5260205ff3'
const BLOB_HASH = '0x010657f37554c781402a22917dee2f75def7ab966d7b770905398eba3c444014'
const RPC_GAS_CAP = 50_000_000n
const EIP7825_CAP = 16_777_216n

type Block = Record<string, unknown> & { calls: Record<string, unknown>[] }

describe('blob and EIP-7702 calls, and simulated blocks as geth builds them', () => {
  let datadir: string
  let node: PolisNode
  let client: PublicClient

  beforeAll(async () => {
    datadir = tempDir()
    node = await startNode({ datadir, rpc: { gasCap: RPC_GAS_CAP } })
    client = createPublicClient({ chain: devChain(node.rpc.url), transport: http(node.rpc.url) })
  })

  afterAll(async () => {
    await node?.stop()
    removeDir(datadir)
  })

  it('runs a call with blobVersionedHashes as a blob transaction: BLOBHASH sees the hashes', async () => {
    const overrides = { [BLOB_READER]: { code: BLOB_READER_CODE } }
    const call = { from: SENDER, to: BLOB_READER, blobVersionedHashes: [BLOB_HASH] }
    expect((await rpc(node.rpc.url, 'eth_call', [call, 'latest', overrides])).result).toBe(BLOB_HASH)
    const plain = await rpc(node.rpc.url, 'eth_call', [{ from: SENDER, to: BLOB_READER }, 'latest', overrides])
    expect(BigInt(plain.result as string)).toBe(0n)
    const estimate = await rpc(node.rpc.url, 'eth_estimateGas', [
      { from: SENDER, to: EMPTY, value: '0x1', blobVersionedHashes: [BLOB_HASH], maxFeePerBlobGas: '0x5' },
    ])
    expect(estimate.result).toBe('0x5208')
  })

  it('refuses a blob call without a recipient or with a bad hash version', async () => {
    const create = await rpc(node.rpc.url, 'eth_call', [{ from: SENDER, blobVersionedHashes: [BLOB_HASH] }])
    expect(create.error?.code).toBe(-32000)
    const badVersion = `0x02${BLOB_HASH.slice(4)}`
    const bad = await rpc(node.rpc.url, 'eth_call', [{ from: SENDER, to: EMPTY, blobVersionedHashes: [badVersion] }])
    expect(bad.error?.code).toBe(-32000)
  })

  it('runs a call with a signed authorizationList as an EIP-7702 transaction: the authority runs the code', async () => {
    const authority = privateKeyToAccount(generatePrivateKey())
    const signed = await authority.signAuthorization({ address: TARGET, chainId: 1337, nonce: 0 })
    const authorization = {
      address: signed.address,
      chainId: toHex(signed.chainId),
      nonce: toHex(signed.nonce),
      yParity: toHex(signed.yParity ?? 0),
      // Quantities, as geth decodes them (no leading zero digits).
      r: toHex(BigInt(signed.r)),
      s: toHex(BigInt(signed.s)),
    }
    const overrides = { [TARGET]: { code: RETURN_42_CODE } }
    const delegated = { from: SENDER, to: authority.address, authorizationList: [authorization] }
    const answer = await rpc(node.rpc.url, 'eth_call', [delegated, 'latest', overrides])
    expect(BigInt(answer.result as string)).toBe(42n)
    // Without the list the authority is an empty account.
    const plain = await rpc(node.rpc.url, 'eth_call', [{ from: SENDER, to: authority.address }, 'latest', overrides])
    expect(plain.result).toBe('0x')
    // The authorization costs intrinsic gas (25000 for an empty authority) on top of the call.
    const estimate = await rpc(node.rpc.url, 'eth_estimateGas', [delegated, 'latest', overrides])
    expect(BigInt(estimate.result as string)).toBeGreaterThan(46_000n)
  })

  it('lets a contract be the sender of eth_call and eth_simulateV1, as geth skips the EIP-3607 check', async () => {
    const overrides = { [CONTRACT_SENDER]: { code: RETURN_42_CODE, balance: '0x10' } }
    const call = { from: CONTRACT_SENDER, to: EMPTY, value: '0x1' }
    expect((await rpc(node.rpc.url, 'eth_call', [call, 'latest', overrides])).result).toBe('0x')
    const simulated = await rpc(node.rpc.url, 'eth_simulateV1', [
      { blockStateCalls: [{ stateOverrides: overrides, calls: [call] }] },
      'latest',
    ])
    expect((simulated.result as Block[])[0].calls[0]).toMatchObject({ status: '0x1', gasUsed: '0x5208' })
  })

  it("hashes simulated transactions as geth's unsigned ones: defaults filled, gas up to the gas cap", async () => {
    const from = '0xc000000000000000000000000000000000000030'
    const answer = await rpc(node.rpc.url, 'eth_simulateV1', [
      {
        blockStateCalls: [
          {
            stateOverrides: { [from]: { balance: '0xffffffffff' }, [BLOB_READER]: { code: BLOB_READER_CODE } },
            calls: [
              { from, to: EMPTY, value: '0x3' },
              { from, to: BLOB_READER, maxFeePerGas: '0x7', blobVersionedHashes: [BLOB_HASH] },
            ],
          },
        ],
        returnFullTransactions: true,
      },
      'latest',
    ])
    const [block] = answer.result as Block[]
    const [transfer, blob] = block.transactions as Record<string, string>[]
    // No gas given: the rest of the block, capped by the gas pool (--rpc-gascap), not by EIP-7825's per-tx cap.
    expect(BigInt(transfer.gas)).toBe(RPC_GAS_CAP)
    expect(BigInt(transfer.gas)).toBeGreaterThan(EIP7825_CAP)
    expect(BigInt(blob.gas)).toBe(RPC_GAS_CAP - 21_000n)
    const zero = { r: '0x0', s: '0x0', yParity: 0 } as const
    expect(transfer).toMatchObject({ type: '0x2', nonce: '0x0', maxFeePerGas: '0x0', maxPriorityFeePerGas: '0x0' })
    const transferBytes = serializeTransaction(
      {
        type: 'eip1559',
        chainId: 1337,
        nonce: 0,
        gas: RPC_GAS_CAP,
        maxFeePerGas: 0n,
        maxPriorityFeePerGas: 0n,
        to: EMPTY,
        value: 3n,
      },
      zero,
    )
    expect(transfer.hash).toBe(keccak256(transferBytes))
    expect(blob).toMatchObject({ type: '0x3', nonce: '0x1', maxFeePerBlobGas: '0x0', blobVersionedHashes: [BLOB_HASH] })
    const blobBytes = serializeTransaction(
      {
        type: 'eip4844',
        chainId: 1337,
        nonce: 1,
        gas: RPC_GAS_CAP - 21_000n,
        maxFeePerGas: 7n,
        maxPriorityFeePerGas: 0n,
        maxFeePerBlobGas: 0n,
        to: BLOB_READER,
        blobVersionedHashes: [BLOB_HASH],
      },
      zero,
    )
    expect(blob.hash).toBe(keccak256(blobBytes))
    expect(block.calls[1].returnData).toBe(BLOB_HASH)
    expect(block.blobGasUsed).toBe('0x20000')
  })

  it('runs the block-start system calls in a simulated block: an empty one has the real block’s state root', async () => {
    // The dev chain seals a block every second: take an empty one and simulate it on its parent with its header.
    const real = await waitFor('an empty block after block 1', async () => {
      const head = await client.getBlock()
      if (head.number < 2n) return undefined
      return head.transactions.length === 0 ? head : undefined
    })
    const answer = await rpc(node.rpc.url, 'eth_simulateV1', [
      {
        blockStateCalls: [
          {
            blockOverrides: {
              time: toHex(real.timestamp),
              feeRecipient: real.miner,
              gasLimit: toHex(real.gasLimit),
              baseFeePerGas: toHex(real.baseFeePerGas ?? 0n),
              prevRandao: real.mixHash,
            },
          },
        ],
      },
      toHex(real.number - 1n),
    ])
    const [block] = answer.result as Block[]
    expect(block.number).toBe(toHex(real.number))
    expect(block.parentHash).toBe(real.parentHash)
    // EIP-4788 stores the beacon root by timestamp and EIP-2935 the parent hash: both change the state.
    expect(block.stateRoot).toBe(real.stateRoot)
    const parent = await client.getBlock({ blockNumber: real.number - 1n })
    expect(block.stateRoot).not.toBe(parent.stateRoot)
    expect(block.requestsHash).toBe('0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  })
})
