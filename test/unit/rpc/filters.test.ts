import { bytesToHex } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../../src/log/index.js'
import { Dispatcher } from '../../../src/rpc/dispatcher.js'
import { FilterManager } from '../../../src/rpc/filters.js'
import { createLogReader } from '../../../src/rpc/logs.js'
import { defaultRpcOptions } from '../../../src/rpc/options.js'
import { FakeChain, fakeDeps } from './fixtures.js'

function setUp(opts: { timeoutMs?: number; maxFilters?: number; maxQueued?: number } = {}) {
  const chain = new FakeChain()
  const ctx = { opts: defaultRpcOptions, deps: fakeDeps(chain) }
  let now = 1_000_000
  const filters = new FilterManager(
    {
      filterTimeoutMs: opts.timeoutMs ?? 60_000,
      maxFilters: opts.maxFilters ?? 100,
      maxQueuedPerFilter: opts.maxQueued ?? 100,
    },
    ctx,
    createLogReader(ctx),
    () => now,
  )
  filters.start()
  const dispatcher = new Dispatcher(filters.methods(), { maxBatchLength: 10 }, createLogger('silent'))
  const call = async (method: string, params: unknown[] = []) =>
    JSON.parse((await dispatcher.handleText(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }))) as string)
  /** Imports a block into the fake chain and announces it as the real chain does. */
  const mine = () => {
    const block = chain.add([])
    chain.emit('block', { block, receipts: [] })
    return bytesToHex(block.hash())
  }
  const advance = (ms: number) => {
    now += ms
  }
  return { filters, call, mine, advance }
}

describe('FilterManager', () => {
  it('queues block hashes per filter until polled, and forgets a filter not polled within the timeout', async () => {
    const { call, mine, advance, filters } = setUp({ timeoutMs: 60_000 })
    const { result: a } = await call('eth_newBlockFilter')
    const first = mine()
    const { result: b } = await call('eth_newBlockFilter')
    const second = mine()
    expect((await call('eth_getFilterChanges', [a])).result).toEqual([first, second])
    expect((await call('eth_getFilterChanges', [b])).result).toEqual([second])
    expect((await call('eth_getFilterChanges', [a])).result).toEqual([])
    // Polling keeps `a` alive; `b` expires.
    advance(40_000)
    await call('eth_getFilterChanges', [a])
    advance(40_000)
    expect((await call('eth_getFilterChanges', [a])).result).toEqual([])
    expect((await call('eth_getFilterChanges', [b])).error).toEqual({ code: -32000, message: 'filter not found' })
    expect(filters.size).toBe(1)
    filters.stop()
  })

  it('makes ids as geth does (quantities) and finds a filter by its id with or without leading zeros', async () => {
    const { call, mine, filters } = setUp()
    const ids: string[] = []
    for (let i = 0; i < 40; i++) ids.push((await call('eth_newBlockFilter')).result)
    for (const id of ids) expect(id).toMatch(/^0x[1-9a-f][0-9a-f]*$/)
    const hash = mine()
    // web3.js reads an id as a number and echoes it unpadded; other clients may pad it to 32 digits or uppercase it.
    const id = ids[0]
    const padded = `0x${id.slice(2).padStart(32, '0')}`
    expect((await call('eth_getFilterChanges', [padded.toUpperCase().replace('0X', '0x')])).result).toEqual([hash])
    expect((await call('eth_uninstallFilter', [padded])).result).toBe(true)
    expect((await call('eth_getFilterChanges', [id])).error).toEqual({ code: -32000, message: 'filter not found' })
    filters.stop()
  })

  it('keeps the newest hashes of a slow poller, caps the number of filters, and checks ids', async () => {
    const { call, mine, filters } = setUp({ maxFilters: 2, maxQueued: 2 })
    const { result: id } = await call('eth_newBlockFilter')
    mine()
    const kept = [mine(), mine()]
    expect((await call('eth_getFilterChanges', [id.toUpperCase().replace('0X', '0x')])).result).toEqual(kept)
    await call('eth_newPendingTransactionFilter')
    expect((await call('eth_newBlockFilter')).error).toEqual({ code: -32000, message: 'too many filters (limit 2)' })
    expect((await call('eth_getFilterChanges', ['nope'])).error.code).toBe(-32602)
    expect((await call('eth_getFilterLogs', [id])).error).toEqual({ code: -32000, message: 'filter not found' })
    expect((await call('eth_newFilter', [{ blockHash: `0x${'11'.repeat(32)}` }])).error.message).toBe(
      'cannot specify blockhash',
    )
    filters.stop()
  })
})
