import { type Block, createBlockFromRLP } from '@ethereumjs/block'
import { createBlockchain } from '@ethereumjs/blockchain'
import { type GethGenesis, parseGethGenesisState } from '@ethereumjs/common'
import { MerkleStateManager } from '@ethereumjs/statemanager'
import { createTxFromRLP } from '@ethereumjs/tx'
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { createVM, runBlock } from '@ethereumjs/vm'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildPayload } from '../../../src/execution/build.js'
import type { ChainSpec } from '../../../src/genesis/index.js'
import { toRpcError } from '../../../src/rpc/errors.js'
import type { RpcContext } from '../../../src/rpc/options.js'
import { nextGasLimit, testingMethods } from '../../../src/rpc/testing.js'
import { fixtureCommon, readFixtureChain, readFixtureGenesis, readIoFile } from '../../helpers/executionApis.js'
import { openRpcValidator } from '../../helpers/openRpc.js'

/**
 * The execution-apis chain (ethash, then the merge, then Shanghai … BPO2) executed in memory with @ethereumjs, and
 * testing_buildBlockV1 answered on its head, compared with the fixtures' expected payloads.
 */
async function hiveChain() {
  const genesis = readFixtureGenesis() as unknown as GethGenesis
  const common = fixtureCommon()
  const genesisState = parseGethGenesisState(genesis)
  const blockchain = await createBlockchain({ common, genesisState, validateBlocks: false, validateConsensus: false })
  const stateManager = new MerkleStateManager({ common })
  await stateManager.generateCanonicalGenesis(genesisState)
  const vm = await createVM({ common: common.copy(), blockchain, stateManager })
  const blocks: Block[] = []
  for (const rlp of readFixtureChain()) {
    const block = createBlockFromRLP(rlp, { common: common.copy(), setHardfork: true })
    await runBlock(vm, { block, setHardfork: true, skipBlockValidation: true, skipHeaderValidation: true })
    await blockchain.putBlock(block)
    blocks.push(block)
  }
  return { common, blockchain, stateManager, blocks }
}

describe('testing_buildBlockV1 on the execution-apis chain', () => {
  let methods: ReturnType<typeof testingMethods>
  let pool: ReturnType<typeof createTxFromRLP>[] = []
  let head: Block
  let headStateRoot: Uint8Array
  let stateManager: MerkleStateManager

  beforeAll(async () => {
    const chain = await hiveChain()
    head = chain.blocks[chain.blocks.length - 1]
    stateManager = chain.stateManager
    headStateRoot = await stateManager.getStateRoot()
    expect(equalsBytes(headStateRoot, head.header.stateRoot)).toBe(true)
    const spec = { common: chain.common, baseFeeMode: 'eip1559' } as unknown as ChainSpec
    const byHash = new Map(chain.blocks.map((b) => [bytesToHex(b.hash()), b]))
    // The same throw-away build as Execution.buildPayload, on this in-memory state.
    const execution = {
      buildPayload: async (...args: Parameters<typeof buildPayload> extends [unknown, ...infer R] ? R : never) => {
        const [parent] = args
        const common = chain.common.copy()
        common.setHardforkBy({ blockNumber: parent.header.number + 1n, timestamp: BigInt(args[1].timestamp as bigint) })
        await stateManager.setStateRoot(parent.header.stateRoot)
        const vm = await createVM({ common, blockchain: chain.blockchain, stateManager })
        await stateManager.checkpoint()
        try {
          return await buildPayload(vm, ...args)
        } finally {
          await stateManager.revert()
        }
      },
    }
    const ctx = {
      opts: {},
      deps: {
        spec,
        chain: { getBlockByHash: async (hash: Uint8Array) => byHash.get(bytesToHex(hash)) },
        execution,
        txpool: { selectForBlock: () => pool },
      },
    } as unknown as RpcContext
    methods = testingMethods(ctx)
  }, 120_000)

  async function answer(params: unknown[]): Promise<unknown> {
    try {
      return { result: JSON.parse(JSON.stringify(await methods.testing_buildBlockV1(params))) }
    } catch (e) {
      return { error: toRpcError(e) }
    }
  }

  for (const name of ['build-block-empty-transactions', 'build-block-with-transactions']) {
    it(`answers ${name}.io exactly`, async () => {
      const [exchange] = readIoFile('testing_buildBlockV1', name).exchanges
      expect(await answer(exchange.request.params ?? [])).toStrictEqual({ result: exchange.response.result })
      // Nothing was written: the head state is as before.
      expect(equalsBytes(await stateManager.getStateRoot(), headStateRoot)).toBe(true)
    })
  }

  it('answers build-block-invalid-transaction.io exactly (geth error, no block)', async () => {
    const [exchange] = readIoFile('testing_buildBlockV1', 'build-block-invalid-transaction').exchanges
    expect(await answer(exchange.request.params ?? [])).toStrictEqual({ error: exchange.response.error })
  })

  it('builds from the pool when transactions is null (build-block-from-mempool.io, checked against the schema)', async () => {
    const io = readIoFile('testing_buildBlockV1', 'build-block-from-mempool')
    const [send, build] = io.exchanges
    const raw = hexToBytes((send.request.params as `0x${string}`[])[0])
    const common = head.common.copy()
    common.setHardforkBy({ blockNumber: head.header.number + 1n, timestamp: head.header.timestamp + 12n })
    pool = [createTxFromRLP(raw, { common })]
    const got = (await answer(build.request.params ?? [])) as { result: Record<string, unknown> }
    pool = []
    const validate = openRpcValidator('testing_buildBlockV1')
    expect(validate(got.result), JSON.stringify(validate.errors)).toBe(true)
    const payload = got.result.executionPayload as { transactions: string[]; gasUsed: string }
    expect(payload.transactions).toEqual([bytesToHex(raw)])
    expect(payload.gasUsed).toBe('0x5208')
  })

  it('refuses an unknown parent and a timestamp not after the parent', async () => {
    const [exchange] = readIoFile('testing_buildBlockV1', 'build-block-empty-transactions').exchanges
    const [, attributes] = exchange.request.params as [string, Record<string, unknown>]
    expect(await answer([`0x${'11'.repeat(32)}`, attributes, []])).toEqual({
      error: { code: -32602, message: 'unknown parent block' },
    })
    expect(await answer([bytesToHex(head.hash()), { ...attributes, timestamp: '0x21c' }, []])).toEqual({
      error: { code: -32602, message: 'invalid timestamp, parent 540 given 540' },
    })
    expect(await answer([bytesToHex(head.hash()), { ...attributes, withdrawals: undefined }, []])).toEqual({
      error: { code: -32602, message: 'missing withdrawals' },
    })
  })
})

describe('nextGasLimit (geth CalcGasLimit)', () => {
  it('moves toward the ceiling by less than 1/1024 of the parent gas limit', () => {
    expect(nextGasLimit(200_000_000n, 60_000_000n)).toBe(0xbe8c711n)
    expect(nextGasLimit(30_000_000n, 60_000_000n)).toBe(30_000_000n + 30_000_000n / 1024n - 1n)
    expect(nextGasLimit(60_000_100n, 60_000_000n)).toBe(60_000_000n)
    expect(nextGasLimit(60_000_000n, 60_000_000n)).toBe(60_000_000n)
  })
})
