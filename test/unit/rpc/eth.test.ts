import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { CallError, ExecutionRevertedError } from '../../../src/execution/index.js'
import { createDispatcher, defaultRpcOptions, type RpcDeps, type RpcOptions } from '../../../src/rpc/index.js'
import { TxPoolError } from '../../../src/txpool/index.js'
import {
  FakeChain,
  fakeDeps,
  GWEI,
  legacyTx,
  log,
  RECIPIENT,
  SENDER,
  spec,
  TOKEN,
  TRANSFER_TOPIC,
  tx1559,
} from './fixtures.js'

type Answer = { result?: unknown; error?: { code: number; message: string; data?: unknown } }

function rpcOver(deps: RpcDeps, opts: Partial<RpcOptions> = {}) {
  const dispatcher = createDispatcher({ ...defaultRpcOptions, ...opts }, deps)
  return async (method: string, ...params: unknown[]): Promise<Answer> =>
    (await dispatcher.handle({ jsonrpc: '2.0', id: 1, method, params })) as Answer
}

const OTHER_TOPIC = hexToBytes(`0x${'ee'.repeat(32)}`)

describe('eth_ over a small chain', () => {
  let chain: FakeChain
  let deps: RpcDeps
  let rpc: ReturnType<typeof rpcOver>
  const pooled = tx1559(9n, { tip: 3n * GWEI })
  const mined = [tx1559(0n, { tip: 2n * GWEI }), legacyTx(1n, 4n * GWEI), tx1559(2n, { tip: 1n * GWEI })]

  beforeEach(() => {
    chain = new FakeChain()
    chain.add([mined[0]], [[log([TRANSFER_TOPIC])]])
    chain.add([])
    chain.add([mined[1], mined[2]], [[], [log([OTHER_TOPIC], '0x02'), log([TRANSFER_TOPIC, OTHER_TOPIC], '0x03')]])
    deps = fakeDeps(chain, [pooled])
    rpc = rpcOver(deps)
  })

  it('answers the simple chain facts', async () => {
    expect((await rpc('eth_chainId')).result).toBe('0x539')
    expect((await rpc('net_version')).result).toBe('1337')
    expect((await rpc('net_listening')).result).toBe(true)
    expect((await rpc('net_peerCount')).result).toBe('0x0')
    expect((await rpc('eth_blockNumber')).result).toBe('0x3')
    expect((await rpc('eth_syncing')).result).toBe(false)
    expect((await rpc('eth_accounts')).result).toEqual([])
    expect((await rpc('web3_clientVersion')).result).toBe('Polis/test')
    expect((await rpc('web3_sha3', '0x68656c6c6f20776f726c64')).result).toBe(
      '0x47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad',
    )
    expect((await rpc('eth_coinbase')).result).toBe('0xbcd4042de499d14e55001ccbb24a551f3b954096')
  })

  it('says etherbase must be specified on a node without a validator key', async () => {
    const answer = await rpcOver({ ...deps, coinbase: undefined })('eth_coinbase')
    expect(answer.error).toEqual({ code: -32000, message: 'etherbase must be explicitly specified' })
  })

  describe('state reads', () => {
    it('defaults the block to latest and accepts tags, numbers, hashes and EIP-1898 objects', async () => {
      const head = chain.head
      for (const block of [
        undefined,
        'latest',
        'safe',
        'finalized',
        '0x1',
        { blockNumber: '0x2' },
        { blockHash: bytesToHex(head.hash()) },
        bytesToHex(head.hash()),
      ]) {
        const params = block === undefined ? [SENDER.toString()] : [SENDER.toString(), block]
        expect((await rpc('eth_getBalance', ...params)).result).toBe('0x4563918244f40000')
      }
      expect(deps.execution.stateAt).toHaveBeenCalledWith(head.header.stateRoot)
    })

    it('says "header not found" for a block above the head and for an unknown hash', async () => {
      expect((await rpc('eth_getBalance', SENDER.toString(), '0x4')).error).toEqual({
        code: -32000,
        message: 'header not found',
      })
      expect((await rpc('eth_getCode', SENDER.toString(), { blockHash: `0x${'00'.repeat(32)}` })).error).toEqual({
        code: -32000,
        message: 'header for hash not found',
      })
    })

    it('reads the pending nonce from the pool and other nonces from state', async () => {
      expect((await rpc('eth_getTransactionCount', SENDER.toString(), 'pending')).result).toBe('0x7')
      expect((await rpc('eth_getTransactionCount', SENDER.toString(), 'latest')).result).toBe('0x3')
    })

    it('pads storage values to 32 bytes', async () => {
      expect((await rpc('eth_getStorageAt', TOKEN.toString(), '0x0')).result).toBe(`0x${'00'.repeat(31)}2a`)
      expect((await rpc('eth_getCode', TOKEN.toString())).result).toBe('0x6000')
    })
  })

  describe('calls', () => {
    it('runs eth_call on the named block and returns the output', async () => {
      const answer = await rpc('eth_call', { from: SENDER.toString(), to: RECIPIENT.toString(), input: '0x12' }, '0x1')
      expect(answer.result).toBe('0xbeef')
      const [request, block] = vi.mocked(deps.execution.call).mock.calls[0]
      expect(bytesToHex(request.data as Uint8Array)).toBe('0x12')
      expect(request.to?.toString()).toBe(RECIPIENT.toString())
      expect(block.header.number).toBe(1n)
    })

    it('maps a revert to code 3 with data, for eth_call and eth_estimateGas', async () => {
      const revert = new ExecutionRevertedError(
        hexToBytes('0x4e487b710000000000000000000000000000000000000000000000000000000000000001'),
        'assert(false)',
      )
      vi.mocked(deps.execution.call).mockRejectedValueOnce(revert)
      vi.mocked(deps.execution.estimateGas).mockRejectedValueOnce(revert)
      for (const method of ['eth_call', 'eth_estimateGas']) {
        expect((await rpc(method, { to: RECIPIENT.toString() })).error).toEqual({
          code: 3,
          message: 'execution reverted: assert(false)',
          data: '0x4e487b710000000000000000000000000000000000000000000000000000000000000001',
        })
      }
    })

    it("refuses contradicting call fields with geth's -32000 messages", async () => {
      expect((await rpc('eth_call', { data: '0x01', input: '0x02' })).error?.message).toBe(
        'both "data" and "input" are set and not equal. Please use "input" to pass transaction call data',
      )
      expect((await rpc('eth_estimateGas', { gasPrice: '0x1', maxFeePerGas: '0x2' })).error).toEqual({
        code: -32000,
        message: 'both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified',
      })
    })

    it('reports call failures as -32000', async () => {
      vi.mocked(deps.execution.estimateGas).mockRejectedValueOnce(new CallError('gas required exceeds allowance (100)'))
      expect((await rpc('eth_estimateGas', {})).error).toEqual({
        code: -32000,
        message: 'gas required exceeds allowance (100)',
      })
      expect((await rpc('eth_estimateGas', {})).result).toBe('0x5208')
    })
  })

  describe('transactions', () => {
    it('submits raw transactions and returns the hash; pool refusals are -32000, bad hex -32602', async () => {
      expect((await rpc('eth_sendRawTransaction', '0x1234')).result).toMatch(/^0x[0-9a-f]{64}$/)
      vi.mocked(deps.txpool.addRaw).mockRejectedValueOnce(new TxPoolError('ALREADY_KNOWN'))
      expect((await rpc('eth_sendRawTransaction', '0x1234')).error).toEqual({ code: -32000, message: 'already known' })
      expect((await rpc('eth_sendRawTransaction', '0x123')).error).toEqual({
        code: -32602,
        message: 'invalid argument 0: hex string of odd length',
      })
    })

    it('finds mined and pooled transactions; unknown hashes are null', async () => {
      const minedTx = (await rpc('eth_getTransactionByHash', bytesToHex(mined[2].hash()))).result as Record<
        string,
        unknown
      >
      expect(minedTx).toMatchObject({ blockNumber: '0x3', transactionIndex: '0x1', from: SENDER.toString() })
      const pending = (await rpc('eth_getTransactionByHash', bytesToHex(pooled.hash()))).result as Record<
        string,
        unknown
      >
      expect(pending).toMatchObject({ blockHash: null, blockNumber: null, transactionIndex: null, nonce: '0x9' })
      expect((await rpc('eth_getTransactionByHash', `0x${'00'.repeat(32)}`)).result).toBeNull()
      expect((await rpc('eth_getTransactionReceipt', bytesToHex(pooled.hash()))).result).toBeNull()
    })

    it('finds receipts with their logs numbered across the block', async () => {
      const receipt = (await rpc('eth_getTransactionReceipt', bytesToHex(mined[2].hash()))).result as {
        logs: { logIndex: string }[]
        gasUsed: string
      }
      expect(receipt.logs.map((l) => l.logIndex)).toEqual(['0x0', '0x1'])
      expect(receipt.gasUsed).toBe('0x5208')
      const all = (await rpc('eth_getBlockReceipts', 'latest')).result as unknown[]
      expect(all).toHaveLength(2)
      expect((await rpc('eth_getBlockReceipts', '0x9')).result).toBeNull()
    })
  })

  describe('blocks', () => {
    it('answers null for blocks above the head or unknown hashes', async () => {
      expect((await rpc('eth_getBlockByNumber', '0x4', false)).result).toBeNull()
      expect((await rpc('eth_getBlockByHash', `0x${'00'.repeat(32)}`, true)).result).toBeNull()
      expect((await rpc('eth_getBlockTransactionCountByNumber', '0x4')).result).toBeNull()
      expect((await rpc('eth_getTransactionByBlockNumberAndIndex', '0x3', '0x2')).result).toBeNull()
    })

    it('resolves safe and finalized to the head and earliest to genesis', async () => {
      const head = bytesToHex(chain.head.hash())
      for (const tag of ['latest', 'pending', 'safe', 'finalized']) {
        expect(((await rpc('eth_getBlockByNumber', tag, false)).result as { hash: string }).hash).toBe(head)
      }
      expect(((await rpc('eth_getBlockByNumber', 'earliest', false)).result as { number: string }).number).toBe('0x0')
    })

    it('returns hashes or full transactions, and the full extraData with seals', async () => {
      const hashes = (await rpc('eth_getBlockByNumber', '0x3', false)).result as {
        transactions: string[]
        extraData: string
      }
      expect(hashes.transactions).toEqual(mined.slice(1).map((tx) => bytesToHex(tx.hash())))
      expect(hashes.extraData.length).toBeGreaterThan(bytesToHex(chain.head.header.extraData).length)
      const full = (await rpc('eth_getBlockByHash', bytesToHex(chain.head.hash()), true)).result as {
        transactions: { hash: string; blockTimestamp: string }[]
      }
      expect(full.transactions[1].hash).toBe(bytesToHex(mined[2].hash()))
      expect((await rpc('eth_getBlockTransactionCountByHash', bytesToHex(chain.head.hash()))).result).toBe('0x2')
      expect(
        (
          (await rpc('eth_getTransactionByBlockHashAndIndex', bytesToHex(chain.head.hash()), '0x0')).result as {
            type: string
          }
        ).type,
      ).toBe('0x0')
    })

    it('requires the full-transactions flag, as geth does', async () => {
      expect((await rpc('eth_getBlockByNumber', 'latest')).error).toEqual({
        code: -32602,
        message: 'missing value for required argument 1',
      })
    })
  })

  describe('eth_getLogs', () => {
    it('filters by address and topics with wildcards, over a range or one block', async () => {
      const all = (await rpc('eth_getLogs', { fromBlock: '0x0', address: TOKEN.toString() })).result as unknown[]
      expect(all).toHaveLength(3)
      const second = (await rpc('eth_getLogs', { fromBlock: 'earliest', topics: [null, bytesToHex(OTHER_TOPIC)] }))
        .result as {
        data: string
        logIndex: string
      }[]
      expect(second.map((l) => [l.data, l.logIndex])).toEqual([['0x03', '0x1']])
      const either = (
        await rpc('eth_getLogs', { fromBlock: '0x0', topics: [[bytesToHex(OTHER_TOPIC), bytesToHex(TRANSFER_TOPIC)]] })
      ).result
      expect(either).toHaveLength(3)
      const byHash = (await rpc('eth_getLogs', { blockHash: bytesToHex(chain.head.hash()) })).result
      expect(byHash).toHaveLength(2)
      expect((await rpc('eth_getLogs', { fromBlock: '0x0', address: RECIPIENT.toString() })).result).toEqual([])
    })

    it("refuses bad ranges with geth's errors", async () => {
      expect((await rpc('eth_getLogs', { fromBlock: '0x3', toBlock: '0x1' })).error).toEqual({
        code: -32602,
        message: 'invalid block range params',
      })
      expect((await rpc('eth_getLogs', { fromBlock: '0x1', toBlock: '0x9' })).error).toEqual({
        code: -32602,
        message: 'block range extends beyond current head block',
      })
      expect((await rpc('eth_getLogs', { blockHash: `0x${'00'.repeat(32)}` })).error).toEqual({
        code: -32000,
        message: 'unknown block',
      })
    })

    it('enforces the block range and result limits', async () => {
      const limited = rpcOver(deps, { maxLogBlockRange: 1, maxLogResults: 2 })
      expect((await limited('eth_getLogs', { fromBlock: '0x0', toBlock: '0x2' })).error).toEqual({
        code: -32000,
        message: 'exceed maximum block range: 1',
      })
      expect((await limited('eth_getLogs', { fromBlock: '0x2', toBlock: '0x3' })).result).toHaveLength(2)
      expect(
        (await limited('eth_getLogs', { blockHash: bytesToHex(chain.blocks[3].block.hash()), topics: [] })).result,
      ).toHaveLength(2)
      const tooMany = rpcOver(deps, { maxLogResults: 2 })
      expect((await tooMany('eth_getLogs', { fromBlock: '0x0' })).error).toEqual({
        code: -32005,
        message: 'query returned more than 2 results',
      })
    })
  })

  describe('fees', () => {
    it('suggests the 60th percentile of recent tips, and adds the next base fee for eth_gasPrice', async () => {
      // Tips seen: 2 gwei, 3 gwei (legacy 4 gwei at base fee 1 gwei), 1 gwei → 60th percentile of [1, 2, 3] = 2 gwei.
      expect((await rpc('eth_maxPriorityFeePerGas')).result).toBe('0x77359400')
      const nextBaseFee = chain.head.header.calcNextBaseFee()
      expect(BigInt((await rpc('eth_gasPrice')).result as string)).toBe(nextBaseFee + 2n * GWEI)
    })

    it('suggests the floor without recent tips; 0 on a gas-free chain', async () => {
      const empty = new FakeChain()
      empty.add([])
      expect((await rpcOver(fakeDeps(empty))('eth_maxPriorityFeePerGas')).result).toBe('0x3b9aca00')
      const zeroSpec = { ...spec, baseFeeMode: 'zero' as const }
      expect((await rpcOver({ ...fakeDeps(empty), spec: zeroSpec })('eth_maxPriorityFeePerGas')).result).toBe('0x0')
      expect((await rpcOver({ ...fakeDeps(empty), spec: zeroSpec })('eth_gasPrice')).result).toBe('0x0')
    })

    it('reports fee history with the next base fee and percentile rewards', async () => {
      const history = (await rpc('eth_feeHistory', '0x2', 'latest', [0, 100])).result as Record<string, unknown[]>
      expect(history.oldestBlock).toBe('0x2')
      expect(history.baseFeePerGas).toHaveLength(3)
      expect(history.baseFeePerGas[2]).toBe(`0x${chain.head.header.calcNextBaseFee().toString(16)}`)
      expect(history.reward).toEqual([
        ['0x0', '0x0'],
        ['0x3b9aca00', '0xb2d05e00'],
      ])
      expect(history.gasUsedRatio).toHaveLength(2)
      expect(history.baseFeePerBlobGas).toHaveLength(3)
      expect(history.blobGasUsedRatio).toEqual([0, 0])
      const noRewards = (await rpc('eth_feeHistory', 10, '0x1')).result as Record<string, unknown>
      expect(noRewards.oldestBlock).toBe('0x0')
      expect('reward' in noRewards).toBe(false)
    })

    it('refuses fee history beyond the head and unordered percentiles', async () => {
      expect((await rpc('eth_feeHistory', '0x1', '0x9')).error).toEqual({
        code: -32000,
        message: 'request beyond head block: requested 9, head 3',
      })
      expect((await rpc('eth_feeHistory', '0x1', 'latest', [50, 10])).error).toEqual({
        code: -32000,
        message: 'invalid reward percentile: #0:50.000000 >= #1:10.000000',
      })
      expect((await rpc('eth_feeHistory', '0x1', 'latest', [101])).error?.message).toBe(
        'invalid reward percentile: 101.000000',
      )
    })
  })
})
