import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PolisNode } from '../../src/node.js'
import { rpc, startNode, tempDir, waitFor } from '../helpers/node.js'

describe('JSON-RPC protocol and block tags', () => {
  let datadir: string
  let node: PolisNode

  beforeAll(async () => {
    datadir = tempDir()
    node = await startNode({ datadir })
    await waitFor('block 2', async () => (node.chain.head.header.number >= 2n ? true : undefined))
  })

  afterAll(async () => {
    await node?.stop()
    rmSync(datadir, { recursive: true, force: true })
  })

  const post = async (body: string) => {
    const res = await fetch(node.rpc.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    return { status: res.status, json: (await res.json()) as unknown }
  }

  it('answers malformed JSON with -32700, an invalid request with -32600, an unknown method with -32601', async () => {
    expect(((await post('{"jsonrpc":"2.0","id":1,')).json as { error: { code: number } }).error.code).toBe(-32700)
    expect(
      ((await post('{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}')).json as { error: { code: number } }).error.code,
    ).toBe(-32600)
    const unknown = await rpc(node.rpc.url, 'eth_noSuchMethod', [])
    expect(unknown.error?.code).toBe(-32601)
  })

  it('answers bad params with -32602', async () => {
    expect((await rpc(node.rpc.url, 'eth_getBalance', ['0x1234', 'latest'])).error?.code).toBe(-32602)
    expect((await rpc(node.rpc.url, 'eth_getBlockByNumber', ['latest'])).error?.code).toBe(-32602)
    expect((await rpc(node.rpc.url, 'eth_getBlockByNumber', ['0x01', false])).error?.code).toBe(-32602)
  })

  it('serves batches in order and skips notifications', async () => {
    const { json } = await post(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] },
        { jsonrpc: '2.0', method: 'eth_blockNumber', params: [] },
        { jsonrpc: '2.0', id: 'b', method: 'net_version', params: [] },
      ]),
    )
    expect(json).toEqual([
      { jsonrpc: '2.0', id: 1, result: '0x539' },
      { jsonrpc: '2.0', id: 'b', result: '1337' },
    ])
  })

  it('resolves latest, safe, finalized and earliest tags; unknown blocks and transactions are null', async () => {
    const latest = (await rpc(node.rpc.url, 'eth_getBlockByNumber', ['latest', false])).result as {
      number: string
      hash: string
    }
    const safe = (await rpc(node.rpc.url, 'eth_getBlockByNumber', ['safe', false])).result as { number: string }
    const finalized = (await rpc(node.rpc.url, 'eth_getBlockByNumber', ['finalized', false])).result as {
      number: string
    }
    expect(BigInt(safe.number)).toBeGreaterThanOrEqual(BigInt(latest.number))
    expect(BigInt(finalized.number)).toBeGreaterThanOrEqual(BigInt(latest.number))
    const earliest = (await rpc(node.rpc.url, 'eth_getBlockByNumber', ['earliest', false])).result as {
      number: string
      extraData: string
    }
    expect(earliest.number).toBe('0x0')
    expect(latest).not.toHaveProperty('totalDifficulty')
    expect((await rpc(node.rpc.url, 'eth_getBlockByNumber', ['0xffffff', false])).result).toBeNull()
    expect((await rpc(node.rpc.url, 'eth_getBlockByHash', [`0x${'11'.repeat(32)}`, false])).result).toBeNull()
    expect((await rpc(node.rpc.url, 'eth_getTransactionByHash', [`0x${'11'.repeat(32)}`])).result).toBeNull()
    expect((await rpc(node.rpc.url, 'eth_getTransactionReceipt', [`0x${'11'.repeat(32)}`])).result).toBeNull()
    const byHash = (await rpc(node.rpc.url, 'eth_getBlockByHash', [latest.hash, false])).result as { number: string }
    expect(byHash.number).toBe(latest.number)
  })

  it('shows QBFT blocks: proposer as miner, difficulty 1, the Istanbul mixHash and sealed extraData', async () => {
    const block = (await rpc(node.rpc.url, 'eth_getBlockByNumber', ['0x1', false])).result as Record<string, string>
    expect(block.difficulty).toBe('0x1')
    expect(block.mixHash).toBe('0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365')
    expect(block.miner).toBe('0xbcd4042de499d14e55001ccbb24a551f3b954096')
    // extraData carries one 65-byte committed seal (0xf843 list header + 0xb841 item header).
    expect(block.extraData).toContain('f843b841')
  })

  it('reports fees a wallet can use', async () => {
    const gasPrice = BigInt((await rpc(node.rpc.url, 'eth_gasPrice', [])).result as string)
    const tip = BigInt((await rpc(node.rpc.url, 'eth_maxPriorityFeePerGas', [])).result as string)
    expect(gasPrice).toBeGreaterThan(tip)
    const history = (await rpc(node.rpc.url, 'eth_feeHistory', ['0x2', 'latest', [25, 75]])).result as {
      baseFeePerGas: string[]
      reward: string[][]
      gasUsedRatio: number[]
    }
    expect(history.baseFeePerGas).toHaveLength(3)
    expect(history.reward).toHaveLength(2)
    expect(history.reward[0]).toHaveLength(2)
    expect(history.gasUsedRatio).toHaveLength(2)
  })
})
