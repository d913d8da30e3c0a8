import { hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { CallError, ExecutionRevertedError } from '../../../src/execution/index.js'
import { Dispatcher, type JsonRpcResponse, type MethodTable } from '../../../src/rpc/dispatcher.js'
import { RpcError } from '../../../src/rpc/errors.js'
import { quantity as quantityParam, required, withParams } from '../../../src/rpc/params.js'
import { TxPoolError } from '../../../src/txpool/index.js'

function fakeLogger() {
  const error = vi.fn()
  return { logger: { error, warn: vi.fn(), info: vi.fn(), debug: vi.fn() } as unknown as Logger, error }
}

const REVERT_DATA =
  '0x08c379a00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000a75736572206572726f72'

const methods: MethodTable = {
  echo: (params) => params,
  nothing: () => undefined,
  double: withParams([required(quantityParam)], (n) => `0x${(n * 2n).toString(16)}`),
  reverts: () => {
    throw new ExecutionRevertedError(hexToBytes(REVERT_DATA), 'user error')
  },
  revertsBare: () => {
    throw new ExecutionRevertedError(new Uint8Array(), undefined)
  },
  callFails: async () => {
    throw new CallError('insufficient funds for gas * price + value')
  },
  poolRefuses: async () => {
    throw new TxPoolError('NONCE_TOO_LOW', 'next nonce 3, tx nonce 1')
  },
  custom: () => {
    throw new RpcError(-32000, 'header not found')
  },
  crashes: () => {
    throw new TypeError('cannot read properties of undefined (secret internals)')
  },
  big: () => ({ value: 255n }),
}

function dispatcher(maxBatchLength = 10) {
  const { logger, error } = fakeLogger()
  return { d: new Dispatcher(methods, { maxBatchLength }, logger), logged: error }
}

async function send(body: unknown, maxBatchLength?: number): Promise<unknown> {
  const text = await dispatcher(maxBatchLength).d.handleText(typeof body === 'string' ? body : JSON.stringify(body))
  return text === undefined ? undefined : JSON.parse(text)
}

const call = (method: string, params?: unknown, id: unknown = 1) => ({ jsonrpc: '2.0', id, method, params })

describe('JSON-RPC envelopes', () => {
  it('answers malformed JSON with -32700 parse error and a null id', async () => {
    expect(await send('{"jsonrpc":"2.0","id":1,')).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'parse error' },
    })
  })

  it('echoes string, number and null ids', async () => {
    expect(await send(call('echo', [], 'abc'))).toEqual({ jsonrpc: '2.0', id: 'abc', result: [] })
    expect(await send(call('echo', [1], 7))).toEqual({ jsonrpc: '2.0', id: 7, result: [1] })
    expect(await send(call('echo', [], null))).toEqual({ jsonrpc: '2.0', id: null, result: [] })
  })

  it('answers a method without result with result null (the key is present)', async () => {
    expect(await send(call('nothing'))).toEqual({ jsonrpc: '2.0', id: 1, result: null })
  })

  it('refuses requests without jsonrpc "2.0", with a non-string method, or that are not objects', async () => {
    const invalid = { code: -32600, message: 'invalid request' }
    expect(await send({ id: 1, method: 'echo' })).toEqual({ jsonrpc: '2.0', id: 1, error: invalid })
    expect(await send({ jsonrpc: '1.0', id: 2, method: 'echo' })).toEqual({ jsonrpc: '2.0', id: 2, error: invalid })
    expect(await send({ jsonrpc: '2.0', id: 3, method: 5 })).toEqual({ jsonrpc: '2.0', id: 3, error: invalid })
    expect(await send({ jsonrpc: '2.0', id: { a: 1 }, method: 'echo' })).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: invalid,
    })
    expect(await send(42)).toEqual({ jsonrpc: '2.0', id: null, error: invalid })
  })

  it('names an unknown method in a -32601 error', async () => {
    expect(await send(call('eth_nope'))).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32601, message: 'the method eth_nope does not exist/is not available' },
    })
  })

  it('refuses by-name params with -32602 non-array args', async () => {
    expect(await send(call('echo', { a: 1 }))).toMatchObject({ error: { code: -32602, message: 'non-array args' } })
  })

  it('gives a notification (no id member) no response, but still runs it', async () => {
    const seen: unknown[] = []
    const d = new Dispatcher({ record: (p) => seen.push(p) }, { maxBatchLength: 10 }, fakeLogger().logger)
    expect(await d.handleText(JSON.stringify({ jsonrpc: '2.0', method: 'record', params: [1] }))).toBeUndefined()
    expect(seen).toEqual([[1]])
  })
})

