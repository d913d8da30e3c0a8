import { hexToBytes } from '@ethereumjs/util'
import {
  type Abi,
  createPublicClient,
  createWalletClient,
  encodeErrorResult,
  encodeFunctionData,
  getAddress,
  type Hex,
  http,
  type PublicClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE, DEV_VALIDATOR } from '../../src/genesis/index.js'
import { createLogger } from '../../src/log/index.js'
import { PolisNode } from '../../src/node.js'
import { devChain, removeDir, rpc, tempDir } from '../helpers/node.js'
import { compileContract } from '../helpers/solc.js'

interface StructLog {
  pc: number
  op: string
  gas: number
  gasCost: number
  depth: number
  error?: string
  stack?: string[]
  memory?: string[]
  storage?: Record<string, string>
  returnData?: string
}

interface CallFrame {
  type: string
  from: string
  to?: string
  gas: string
  gasUsed: string
  input: string
  output?: string
  value?: string
  error?: string
  revertReason?: string
  calls?: CallFrame[]
  logs?: { address: string; topics: string[]; data: string; position: string }[]
}

const sender = privateKeyToAccount(DEV_ACCOUNTS[0].privateKey)
/** A Parity trace as the tests read it. */
interface ParityTrace {
  type: string
  action: Record<string, string | undefined>
  result?: Record<string, string | null> | null
  error?: string
  traceAddress: number[]
  subtraces: number
}

type StateDiff = Record<string, Record<string, unknown>>

const word = (n: number | bigint) => `0x${n.toString(16).padStart(64, '0')}`

