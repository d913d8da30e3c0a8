import { createPublicClient, http, type PublicClient } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS } from '../../src/genesis/index.js'
import type { PolisNode } from '../../src/node.js'
import { devChain, removeDir, rpc, startNode, tempDir } from '../helpers/node.js'

const SENDER = DEV_ACCOUNTS[0].address.toLowerCase() as `0x${string}`
const COUNTER = '0xc000000000000000000000000000000000000001'
const CALLER = '0xc000000000000000000000000000000000000002'
const LOOP = '0xc000000000000000000000000000000000000003'
const READER = '0xc000000000000000000000000000000000000004'
const EMPTY = '0xc0000000000000000000000000000000000000ff'
const slot = (n: number) => `0x${n.toString(16).padStart(64, '0')}`

// Hand-assembled runtime code:
// COUNTER: slot0 += 1; return slot0
const COUNTER_CODE = '0x6000546001018060005560005260206000f3'
// CALLER: CALL COUNTER (return 32 bytes into memory 0), read own slot 1, return memory[0..32]
const CALLER_CODE = `0x6020600060006000600073${COUNTER.slice(2)}5af15060015450 60206000f3`.replace(' ', '')
// LOOP: JUMPDEST PUSH1 0 JUMP, forever
const LOOP_CODE = '0x5b600056'
// READER: returns [NUMBER, TIMESTAMP, BALANCE(CALLER), GAS] as four words
const READER_CODE = `0x4360005242602052${'73'}${CALLER.slice(2)}31604052${'5a'}60605260806000f3`

const word = (hex: string, index: number) => BigInt(`0x${hex.slice(2 + index * 64, 2 + (index + 1) * 64)}`)

