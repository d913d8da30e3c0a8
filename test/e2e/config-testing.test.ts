import { crc32 } from 'node:zlib'
import { hexToBytes } from '@ethereumjs/util'
import { getAddress, parseEther, parseGwei } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS } from '../../src/genesis/index.js'
import type { PolisNode } from '../../src/node.js'
import { defaultRpcAdminOptions } from '../../src/rpc/index.js'
import { removeDir, rpc, startNode, tempDir, waitFor } from '../helpers/node.js'
import { openRpcValidator } from '../helpers/openRpc.js'

const sender = privateKeyToAccount(DEV_ACCOUNTS[3].privateKey)
const ZERO_HASH = `0x${'00'.repeat(32)}`

interface Block {
  number: `0x${string}`
  hash: `0x${string}`
  timestamp: `0x${string}`
  gasLimit: `0x${string}`
  baseFeePerGas: `0x${string}`
}

describe('eth_config, eth_capabilities and testing_buildBlockV1 on the dev chain', () => {
  let dir: string
  let node: PolisNode
  const call = async <T>(method: string, params: unknown[] = []) => {
    const res = await rpc(node.rpc.url, method, params)
    if (res.error) throw Object.assign(new Error(res.error.message), { code: res.error.code })
    return res.result as T
  }

  beforeAll(async () => {
    dir = tempDir('polis-config-')
    node = await startNode({ datadir: dir, rpc: { apis: ['eth', 'net', 'web3', 'testing'] } })
    await waitFor('block 1', async () => ((await call<string>('eth_blockNumber')) !== '0x0' ? true : undefined))
  })

  afterAll(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('eth_config: Osaka since genesis, fork id of the genesis hash, nothing scheduled', async () => {
    const config = await call<Record<string, Record<string, unknown> | null>>('eth_config')
    expect(openRpcValidator('eth_config')(config)).toBe(true)
    const genesis = await call<Block>('eth_getBlockByNumber', ['0x0', false])
    const forkId = `0x${(crc32(hexToBytes(genesis.hash)) >>> 0).toString(16).padStart(8, '0')}`
    expect(config.current).toMatchObject({ activationTime: 0, chainId: '0x539', forkId })
    expect(config.current?.blobSchedule).toEqual({ target: 6, max: 9, baseFeeUpdateFraction: 5007716 })
    expect(config.current?.precompiles).toHaveProperty('P256VERIFY', '0x0000000000000000000000000000000000000100')
    expect(config.next).toBeNull()
    expect(config.last).toBeNull()
  })

  it('eth_capabilities: an archive node, everything from block 0, head as eth_getBlockByNumber has it', async () => {
    const caps = await call<{ head: { number: string; hash: string } } & Record<string, unknown>>('eth_capabilities')
    expect(openRpcValidator('eth_capabilities')(caps)).toBe(true)
    for (const resource of ['state', 'tx', 'logs', 'receipts', 'blocks', 'stateproofs']) {
      expect(caps[resource]).toEqual({ disabled: false, oldestBlock: '0x0' })
    }
    const block = await call<Block>('eth_getBlockByNumber', [caps.head.number, false])
    expect(block.hash).toBe(caps.head.hash)
  })

  it('testing_buildBlockV1 builds on the head with the given transactions and changes nothing', async () => {
    const parent = await call<Block>('eth_getBlockByNumber', ['latest', false])
    const tx = await sender.signTransaction({
      chainId: 1337,
      type: 'eip1559',
      nonce: 0,
      to: getAddress(DEV_ACCOUNTS[4].address),
      value: parseEther('1'),
      gas: 21_000n,
      maxFeePerGas: parseGwei('10'),
      maxPriorityFeePerGas: parseGwei('1'),
    })
    const attributes = {
      timestamp: `0x${(BigInt(parent.timestamp) + 1n).toString(16)}`,
      prevRandao: ZERO_HASH,
      suggestedFeeRecipient: `0x${'ab'.repeat(20)}`,
      withdrawals: [],
      parentBeaconBlockRoot: ZERO_HASH,
    }
    const built = await call<{ executionPayload: Record<string, unknown>; blockValue: string }>(
      'testing_buildBlockV1',
      [parent.hash, attributes, [tx], '0x706f6c6973'],
    )
    expect(openRpcValidator('testing_buildBlockV1')(built)).toBe(true)
    expect(built.executionPayload).toMatchObject({
      parentHash: parent.hash,
      feeRecipient: attributes.suggestedFeeRecipient,
      blockNumber: `0x${(BigInt(parent.number) + 1n).toString(16)}`,
      gasLimit: parent.gasLimit,
      gasUsed: '0x5208',
      timestamp: attributes.timestamp,
      extraData: '0x706f6c6973',
      transactions: [tx],
      withdrawals: [],
    })
    expect(BigInt(built.blockValue)).toBe(parseGwei('1') * 21_000n)
    // Not imported, not pooled, state untouched.
    expect(await call('eth_getTransactionCount', [sender.address, 'latest'])).toBe('0x0')
    expect(await call('eth_getBlockByHash', [built.executionPayload.blockHash, false])).toBeNull()

    const early = await rpc(node.rpc.url, 'testing_buildBlockV1', [
      parent.hash,
      { ...attributes, timestamp: parent.timestamp },
      [],
    ])
    expect(early.error?.code).toBe(-32602)
  })

  it('testing_buildBlockV1 fails with geth error for a transaction that does not apply', async () => {
    const parent = await call<Block>('eth_getBlockByNumber', ['latest', false])
    const tx = await sender.signTransaction({
      chainId: 1337,
      type: 'eip1559',
      nonce: 5,
      to: getAddress(DEV_ACCOUNTS[4].address),
      gas: 21_000n,
      maxFeePerGas: parseGwei('10'),
      maxPriorityFeePerGas: parseGwei('1'),
    })
    const res = await rpc(node.rpc.url, 'testing_buildBlockV1', [
      parent.hash,
      {
        timestamp: `0x${(BigInt(parent.timestamp) + 1n).toString(16)}`,
        prevRandao: ZERO_HASH,
        suggestedFeeRecipient: `0x${'ab'.repeat(20)}`,
        withdrawals: [],
        parentBeaconBlockRoot: ZERO_HASH,
      },
      [tx],
    ])
    expect(res.error).toEqual({
      code: -32000,
      message: `nonce too high: address ${sender.address}, tx: 5 state: 0`,
    })
  })

  it('the testing namespace is served only when asked for', async () => {
    expect(defaultRpcAdminOptions.apis).not.toContain('testing')
    const other = tempDir('polis-config-off-')
    const plain = await startNode({ datadir: other })
    try {
      const res = await rpc(plain.rpc.url, 'testing_buildBlockV1', [])
      expect(res.error?.code).toBe(-32601)
      expect((await rpc(plain.rpc.url, 'eth_config', [])).result).toBeDefined()
    } finally {
      await plain.stop()
      removeDir(other)
    }
  })
})