describe('debug_trace* (struct logger, callTracer, prestateTracer) trace_* (Parity) and ots_* (Otterscan)', () => {
  let dir: string
  let node: PolisNode
  let client: PublicClient
  let orchestrator: Hex
  let target: Hex
  let deployHash: Hex
  let runHash: Hex
  let boomHash: Hex
  let transferHash: Hex
  let runBlock: bigint
  const orchestratorAbi = compileContract('Tracing.sol', 'Orchestrator').abi as Abi
  const call = async <T>(method: string, params: unknown[] = []) => {
    const res = await rpc(node.rpc.url, method, params)
    if (res.error) throw Object.assign(new Error(res.error.message), { code: res.error.code })
    return res.result as T
  }

  beforeAll(async () => {
    dir = tempDir('polis-traces-')
    node = await PolisNode.start({
      datadir: dir,
      genesisFile: DEV_GENESIS_FILE,
      validatorKey: hexToBytes(DEV_VALIDATOR.privateKey),
      rpc: { host: '127.0.0.1', port: 0, apis: ['eth', 'debug', 'trace', 'ots', 'erigon'] },
      log: createLogger('silent'),
    })
    const url = node.rpc.url
    client = createPublicClient({ chain: devChain(url), transport: http(url), pollingInterval: 100 }) as PublicClient
    const wallet = createWalletClient({ account: sender, chain: devChain(url), transport: http(url) })
    const { bytecode } = compileContract('Tracing.sol', 'Orchestrator')
    deployHash = await wallet.deployContract({ abi: orchestratorAbi, bytecode })
    const deployed = await client.waitForTransactionReceipt({ hash: deployHash, timeout: 20_000 })
    orchestrator = deployed.contractAddress as Hex
    target = (await client.readContract({ address: orchestrator, abi: orchestratorAbi, functionName: 'target' })) as Hex
    runHash = await wallet.sendTransaction({
      to: orchestrator,
      value: 5n,
      data: encodeFunctionData({ abi: orchestratorAbi, functionName: 'run', args: [7n] }),
    })
    boomHash = await wallet.sendTransaction({
      to: orchestrator,
      gas: 100_000n,
      data: encodeFunctionData({ abi: orchestratorAbi, functionName: 'boom' }),
    })
    transferHash = await wallet.sendTransaction({ to: DEV_ACCOUNTS[1].address, value: 1n })
    runBlock = (await client.waitForTransactionReceipt({ hash: runHash, timeout: 20_000 })).blockNumber
    for (const hash of [boomHash, transferHash]) await client.waitForTransactionReceipt({ hash, timeout: 20_000 })
  }, 60_000)

  afterAll(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('struct logger: a transfer runs no code', async () => {
    expect(await call('debug_traceTransaction', [transferHash])).toEqual({
      gas: 21000,
      failed: false,
      returnValue: '0x',
      structLogs: [],
    })
  })

  it('struct logger: gas accounting step by step, depths, storage and the revert data', async () => {
    const receipt = await client.getTransactionReceipt({ hash: runHash })
    const tx = await client.getTransaction({ hash: runHash })
    const trace = await call<{ gas: number; failed: boolean; returnValue: string; structLogs: StructLog[] }>(
      'debug_traceTransaction',
      [runHash],
    )
    expect(trace.gas).toBe(Number(receipt.gasUsed))
    expect(trace.failed).toBe(false)
    const logs = trace.structLogs
    expect(logs[0]).toMatchObject({ pc: 0, depth: 1, stack: [] })
    expect(logs[0].gas).toBeLessThan(Number(tx.gas))
    expect(logs[0]).not.toHaveProperty('memory')
    const ops = new Set(logs.map((l) => l.op))
    for (const op of [
      'CALL',
      'STATICCALL',
      'DELEGATECALL',
      'CREATE2',
      'SELFDESTRUCT',
      'SSTORE',
      'SLOAD',
      'REVERT',
      'LOG1',
    ]) {
      expect(ops, op).toContain(op)
    }
    expect(Math.max(...logs.map((l) => l.depth))).toBe(2) // the orchestrator, and the contracts it calls
    // Within a frame, each step's gas is the previous step's gas minus its cost (calls and creations hand gas on).
    let checked = 0
    for (let i = 0; i + 1 < logs.length; i++) {
      const [a, b] = [logs[i], logs[i + 1]]
      if (a.depth !== b.depth || ['CALL', 'STATICCALL', 'DELEGATECALL', 'CALLCODE', 'CREATE', 'CREATE2'].includes(a.op))
        continue
      expect(b.gas, `${a.op} at pc ${a.pc}`).toBe(a.gas - a.gasCost)
      checked++
    }
    expect(checked).toBeGreaterThan(100)
    // A call's cost includes the gas handed to the callee: the callee's first step has no more than that.
    for (let i = 0; i + 1 < logs.length; i++) {
      if (logs[i].op === 'STATICCALL' && logs[i + 1].depth === logs[i].depth + 1) {
        expect(logs[i].gasCost).toBeGreaterThanOrEqual(logs[i + 1].gas)
        expect(logs[i].gasCost - logs[i + 1].gas).toBeLessThan(3000)
      }
    }
    // SSTORE of `seen` (slot 1) = 7 in the orchestrator's frame shows the storage seen so far.
    const store = logs.find((l) => l.op === 'SSTORE' && l.depth === 1)
    expect(store?.storage).toMatchObject({ [word(1)]: word(7) })
    const load = logs.find((l) => l.op === 'SLOAD' && l.depth === 1)
    expect(load?.storage).toMatchObject({ [word(0)]: expect.stringMatching(/^0x0{24}[0-9a-f]{40}$/) })

    const boom = await call<{ failed: boolean; returnValue: string; structLogs: StructLog[] }>(
      'debug_traceTransaction',
      [boomHash, { disableStack: true, enableMemory: true }],
    )
    expect(boom.failed).toBe(true)
    const errorAbi = [{ type: 'error', name: 'Error', inputs: [{ name: 'message', type: 'string' }] }] as const
    expect(boom.returnValue).toBe(encodeErrorResult({ abi: errorAbi, errorName: 'Error', args: ['boom'] }))
    expect(boom.structLogs.at(-1)?.op).toBe('REVERT')
    expect(boom.structLogs[0]).not.toHaveProperty('stack')
    expect(boom.structLogs.some((l) => (l.memory?.length ?? 0) > 0)).toBe(true)
    for (const l of boom.structLogs) for (const m of l.memory ?? []) expect(m).toMatch(/^0x[0-9a-f]{64}$/)

    const limited = await call<{ structLogs: StructLog[] }>('debug_traceTransaction', [runHash, { limit: 10 }])
    expect(limited.structLogs).toHaveLength(10)
  })

  it('callTracer: every frame kind, gas, values, the reverted inner call and logs', async () => {
    const receipt = await client.getTransactionReceipt({ hash: runHash })
    const tx = await client.getTransaction({ hash: runHash })
    const top = await call<CallFrame>('debug_traceTransaction', [
      runHash,
      { tracer: 'callTracer', tracerConfig: { withLog: true } },
    ])
    expect(top).toMatchObject({
      type: 'CALL',
      from: sender.address.toLowerCase(),
      to: orchestrator.toLowerCase(),
      value: '0x5',
      gas: `0x${tx.gas.toString(16)}`,
      gasUsed: `0x${receipt.gasUsed.toString(16)}`,
      input: tx.input,
    })
    expect(top).not.toHaveProperty('output') // run() returns nothing
    expect(top.calls?.map((c) => c.type)).toEqual([
      'CALL',
      'STATICCALL',
      'STATICCALL',
      'DELEGATECALL',
      'CREATE2',
      'CALL',
    ])
    const [store, get, fail, delegate, create2, destroy] = top.calls as CallFrame[]
    const targetAbi = compileContract('Tracing.sol', 'Target').abi as Abi
    const ephemeral = compileContract('Tracing.sol', 'Ephemeral')
    expect(store).toMatchObject({
      to: target.toLowerCase(),
      value: '0x5',
      from: orchestrator.toLowerCase(),
      input: encodeFunctionData({ abi: targetAbi, functionName: 'store', args: [7n] }),
    })
    // Inputs are copies: the EVM hands a view of the caller's memory that later opcodes overwrite.
    expect(get.input).toBe(encodeFunctionData({ abi: targetAbi, functionName: 'get' }))
    expect(fail.input).toBe(encodeFunctionData({ abi: targetAbi, functionName: 'fail' }))
    expect(delegate.input).toBe(encodeFunctionData({ abi: targetAbi, functionName: 'peek' }))
    expect(create2.input).toBe(ephemeral.bytecode)
    expect(destroy.input).toBe(
      encodeFunctionData({ abi: ephemeral.abi as Abi, functionName: 'destroy', args: [sender.address] }),
    )
    expect(store.logs).toHaveLength(1)
    expect(store.logs?.[0]).toMatchObject({ address: target.toLowerCase(), position: '0x0', data: word(7) })
    expect(get).not.toHaveProperty('value')
    expect(get.output).toBe(word(7))
    expect(fail).toMatchObject({ error: 'execution reverted', revertReason: 'target failed' })
    expect(fail).not.toHaveProperty('value') // fail() is pure: solc calls it with STATICCALL
    expect(fail.output).toMatch(/^0x08c379a0/)
    // Runs Target's code on the orchestrator's storage: slot 0 there holds the target's address.
    expect(delegate).toMatchObject({
      from: orchestrator.toLowerCase(),
      to: target.toLowerCase(),
      output: word(BigInt(target)),
      value: '0x5',
    })
    expect(create2.to).toMatch(/^0x[0-9a-f]{40}$/)
    expect(create2.input.length).toBeGreaterThan(10)
    expect(destroy.to).toBe(create2.to)
    expect(destroy.calls).toEqual([
      {
        type: 'SELFDESTRUCT',
        from: create2.to,
        to: sender.address.toLowerCase(),
        gas: '0x0',
        gasUsed: '0x0',
        input: '0x',
        value: '0x0',
      },
    ])
    expect(top.logs).toHaveLength(1)
    expect(top.logs?.[0].position).toBe('0x6') // after the six calls
    for (const frame of top.calls ?? []) {
      expect(BigInt(frame.gasUsed)).toBeLessThanOrEqual(BigInt(frame.gas))
    }

    const only = await call<CallFrame>('debug_traceTransaction', [
      runHash,
      { tracer: 'callTracer', tracerConfig: { onlyTopCall: true } },
    ])
    expect(only).not.toHaveProperty('calls')
    expect(only).not.toHaveProperty('logs')

    const deploy = await call<CallFrame>('debug_traceTransaction', [deployHash, { tracer: 'callTracer' }])
    expect(deploy).toMatchObject({ type: 'CREATE', to: orchestrator.toLowerCase() })
    expect(deploy.output?.length).toBeGreaterThan(100) // the deployed code
    expect(deploy.calls).toHaveLength(1)
    expect(deploy.calls?.[0]).toMatchObject({
      type: 'CREATE',
      from: orchestrator.toLowerCase(),
      to: target.toLowerCase(),
    })

    const boom = await call<CallFrame>('debug_traceTransaction', [boomHash, { tracer: 'callTracer' }])
    expect(boom).toMatchObject({ error: 'execution reverted', revertReason: 'boom', gas: '0x186a0' })
  })

  it('prestateTracer: touched accounts before the transaction, and the diff', async () => {
    const before = runBlock - 1n
    const pre = await call<
      Record<
        string,
        { balance: string; nonce?: number; code?: string; codeHash?: string; storage?: Record<string, string> }
      >
    >('debug_traceTransaction', [runHash, { tracer: 'prestateTracer' }])
    const senderKey = sender.address.toLowerCase()
    // Before `run`, the sender's balance and nonce were what the previous block left (the txs are in one block or
    // later ones, so read at the transaction's own position through its nonce).
    const tx = await client.getTransaction({ hash: runHash })
    expect(pre[senderKey].nonce).toBe(tx.nonce)
    if (tx.transactionIndex === 0) {
      expect(BigInt(pre[senderKey].balance)).toBe(
        await client.getBalance({ address: sender.address, blockNumber: before }),
      )
    }
    expect(pre[orchestrator.toLowerCase()]).toMatchObject({
      nonce: 2,
      code: await client.getCode({ address: orchestrator, blockNumber: runBlock }),
      storage: { [word(0)]: word(BigInt(target)), [word(1)]: word(0) },
    })
    expect(pre[orchestrator.toLowerCase()].codeHash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(pre[target.toLowerCase()].storage).toEqual({ [word(0)]: word(0) })
    expect(pre[getAddress(DEV_VALIDATOR.address).toLowerCase()]).toBeDefined() // coinbase

    const diff = await call<{
      pre: Record<string, Record<string, unknown>>
      post: Record<string, Record<string, unknown>>
    }>('debug_traceTransaction', [runHash, { tracer: 'prestateTracer', tracerConfig: { diffMode: true } }])
    expect(diff.post[senderKey].nonce).toBe(tx.nonce + 1)
    expect(BigInt(diff.post[senderKey].balance as string)).toBeLessThan(BigInt(diff.pre[senderKey].balance as string))
    expect(diff.post[orchestrator.toLowerCase()]).toEqual({ storage: { [word(1)]: word(7) }, nonce: 3 })
    // Slot 1 was zero before: geth leaves zero slots out of pre.
    expect(diff.pre[orchestrator.toLowerCase()]).not.toHaveProperty(['storage', word(1)])
    expect(diff.post[target.toLowerCase()]).toEqual({ balance: '0x5', storage: { [word(0)]: word(7) } })
    // The Ephemeral contract was created and destroyed in the same transaction: in neither.
    const coinbase = DEV_VALIDATOR.address.toLowerCase()
    expect(Object.keys(diff.post).sort()).toEqual(
      [senderKey, orchestrator.toLowerCase(), target.toLowerCase(), coinbase].sort(),
    )
  })

  it('debug_traceBlockByNumber / ByHash trace every transaction of the block', async () => {
    const block = await client.getBlock({ blockNumber: runBlock })
    const byNumber = await call<{ txHash: string; result: CallFrame }[]>('debug_traceBlockByNumber', [
      `0x${runBlock.toString(16)}`,
      { tracer: 'callTracer' },
    ])
    expect(byNumber.map((t) => t.txHash)).toEqual(block.transactions)
    const index = block.transactions.indexOf(runHash)
    expect(byNumber[index].result).toEqual(await call('debug_traceTransaction', [runHash, { tracer: 'callTracer' }]))
    const byHash = await call<{ txHash: string; result: unknown }[]>('debug_traceBlockByHash', [block.hash])
    expect(byHash).toHaveLength(block.transactions.length)
    expect(byHash[index].result).toEqual(await call('debug_traceTransaction', [runHash]))
    const prestate = await call<{ txHash: string; result: unknown }[]>('debug_traceBlockByHash', [
      block.hash,
      { tracer: 'prestateTracer' },
    ])
    expect(prestate[index].result).toEqual(
      await call('debug_traceTransaction', [runHash, { tracer: 'prestateTracer' }]),
    )
  })

  it('trace_transaction / trace_get / trace_block: Parity call traces', async () => {
    const tx = await client.getTransaction({ hash: runHash })
    const geth = await call<CallFrame>('debug_traceTransaction', [runHash, { tracer: 'callTracer' }])
    const traces = await call<ParityTrace[]>('trace_transaction', [runHash])
    const located = {
      blockHash: tx.blockHash,
      blockNumber: Number(tx.blockNumber),
      transactionHash: runHash,
      transactionPosition: tx.transactionIndex,
    }
    expect(traces.map((t) => [t.type, t.action.callType, t.traceAddress, t.subtraces])).toEqual([
      ['call', 'call', [], 6],
      ['call', 'call', [0], 0],
      ['call', 'staticcall', [1], 0],
      ['call', 'staticcall', [2], 0],
      ['call', 'delegatecall', [3], 0],
      ['create', undefined, [4], 0],
      ['call', 'call', [5], 1],
      ['suicide', undefined, [5, 0], 0],
    ])
    for (const t of traces) expect(t).toMatchObject(located)
    const [top, store, , fail, , create2, , suicide] = traces
    expect(top.action).toMatchObject({
      from: sender.address.toLowerCase(),
      to: orchestrator.toLowerCase(),
      value: '0x5',
      input: tx.input,
    })
    // The transaction's own trace starts after intrinsic gas and counts gas before refunds.
    expect(BigInt(top.action.gas ?? 0)).toBeLessThan(tx.gas)
    expect(BigInt(top.action.gas ?? 0)).toBeGreaterThan(tx.gas - 30_000n)
    expect(top.result).toEqual({ gasUsed: expect.stringMatching(/^0x/), output: '0x' })
    expect(store.action).toMatchObject({ to: target.toLowerCase(), value: '0x5', gas: geth.calls?.[0].gas })
    expect(store.result?.gasUsed).toBe(geth.calls?.[0].gasUsed)
    expect(fail.error).toBe('Reverted')
    expect(fail).not.toHaveProperty('result')
    expect(create2.action).toMatchObject({ creationMethod: 'create2', from: orchestrator.toLowerCase(), value: '0x0' })
    expect(create2.result?.address).toBe(geth.calls?.[4].to)
    expect(create2.result?.code?.length).toBeGreaterThan(10)
    expect(suicide).toMatchObject({
      action: { address: geth.calls?.[4].to, refundAddress: sender.address.toLowerCase(), balance: '0x0' },
      result: null,
    })
    expect(await call('trace_get', [runHash, ['0x5', '0x0']])).toEqual(suicide)
    expect(await call('trace_get', [runHash, ['0x9']])).toBeNull()
    expect(await call('trace_transaction', [`0x${'00'.repeat(31)}01`])).toBeNull()

    const block = await client.getBlock({ blockNumber: runBlock })
    const perTx = await Promise.all(block.transactions.map((h) => call<unknown[]>('trace_transaction', [h])))
    expect(await call('trace_block', [`0x${runBlock.toString(16)}`])).toEqual(perTx.flat())
    expect(await call('trace_block', ['0x0'])).toEqual([])
    expect(await call('trace_block', ['0xffffff'])).toBeNull()
  })

  it('trace_replayTransaction / trace_replayBlockTransactions: trace and stateDiff', async () => {
    const tx = await client.getTransaction({ hash: runHash })
    const replay = await call<{ output: string; stateDiff: StateDiff; trace: unknown[]; vmTrace: null }>(
      'trace_replayTransaction',
      [runHash, ['trace', 'stateDiff']],
    )
    const plain = (await call<Record<string, unknown>[]>('trace_transaction', [runHash])).map(
      ({ blockHash, blockNumber, transactionHash, transactionPosition, ...rest }) => rest,
    )
    expect(replay.output).toBe('0x')
    expect(replay.vmTrace).toBeNull()
    expect(replay.trace).toEqual(plain)
    const diff = replay.stateDiff
    const senderKey = sender.address.toLowerCase()
    expect(diff[senderKey].nonce).toEqual({
      '*': { from: `0x${tx.nonce.toString(16)}`, to: `0x${(tx.nonce + 1).toString(16)}` },
    })
    expect(diff[senderKey].balance).toHaveProperty('*')
    expect(diff[orchestrator.toLowerCase()]).toEqual({
      balance: '=',
      code: '=',
      nonce: { '*': { from: '0x2', to: '0x3' } },
      storage: { [word(1)]: { '*': { from: word(0), to: word(7) } } },
    })
    expect(diff[target.toLowerCase()]).toEqual({
      balance: { '*': { from: '0x0', to: '0x5' } },
      code: '=',
      nonce: '=',
      storage: { [word(0)]: { '*': { from: word(0), to: word(7) } } },
    })
    expect(Object.keys(diff).sort()).toEqual(
      [senderKey, orchestrator.toLowerCase(), target.toLowerCase(), DEV_VALIDATOR.address.toLowerCase()].sort(),
    )

    const born = await call<{ stateDiff: StateDiff; trace: unknown[] }>('trace_replayTransaction', [
      deployHash,
      ['stateDiff'],
    ])
    expect(born.trace).toEqual([])
    expect(born.stateDiff[orchestrator.toLowerCase()]).toMatchObject({
      balance: { '+': '0x0' },
      nonce: { '+': '0x2' },
      code: { '+': await client.getCode({ address: orchestrator }) },
      storage: { [word(0)]: { '+': word(BigInt(target)) } },
    })
    expect(born.stateDiff[target.toLowerCase()]).toMatchObject({ nonce: { '+': '0x1' }, storage: {} })

    const block = await client.getBlock({ blockNumber: runBlock })
    const replays = await call<{ transactionHash: string; stateDiff: unknown; trace: unknown[] }[]>(
      'trace_replayBlockTransactions',
      [`0x${runBlock.toString(16)}`, ['trace']],
    )
    expect(replays.map((r) => r.transactionHash)).toEqual(block.transactions)
    const index = block.transactions.indexOf(runHash)
    expect(replays[index]).toMatchObject({ stateDiff: null, trace: plain, output: '0x' })
    await expect(call('trace_replayTransaction', [runHash, ['vmTrace']])).rejects.toMatchObject({ code: -32602 })
    await expect(call('trace_replayTransaction', [runHash, ['nope']])).rejects.toMatchObject({ code: -32602 })
    expect(await call('trace_replayTransaction', [`0x${'00'.repeat(31)}01`, ['trace']])).toBeNull()
  })

  it('ots_: api level, code, internal operations, trace, revert data', async () => {
    const geth = await call<CallFrame>('debug_traceTransaction', [runHash, { tracer: 'callTracer' }])
    const ephemeral = geth.calls?.[4].to
    const [me, orch, tgt] = [sender.address.toLowerCase(), orchestrator.toLowerCase(), target.toLowerCase()]
    expect(await call('ots_getApiLevel')).toBe(8)
    expect(await call('ots_hasCode', [orchestrator, 'latest'])).toBe(true)
    expect(await call('ots_hasCode', [sender.address, 'latest'])).toBe(false)
    expect(await call('ots_hasCode', [orchestrator, '0x0'])).toBe(false)
    expect(await call('ots_hasCode', [orchestrator, '0xffffff'])).toBeNull()
    expect(await call('ots_getInternalOperations', [runHash])).toEqual([
      { type: 0, from: orch, to: tgt, value: '0x5' },
      { type: 3, from: orch, to: ephemeral, value: '0x0' },
      { type: 1, from: ephemeral, to: me, value: '0x0' },
    ])
    expect(await call('ots_getInternalOperations', [deployHash])).toEqual([
      { type: 2, from: orch, to: tgt, value: '0x0' },
    ])
    expect(await call('ots_getInternalOperations', [transferHash])).toEqual([])
    const trace = await call<{ type: string; depth: number; from: string; to: string; value: string | null }[]>(
      'ots_traceTransaction',
      [runHash],
    )
    expect(trace.map((t) => [t.type, t.depth, t.value])).toEqual([
      ['CALL', 0, '0x5'],
      ['CALL', 1, '0x5'],
      ['STATICCALL', 1, null],
      ['STATICCALL', 1, null],
      ['DELEGATECALL', 1, null],
      ['CREATE2', 1, '0x0'],
      ['CALL', 1, '0x0'],
      ['SELFDESTRUCT', 2, '0x0'],
    ])
    expect(trace[0]).toMatchObject({ from: me, to: orch, input: geth.input, output: '0x' })
    const errorAbi = [{ type: 'error', name: 'Error', inputs: [{ name: 'message', type: 'string' }] }] as const
    expect(await call('ots_getTransactionError', [boomHash])).toBe(
      encodeErrorResult({ abi: errorAbi, errorName: 'Error', args: ['boom'] }),
    )
    expect(await call('ots_getTransactionError', [runHash])).toBe('0x')
    const unknown = `0x${'00'.repeat(31)}01`
    for (const method of ['ots_getTransactionError', 'ots_traceTransaction', 'ots_getInternalOperations']) {
      expect(await call(method, [unknown]), method).toBeNull()
    }
  })

  it('ots_getBlockDetails / ots_getBlockTransactions / erigon_getHeaderByNumber', async () => {
    const param = `0x${runBlock.toString(16)}`
    const block = await call<Record<string, unknown> & { transactions: string[]; hash: string }>(
      'eth_getBlockByNumber',
      [param, false],
    )
    const receipts = await call<{ gasUsed: string; effectiveGasPrice: string }[]>('eth_getBlockReceipts', [param])
    const fees = receipts.reduce((sum, r) => sum + BigInt(r.gasUsed) * BigInt(r.effectiveGasPrice), 0n)
    const { transactions, ...header } = block
    const details = await call<{ block: Record<string, unknown>; issuance: unknown; totalFees: string }>(
      'ots_getBlockDetails',
      [param],
    )
    expect(details).toEqual({
      block: { ...header, logsBloom: null, transactionCount: transactions.length },
      issuance: { blockReward: '0x0', uncleReward: '0x0', issuance: '0x0' },
      totalFees: `0x${fees.toString(16)}`,
    })
    expect(await call('ots_getBlockDetailsByHash', [block.hash])).toEqual(details)
    expect(await call('ots_getBlockDetails', ['0xffffff'])).toBeNull()
    expect(await call('ots_getBlockDetailsByHash', [`0x${'00'.repeat(32)}`])).toBeNull()

    const page = await call<{
      fullblock: { transactions: { hash: string; input: string }[]; transactionCount: number; logsBloom: null }
      receipts: { transactionHash: string; logs: null; logsBloom: null }[]
    }>('ots_getBlockTransactions', [param, 0, 25])
    expect(page.fullblock.transactionCount).toBe(transactions.length)
    expect(page.fullblock.logsBloom).toBeNull()
    expect(page.fullblock.transactions.map((t) => t.hash)).toEqual(transactions.slice(-25))
    for (const tx of page.fullblock.transactions) expect(tx.input.length).toBeLessThanOrEqual(10)
    expect(page.receipts.map((r) => r.transactionHash)).toEqual(transactions.slice(-25))
    for (const r of page.receipts) expect(r).toMatchObject({ logs: null, logsBloom: null })
    // Pages count from the end of the block: one transaction per page.
    const last = await call<{ fullblock: { transactions: { hash: string }[] } }>('ots_getBlockTransactions', [
      param,
      0,
      1,
    ])
    expect(last.fullblock.transactions.map((t) => t.hash)).toEqual(transactions.slice(-1))
    expect(await call('ots_getBlockTransactions', ['0xffffff', 0, 10])).toBeNull()

    expect(await call('erigon_getHeaderByNumber', [param])).toEqual(header)
    expect(await call('erigon_getHeaderByNumber', ['0xffffff'])).toBeNull()
  })

  it('debug_traceCall and trace_call trace a call on a block state, with overrides', async () => {
    const request = {
      from: sender.address,
      to: orchestrator,
      value: '0x5',
      data: encodeFunctionData({ abi: orchestratorAbi, functionName: 'run', args: [9n] }),
    }
    const frame = await call<CallFrame>('debug_traceCall', [request, 'latest', { tracer: 'callTracer' }])
    expect(frame.calls?.map((c) => c.type)).toEqual([
      'CALL',
      'STATICCALL',
      'STATICCALL',
      'DELEGATECALL',
      'CREATE2',
      'CALL',
    ])
    expect(frame.calls?.[0].input).toContain('0000000000000000000000000000000000000000000000000000000000000009')
    const logs = await call<{ failed: boolean; structLogs: StructLog[] }>('debug_traceCall', [
      {
        from: sender.address,
        to: orchestrator,
        data: encodeFunctionData({ abi: orchestratorAbi, functionName: 'boom' }),
      },
      'latest',
    ])
    expect(logs.failed).toBe(true)
    expect(logs.structLogs.at(-1)?.op).toBe('REVERT')
    // A state override shows in the prestate, as the call saw it.
    const rich = '0x00000000000000000000000000000000000000aa'
    const pre = await call<Record<string, { balance: string }>>('debug_traceCall', [
      { from: rich, to: DEV_ACCOUNTS[1].address, value: '0x1' },
      'latest',
      { tracer: 'prestateTracer', stateOverrides: { [rich]: { balance: '0x1000' } } },
    ])
    expect(pre[rich].balance).toBe('0x1000')
    // An endless loop (JUMPDEST PUSH1 0 JUMP) put at an address by override ends at the trace timeout.
    const loop = '0x00000000000000000000000000000000000000bb'
    await expect(
      call('debug_traceCall', [
        { to: loop },
        'latest',
        { timeout: '200ms', stateOverrides: { [loop]: { code: '0x5b600056' } } },
      ]),
    ).rejects.toMatchObject({ code: -32000, message: 'execution timeout (200ms)' })

    const replay = await call<{ output: string; trace: ParityTrace[]; stateDiff: StateDiff }>('trace_call', [
      request,
      ['trace', 'stateDiff'],
      'latest',
    ])
    expect(replay.trace).toHaveLength(8)
    expect(replay.trace[0].action).toMatchObject({ from: sender.address.toLowerCase(), to: orchestrator.toLowerCase() })
    expect(replay.stateDiff[orchestrator.toLowerCase()].storage).toEqual({
      [word(1)]: { '*': { from: word(7), to: word(9) } },
    })
    expect(replay.stateDiff[target.toLowerCase()].balance).toEqual({ '*': { from: '0x5', to: '0xa' } })
  })

  it('ots_ address history: searches before/after, sender+nonce, contract creators', async () => {
    const position = async (hash: Hex) => {
      const tx = await client.getTransaction({ hash })
      return [tx.blockNumber, tx.transactionIndex] as const
    }
    // Newest first: by block, then by index in the block.
    const newestFirst = async (hashes: Hex[]) => {
      const keyed = await Promise.all(hashes.map(async (h) => ({ h, p: await position(h) })))
      return keyed.sort((a, b) => (a.p[0] === b.p[0] ? b.p[1] - a.p[1] : a.p[0] > b.p[0] ? -1 : 1)).map((k) => k.h)
    }
    type Page = {
      txs: { hash: string }[]
      receipts: { transactionHash: string; timestamp: string; logs: unknown[] }[]
      firstPage: boolean
      lastPage: boolean
    }
    const before = await call<Page>('ots_searchTransactionsBefore', [orchestrator, 0, 25])
    const expected = await newestFirst([deployHash, runHash, boomHash])
    expect(before.txs.map((t) => t.hash)).toEqual(expected)
    expect(before.receipts.map((r) => r.transactionHash)).toEqual(expected)
    expect(before).toMatchObject({ firstPage: true, lastPage: true })
    const runReceipt = before.receipts[expected.indexOf(runHash)]
    const runBlockTime = (await client.getBlock({ blockNumber: runBlock })).timestamp
    expect(runReceipt.timestamp).toBe(`0x${runBlockTime.toString(16)}`)
    expect(runReceipt.logs.length).toBeGreaterThan(0)
    const after = await call<Page>('ots_searchTransactionsAfter', [orchestrator, 0, 25])
    expect(after.txs.map((t) => t.hash)).toEqual(expected)
    expect(after).toMatchObject({ firstPage: true, lastPage: true })
    // One per page: a page still ends with a whole block; the oldest (deploy) is left for the next page.
    const first = await call<Page>('ots_searchTransactionsBefore', [orchestrator, 0, 1])
    expect(first.txs.map((t) => t.hash)).toEqual(expected.filter((h) => h !== deployHash).slice(0, first.txs.length))
    expect(first).toMatchObject({ firstPage: true, lastPage: false })
    const deployBlock = (await position(deployHash))[0]
    const oldest = await call<Page>('ots_searchTransactionsBefore', [orchestrator, Number(deployBlock) + 1, 1])
    expect(oldest.txs.map((t) => t.hash)).toEqual([deployHash])
    expect(oldest).toMatchObject({ firstPage: false, lastPage: true })
    const newer = await call<Page>('ots_searchTransactionsAfter', [orchestrator, Number(deployBlock), 1])
    expect(newer.txs.map((t) => t.hash)).toContain(runHash)
    expect(newer.lastPage).toBe(false)
    // The target only ever appears in internal calls and an internal creation.
    const internal = await call<Page>('ots_searchTransactionsBefore', [target, 0, 25])
    expect(internal.txs.map((t) => t.hash)).toEqual(await newestFirst([deployHash, runHash]))

    const deployTx = await client.getTransaction({ hash: deployHash })
    expect(await call('ots_getTransactionBySenderAndNonce', [sender.address, deployTx.nonce])).toBe(deployHash)
    expect(await call('ots_getTransactionBySenderAndNonce', [sender.address, 999])).toBeNull()
    expect(await call('ots_getContractCreator', [orchestrator])).toEqual({
      hash: deployHash,
      creator: sender.address.toLowerCase(),
    })
    expect(await call('ots_getContractCreator', [target])).toEqual({
      hash: deployHash,
      creator: orchestrator.toLowerCase(),
    })
    expect(await call('ots_getContractCreator', [sender.address])).toBeNull()
  })

  it('trace_filter: block ranges, senders and recipients from the address index, paging', async () => {
    const hexBlock = `0x${runBlock.toString(16)}`
    expect(await call('trace_filter', [{ fromBlock: hexBlock, toBlock: hexBlock }])).toEqual(
      await call('trace_block', [hexBlock]),
    )
    const toTarget = await call<ParityTrace[]>('trace_filter', [{ toAddress: [target] }])
    const destination = (t: ParityTrace) => (t.type === 'create' ? t.result?.address : t.action.to)
    expect(toTarget.map((t) => [t.type, t.action.callType, destination(t)])).toEqual([
      ['create', undefined, target.toLowerCase()],
      ['call', 'call', target.toLowerCase()],
      ['call', 'staticcall', target.toLowerCase()],
      ['call', 'staticcall', target.toLowerCase()],
      ['call', 'delegatecall', target.toLowerCase()],
    ])
    expect(
      await call('trace_filter', [{ fromAddress: [orchestrator], toAddress: [target, DEV_ACCOUNTS[2].address] }]),
    ).toEqual(toTarget)
    expect(await call('trace_filter', [{ toAddress: [target], after: 1, count: 2 }])).toEqual(toTarget.slice(1, 3))
    const fromSender = await call<(ParityTrace & { transactionHash: string })[]>('trace_filter', [
      { fromAddress: [sender.address] },
    ])
    expect(fromSender.every((t) => t.traceAddress.length === 0)).toBe(true)
    expect(fromSender.map((t) => t.transactionHash)).toEqual(
      expect.arrayContaining([deployHash, runHash, boomHash, transferHash]),
    )
    expect(await call('trace_filter', [{ fromBlock: '0xffffff' }])).toEqual([])
    await expect(call('trace_filter', [{ toAddress: 'nope' }])).rejects.toMatchObject({ code: -32602 })
  })

  it('answers geth errors for what cannot be traced', async () => {
    await expect(call('debug_traceTransaction', [`0x${'00'.repeat(31)}01`])).rejects.toMatchObject({
      code: -32000,
      message: 'transaction not found',
    })
    await expect(call('debug_traceBlockByNumber', ['0x0'])).rejects.toMatchObject({
      code: -32000,
      message: 'genesis is not traceable',
    })
    await expect(call('debug_traceBlockByHash', [`0x${'00'.repeat(31)}01`])).rejects.toMatchObject({
      code: -32000,
      message: `block 0x${'00'.repeat(31)}01 not found`,
    })
    await expect(call('debug_traceBlockByNumber', ['0xffffff'])).rejects.toMatchObject({
      message: 'block #16777215 not found',
    })
    await expect(call('debug_traceBlockByNumber', ['3'])).rejects.toMatchObject({ code: -32602 })
    await expect(call('debug_traceTransaction', [runHash, { tracer: 'jsTracer' }])).rejects.toMatchObject({
      code: -32000,
    })
    await expect(call('debug_traceTransaction', [runHash, { timeout: 'soon' }])).rejects.toMatchObject({
      code: -32602,
      message: 'time: invalid duration "soon"',
    })
    await expect(call('debug_traceTransaction', [runHash, { timeout: '0s' }])).rejects.toMatchObject({
      code: -32000,
      message: 'execution timeout (0s)',
    })
  })
})