describe('batches', () => {
  it('answers an empty batch with one -32600 "empty batch" error object', async () => {
    expect(await send([])).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'empty batch' } })
  })

  it('answers each call in order and leaves out notifications', async () => {
    const response = (await send([
      call('echo', ['a'], 1),
      { jsonrpc: '2.0', method: 'echo', params: ['note'] },
      call('eth_nope', [], 2),
      'garbage',
      call('double', ['0x2'], 3),
    ])) as JsonRpcResponse[]
    expect(response).toEqual([
      { jsonrpc: '2.0', id: 1, result: ['a'] },
      {
        jsonrpc: '2.0',
        id: 2,
        error: { code: -32601, message: 'the method eth_nope does not exist/is not available' },
      },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request' } },
      { jsonrpc: '2.0', id: 3, result: '0x4' },
    ])
  })

  it('sends nothing for a batch of notifications only', async () => {
    expect(
      await send([
        { jsonrpc: '2.0', method: 'echo' },
        { jsonrpc: '2.0', method: 'nothing' },
      ]),
    ).toBeUndefined()
  })

  it('refuses a batch above the limit with one error carrying the first call id', async () => {
    const batch = [{ jsonrpc: '2.0', method: 'echo' }, call('echo', [], 'first'), call('echo', [], 'second')]
    expect(await send(batch, 2)).toEqual([
      { jsonrpc: '2.0', id: 'first', error: { code: -32600, message: 'batch too large' } },
    ])
  })
})

describe('error mapping', () => {
  it('maps a revert to code 3 with the reason in the message and the revert data', async () => {
    expect(await send(call('reverts'))).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: 3, message: 'execution reverted: user error', data: REVERT_DATA },
    })
  })

  it('maps a revert without reason to "execution reverted" with data 0x', async () => {
    expect(await send(call('revertsBare'))).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: 3, message: 'execution reverted', data: '0x' },
    })
  })

  it("maps call failures and txpool refusals to -32000 with geth's words", async () => {
    expect(await send(call('callFails'))).toMatchObject({
      error: { code: -32000, message: 'insufficient funds for gas * price + value' },
    })
    expect(await send(call('poolRefuses'))).toMatchObject({
      error: { code: -32000, message: 'nonce too low: next nonce 3, tx nonce 1' },
    })
    expect(await send(call('custom'))).toMatchObject({ error: { code: -32000, message: 'header not found' } })
  })

  it('reports an unexpected exception as -32603 internal error, logs it and leaks nothing', async () => {
    const { d, logged } = dispatcher()
    const text = (await d.handleText(JSON.stringify(call('crashes')))) as string
    expect(JSON.parse(text)).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'internal error' } })
    expect(text).not.toContain('secret')
    expect(logged).toHaveBeenCalledOnce()
  })

  it('answers bad params with -32602 naming the argument and the problem', async () => {
    expect(await send(call('double', ['12']))).toMatchObject({
      error: { code: -32602, message: 'invalid argument 0: hex string without 0x prefix' },
    })
    expect(await send(call('double', []))).toMatchObject({
      error: { code: -32602, message: 'missing value for required argument 0' },
    })
    expect(await send(call('double', ['0x1', '0x2']))).toMatchObject({
      error: { code: -32602, message: 'too many arguments, want at most 1' },
    })
  })

  it('renders a stray bigint as a hex quantity instead of failing', async () => {
    expect(await send(call('big'))).toEqual({ jsonrpc: '2.0', id: 1, result: { value: '0xff' } })
  })
})

describe('batch preparation', () => {
  it('hands the batch to prepareBatch before its calls run and releases after the last answer', async () => {
    const events: string[] = []
    const dispatcher = new Dispatcher(
      {
        step: (params) => {
          const value = (params as string[])[0]
          events.push(`call ${value}`)
          return value
        },
      },
      {
        maxBatchLength: 10,
        batchConcurrency: 2,
        prepareBatch: async (calls) => {
          events.push(`prepare ${calls.map((c) => (c.params as string[])[0]).join(',')}`)
          return () => events.push('release')
        },
      },
      fakeLogger().logger,
    )
    const batch = ['a', 'b', 'c'].map((p, id) => ({ jsonrpc: '2.0', id, method: 'step', params: [p] }))
    const answers = (await dispatcher.handle([...batch, 'not a call'])) as JsonRpcResponse[]
    expect(answers.map((a) => ('result' in a ? a.result : 'error'))).toEqual(['a', 'b', 'c', 'error'])
    expect(events).toEqual(['prepare a,b,c', 'call a', 'call b', 'call c', 'release'])
    // A single call is not a batch; a failing preparation only skips it.
    events.length = 0
    await dispatcher.handle({ jsonrpc: '2.0', id: 1, method: 'step', params: ['d'] })
    expect(events).toEqual(['call d'])
    const failing = new Dispatcher(
      { step: (params) => (params as string[])[0] },
      { maxBatchLength: 10, prepareBatch: async () => Promise.reject(new Error('worker gone')) },
      fakeLogger().logger,
    )
    const results = (await failing.handle(batch)) as JsonRpcResponse[]
    expect(results.map((a) => ('result' in a ? a.result : 'error'))).toEqual(['a', 'b', 'c'])
  })
})