describe('calls with overrides, access lists and simulation on the dev chain', () => {
  let datadir: string
  let node: PolisNode
  let client: PublicClient

  beforeAll(async () => {
    datadir = tempDir()
    node = await startNode({ datadir })
    client = createPublicClient({ chain: devChain(node.rpc.url), transport: http(node.rpc.url) })
  })

  afterAll(async () => {
    await node?.stop()
    removeDir(datadir)
  })

  const contracts = {
    [COUNTER]: { code: COUNTER_CODE, state: { [slot(0)]: slot(41) } },
    [CALLER]: { code: CALLER_CODE, balance: '0x7' },
  }

  describe('eth_call overrides', () => {
    it('runs code, balance and storage from a state override', async () => {
      const result = await client.request({
        method: 'eth_call',
        params: [{ to: CALLER }, 'latest', contracts],
      } as never)
      expect(BigInt(result as string)).toBe(42n)
    })

    it('replaces all storage with state and patches slots with stateDiff', async () => {
      const withState = { [COUNTER]: { code: COUNTER_CODE, state: { [slot(1)]: slot(5) } } }
      expect(
        BigInt((await rpc(node.rpc.url, 'eth_call', [{ to: COUNTER }, 'latest', withState])).result as string),
      ).toBe(1n)
      const withDiff = { [COUNTER]: { code: COUNTER_CODE, stateDiff: { [slot(0)]: slot(9) } } }
      expect(
        BigInt((await rpc(node.rpc.url, 'eth_call', [{ to: COUNTER }, 'latest', withDiff])).result as string),
      ).toBe(10n)
    })

    it("refuses state and stateDiff together with geth's error", async () => {
      const both = { [COUNTER]: { state: {}, stateDiff: {} } }
      expect((await rpc(node.rpc.url, 'eth_call', [{ to: COUNTER }, 'latest', both])).error).toEqual({
        code: -32000,
        message: "account 0xC000000000000000000000000000000000000001 has both 'state' and 'stateDiff'",
      })
    })

    it('applies block overrides for number and time', async () => {
      const overrides = { [READER]: { code: READER_CODE }, [CALLER]: { balance: '0x1234' } }
      const answer = await rpc(node.rpc.url, 'eth_call', [
        { to: READER },
        'latest',
        overrides,
        { number: '0x3039', time: '0x64' },
      ])
      const out = answer.result as string
      expect(word(out, 0)).toBe(12345n)
      expect(word(out, 1)).toBe(100n)
      expect(word(out, 2)).toBe(0x1234n)
    })

    it('overrides state for eth_estimateGas', async () => {
      const plain = BigInt((await rpc(node.rpc.url, 'eth_estimateGas', [{ to: EMPTY }])).result as string)
      expect(plain).toBe(21000n)
      const withCode = await rpc(node.rpc.url, 'eth_estimateGas', [
        { to: COUNTER },
        'latest',
        { [COUNTER]: { code: COUNTER_CODE } },
      ])
      expect(BigInt(withCode.result as string)).toBeGreaterThan(21000n + 20000n)
    })
  })

  describe('eth_createAccessList', () => {
    it('lists the slots of the recipient and of the contract it calls, without sender and recipient alone', async () => {
      const answer = await rpc(node.rpc.url, 'eth_createAccessList', [
        { from: SENDER, to: CALLER },
        'latest',
        contracts,
      ])
      const result = answer.result as { accessList: { address: string; storageKeys: string[] }[]; gasUsed: string }
      expect(result.accessList).toEqual(
        expect.arrayContaining([
          { address: CALLER, storageKeys: [slot(1)] },
          { address: COUNTER, storageKeys: [slot(0)] },
        ]),
      )
      expect(result.accessList).toHaveLength(2)
      expect(result.accessList.map((e) => e.address)).not.toContain(SENDER)
      // The gas used includes the access list and is what eth_call with that list uses.
      expect(BigInt(result.gasUsed)).toBeGreaterThan(21000n)
      expect(Object.keys(result)).toEqual(['accessList', 'gasUsed'])
    })

    it('answers an empty list for a plain transfer', async () => {
      const answer = await client.request({
        method: 'eth_createAccessList',
        params: [{ from: SENDER, to: EMPTY, value: '0xa' }, 'latest'],
      } as never)
      expect(answer).toEqual({ accessList: [], gasUsed: '0x5208' })
    })

    it('reports a failing call in `error` with the list it touched', async () => {
      // Reads slot 0x42ff then reverts.
      const reverter = '0xc000000000000000000000000000000000000005'
      const answer = await rpc(node.rpc.url, 'eth_createAccessList', [
        { to: reverter, gas: '0x186a0' },
        'latest',
        { [reverter]: { code: '0x6142ff5460006000fd' } },
      ])
      expect(answer.result).toMatchObject({
        accessList: [{ address: reverter, storageKeys: [slot(0x42ff)] }],
        error: 'execution reverted',
      })
    })
  })

  describe('eth_simulateV1', () => {
    it('runs blocks of calls in order with state carried between blocks and auto-filled numbers and times', async () => {
      const head = await client.getBlock()
      const from = '0xc000000000000000000000000000000000000010'
      const to = '0xc000000000000000000000000000000000000011'
      const answer = await rpc(node.rpc.url, 'eth_simulateV1', [
        {
          blockStateCalls: [
            {
              stateOverrides: { [from]: { balance: '0x3e8' } },
              calls: [{ from, to, value: '0x1f4' }],
            },
            {
              blockOverrides: { number: `0x${(head.number + 3n).toString(16)}` },
              calls: [{ from, to, value: '0x1f4' }],
            },
          ],
          traceTransfers: true,
        },
        'latest',
      ])
      const blocks = answer.result as Record<string, unknown>[]
      expect(blocks.map((b) => BigInt(b.number as string))).toEqual([
        head.number + 1n,
        head.number + 2n,
        head.number + 3n,
      ])
      expect(blocks.map((b) => BigInt(b.timestamp as string))).toEqual([
        head.timestamp + 12n,
        head.timestamp + 24n,
        head.timestamp + 36n,
      ])
      expect(blocks[1].calls).toEqual([])
      expect(blocks[1].parentHash).toBe(blocks[0].hash)
      expect(blocks[2].parentHash).toBe(blocks[1].hash)
      const call = (blocks[2].calls as Record<string, unknown>[])[0]
      expect(call).toMatchObject({ returnData: '0x', gasUsed: '0x5208', maxUsedGas: '0x5208', status: '0x1' })
      // traceTransfers: the value transfer as an ERC-7528 Transfer log.
      const logs = call.logs as Record<string, unknown>[]
      expect(logs).toHaveLength(1)
      expect(logs[0]).toMatchObject({
        address: '0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee',
        topics: [
          '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef',
          `0x${from.slice(2).padStart(64, '0')}`,
          `0x${to.slice(2).padStart(64, '0')}`,
        ],
        data: `0x${'1f4'.padStart(64, '0')}`,
        blockHash: blocks[2].hash,
        transactionHash: (blocks[2].transactions as string[])[0],
        logIndex: '0x0',
      })
      expect(blocks[0].gasUsed).toBe('0x5208')
      expect(Object.keys(blocks[0])).toEqual([...Object.keys(blocks[0])].sort())
    })

    it('runs out of funds in the second block once the first spent them', async () => {
      const from = '0xc000000000000000000000000000000000000012'
      const answer = await rpc(node.rpc.url, 'eth_simulateV1', [
        {
          blockStateCalls: [
            { stateOverrides: { [from]: { balance: '0x3e8' } }, calls: [{ from, to: EMPTY, value: '0x3e8' }] },
            { calls: [{ from, to: EMPTY, value: '0x1' }] },
          ],
        },
      ])
      expect(answer.error?.code).toBe(-38014)
      expect(answer.error?.message).toMatch(
        /^err: insufficient funds for gas \* price \+ value: address 0x[cC]0+12 have 0 want 1 \(supplied gas \d+\)$/,
      )
    })

    it('checks nonces and the base fee with validation', async () => {
      const from = '0xc000000000000000000000000000000000000013'
      const nonceLow = await rpc(node.rpc.url, 'eth_simulateV1', [
        {
          blockStateCalls: [
            {
              blockOverrides: { baseFeePerGas: '0x1' },
              stateOverrides: { [from]: { balance: '0xffffffffff', nonce: '0x5' } },
              calls: [{ from, to: EMPTY, nonce: '0x4', maxFeePerGas: '0x1' }],
            },
          ],
          validation: true,
        },
      ])
      expect(nonceLow.error?.code).toBe(-38010)
      expect(nonceLow.error?.message).toMatch(
        /^err: nonce too low: address 0x[cC]0+13, tx: 4 state: 5 \(supplied gas \d+\)$/,
      )
      const feeLow = await rpc(node.rpc.url, 'eth_simulateV1', [
        {
          blockStateCalls: [
            {
              blockOverrides: { baseFeePerGas: '0xa' },
              stateOverrides: { [from]: { balance: '0xffffffffff' } },
              calls: [{ from, to: EMPTY }],
            },
          ],
          validation: true,
        },
      ])
      expect(feeLow.error?.code).toBe(-38012)
      expect(feeLow.error?.message).toContain('max fee per gas less than block base fee')
    })

    it("refuses blocks out of order and more than 256 blocks with geth's codes", async () => {
      const head = await client.getBlockNumber()
      const hex = (n: bigint) => `0x${n.toString(16)}`
      const outOfOrder = await rpc(node.rpc.url, 'eth_simulateV1', [
        {
          blockStateCalls: [
            { blockOverrides: { number: hex(head + 5n) } },
            { blockOverrides: { number: hex(head + 2n) } },
          ],
        },
      ])
      expect(outOfOrder.error).toEqual({
        code: -38020,
        message: `block numbers must be in order: ${head + 2n} <= ${head + 5n}`,
      })
      const tooMany = await rpc(node.rpc.url, 'eth_simulateV1', [
        { blockStateCalls: [{ blockOverrides: { number: hex(head + 257n) } }] },
      ])
      expect(tooMany.error).toEqual({ code: -38026, message: 'too many blocks' })
    })

    it('moves a precompile with movePrecompileToAddress; the old address is then a plain account', async () => {
      const moved = '0xc000000000000000000000000000000000000030'
      const answer = await rpc(node.rpc.url, 'eth_simulateV1', [
        {
          blockStateCalls: [
            {
              stateOverrides: { '0x0000000000000000000000000000000000000004': { movePrecompileToAddress: moved } },
              calls: [
                { to: moved, input: '0xabcdef' },
                { to: '0x0000000000000000000000000000000000000004', input: '0xabcdef' },
              ],
            },
          ],
        },
      ])
      const calls = (answer.result as Record<string, unknown>[])[0].calls as Record<string, unknown>[]
      expect(calls.map((c) => c.returnData)).toEqual(['0xabcdef', '0x'])
      const notPrecompile = await rpc(node.rpc.url, 'eth_call', [
        { to: moved },
        'latest',
        { [EMPTY]: { movePrecompileToAddress: moved } },
      ])
      expect(notPrecompile.error).toEqual({
        code: -32000,
        message: 'account 0xc0000000000000000000000000000000000000FF is not a precompile',
      })
    })

    it('reports a reverting call with code 3 and its data, and BLOCKHASH sees the simulated parent', async () => {
      // Returns BLOCKHASH(NUMBER - 1).
      const blockhash = '0xc000000000000000000000000000000000000020'
      const answer = await rpc(node.rpc.url, 'eth_simulateV1', [
        {
          blockStateCalls: [
            {},
            {
              stateOverrides: {
                [blockhash]: { code: '0x60014303406000526020 6000f3'.replace(' ', '') },
                [READER]: { code: '0x60006000fd' },
              },
              calls: [{ to: blockhash }, { to: READER }],
            },
          ],
        },
      ])
      const blocks = answer.result as Record<string, unknown>[]
      const calls = blocks[1].calls as Record<string, unknown>[]
      expect(calls[0].returnData).toBe(blocks[0].hash)
      expect(calls[1]).toMatchObject({ status: '0x0', error: { code: 3, message: 'execution reverted', data: '0x' } })
    })
  })
})

describe('RPC gas cap and EVM timeout', () => {
  const dirs: string[] = []
  const nodes: PolisNode[] = []

  afterAll(async () => {
    for (const node of nodes) await node.stop()
    for (const dir of dirs) removeDir(dir)
  })

  async function nodeWith(rpcOpts: { gasCap?: bigint; evmTimeoutMs?: number }): Promise<PolisNode> {
    const datadir = tempDir()
    dirs.push(datadir)
    const node = await startNode({ datadir, rpc: rpcOpts })
    nodes.push(node)
    return node
  }

  it('caps the gas of eth_call and eth_estimateGas at --rpc-gascap', async () => {
    const node = await nodeWith({ gasCap: 100_000n })
    const gasReader = { [READER]: { code: '0x5a60005260206000f3' } }
    const answer = await rpc(node.rpc.url, 'eth_call', [{ to: READER, gas: '0x989680' }, 'latest', gasReader])
    expect(BigInt(answer.result as string)).toBeLessThan(100_000n)
    const estimate = await rpc(node.rpc.url, 'eth_estimateGas', [
      { to: LOOP },
      'latest',
      { [LOOP]: { code: LOOP_CODE } },
    ])
    expect(estimate.error).toEqual({ code: -32000, message: 'gas required exceeds allowance (100000)' })
  })

  it('aborts an endless loop at --rpc-evmtimeout with geth message, for every call-like method', async () => {
    const node = await nodeWith({ gasCap: 0n, evmTimeoutMs: 300 })
    const loop = { [LOOP]: { code: LOOP_CODE } }
    const started = performance.now()
    const answer = await rpc(node.rpc.url, 'eth_call', [{ to: LOOP }, 'latest', loop])
    const elapsed = performance.now() - started
    expect(answer.error).toEqual({ code: -32000, message: 'execution aborted (timeout = 300ms)' })
    expect(elapsed).toBeLessThan(2_000)
    for (const method of ['eth_estimateGas', 'eth_createAccessList']) {
      expect((await rpc(node.rpc.url, method, [{ to: LOOP }, 'latest', loop])).error?.message).toBe(
        'execution aborted (timeout = 300ms)',
      )
    }
    const simulated = await rpc(node.rpc.url, 'eth_simulateV1', [
      { blockStateCalls: [{ stateOverrides: loop, calls: [{ to: LOOP }] }] },
    ])
    expect(simulated.error?.message).toBe('execution aborted (timeout = 300ms)')
    // The node still answers normally afterwards.
    expect((await rpc(node.rpc.url, 'eth_blockNumber', [])).result).toMatch(/^0x/)
  })
})
