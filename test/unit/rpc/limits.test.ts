import type { Logger } from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { Dispatcher, type MethodTable, refuseText } from '../../../src/rpc/dispatcher.js'
import { stringifyWithin } from '../../../src/rpc/json.js'
import { checkRpcOptions, sameListenAddress, WorkQueue } from '../../../src/rpc/limits.js'
import { defaultRpcOptions } from '../../../src/rpc/options.js'

const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() } as unknown as Logger
const call = (method: string, params: unknown[] = [], id: unknown = 1) => ({ jsonrpc: '2.0', id, method, params })
const tick = () => new Promise((r) => setTimeout(r, 5))

describe('stringifyWithin: JSON within a byte budget', () => {
  const samples: unknown[] = [
    { jsonrpc: '2.0', id: 1, result: [{ a: '0x1', b: [1, 2.5, null, true] }, 'x', [], {}] },
    { skipped: undefined, fn: () => 1, list: [undefined, () => 1], nested: { deep: { er: ['é', 'a"b\\c\n'] } } },
    { toJSON: () => ({ code: -32000, message: 'm' }) },
    [Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21],
    'plain',
    null,
  ]

  it('produces exactly what JSON.stringify produces when it fits', () => {
    for (const value of samples) expect(stringifyWithin(value, 1_000)).toBe(JSON.stringify(value))
  })

  it('renders bigints, also inside array elements, as hex quantities', () => {
    expect(stringifyWithin({ a: 255n, list: [{ b: 16n }] }, 100)).toBe('{"a":"0xff","list":[{"b":"0x10"}]}')
  })

  it('gives up past the budget, counting UTF-8 bytes, and accepts exactly the budget', () => {
    const value = { result: ['0x'.padEnd(100, 'a'), { data: 'b'.repeat(50) }] }
    const text = JSON.stringify(value)
    expect(stringifyWithin(value, text.length)).toBe(text)
    expect(stringifyWithin(value, text.length - 1)).toBeUndefined()
    // 'é' is two bytes in UTF-8: the budget is in bytes, not characters.
    expect(stringifyWithin({ s: 'é' }, JSON.stringify({ s: 'é' }).length)).toBeUndefined()
    expect(stringifyWithin({ s: 'é' }, Buffer.byteLength(JSON.stringify({ s: 'é' })))).toBe('{"s":"é"}')
  })

  it('refuses a huge string before escaping it', () => {
    expect(stringifyWithin({ result: 'x'.repeat(10_000_000) }, 1_000)).toBeUndefined()
  })
})

describe('response size limit in the dispatcher', () => {
  const big = (n: number) => 'x'.repeat(n)
  const runs: string[] = []
  const methods: MethodTable = {
    blob: ([n]) => {
      runs.push(`blob ${n}`)
      return big(Number(n))
    },
  }

  it('replaces a single answer above the limit with -32003 "response too large", keeping the id', async () => {
    const d = new Dispatcher(methods, { maxBatchLength: 10, maxResponseBytes: 200 }, logger)
    expect(JSON.parse((await d.handleText(JSON.stringify(call('blob', [100], 'a')))) as string)).toEqual({
      jsonrpc: '2.0',
      id: 'a',
      result: big(100),
    })
    expect(JSON.parse((await d.handleText(JSON.stringify(call('blob', [300], 'b')))) as string)).toEqual({
      jsonrpc: '2.0',
      id: 'b',
      error: { code: -32003, message: 'response too large' },
    })
  })

  it('in a batch, keeps the answers that fit and answers the first that does not and all later calls with -32003, without running them', async () => {
    runs.length = 0
    const d = new Dispatcher(methods, { maxBatchLength: 10, maxResponseBytes: 400, batchConcurrency: 1 }, logger)
    const batch = [call('blob', [100], 1), call('blob', [150], 2), call('blob', [200], 3), call('blob', [1], 4)]
    const text = (await d.handleText(JSON.stringify(batch))) as string
    const tooLarge = { code: -32003, message: 'response too large' }
    expect(JSON.parse(text)).toEqual([
      { jsonrpc: '2.0', id: 1, result: big(100) },
      { jsonrpc: '2.0', id: 2, result: big(150) },
      { jsonrpc: '2.0', id: 3, error: tooLarge },
      { jsonrpc: '2.0', id: 4, error: tooLarge },
    ])
    expect(runs).toEqual(['blob 100', 'blob 150', 'blob 200'])
  })
})

describe('batch concurrency', () => {
  function tracked() {
    let running = 0
    let peak = 0
    const order: string[] = []
    const slow =
      (name: string) =>
      async ([tag]: readonly unknown[]) => {
        running++
        peak = Math.max(peak, running)
        order.push(`start ${name} ${tag}`)
        await tick()
        order.push(`end ${name} ${tag}`)
        running--
        return tag
      }
    const methods: MethodTable = { eth_getBalance: slow('read'), eth_sendRawTransaction: slow('send') }
    return { methods, order, peak: () => peak }
  }

  it('runs reads of a batch at most batchConcurrency at once, answers in request order', async () => {
    const t = tracked()
    const d = new Dispatcher(t.methods, { maxBatchLength: 100, batchConcurrency: 3 }, logger)
    const batch = Array.from({ length: 10 }, (_, i) => call('eth_getBalance', [i], i))
    const answers = JSON.parse((await d.handleText(JSON.stringify(batch))) as string) as { id: number }[]
    expect(answers.map((a) => a.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(t.peak()).toBe(3)
  })

  it('runs a call that changes state alone: after every call before it, before every call after it', async () => {
    const t = tracked()
    const d = new Dispatcher(t.methods, { maxBatchLength: 100, batchConcurrency: 8 }, logger)
    await d.handleText(
      JSON.stringify([
        call('eth_getBalance', ['a']),
        call('eth_getBalance', ['b']),
        call('eth_sendRawTransaction', ['tx']),
        call('eth_getBalance', ['c']),
      ]),
    )
    const at = (event: string) => t.order.indexOf(event)
    expect(at('start send tx')).toBeGreaterThan(Math.max(at('end read a'), at('end read b')))
    expect(at('start read c')).toBeGreaterThan(at('end send tx'))
  })
})

describe('WorkQueue', () => {
  it('runs at most maxRunning tasks, queues maxQueued more in order, and refuses beyond', async () => {
    const queue = new WorkQueue(2, 1)
    const releases: (() => void)[] = []
    const started: number[] = []
    const task = (n: number) => () =>
      new Promise<number>((resolve) => {
        started.push(n)
        releases.push(() => resolve(n))
      })
    const a = queue.tryRun(task(1))
    const b = queue.tryRun(task(2))
    const c = queue.tryRun(task(3))
    expect(queue.tryRun(task(4))).toBeUndefined()
    expect([a, b, c].every((p) => p !== undefined)).toBe(true)
    expect(started).toEqual([1, 2])
    releases[0]()
    expect(await a).toBe(1)
    await tick()
    expect(started).toEqual([1, 2, 3])
    releases[1]()
    releases[2]()
    expect(await Promise.all([b, c])).toEqual([2, 3])
    expect(queue.size).toBe(0)
  })
})

describe('refusing a whole request text', () => {
  const busy = { code: -32005, message: 'too many concurrent requests' }
  it('answers each call of a batch with its id and skips notifications', () => {
    const text = JSON.stringify([call('a', [], 1), { jsonrpc: '2.0', method: 'n' }, call('b', [], 'x')])
    expect(JSON.parse(refuseText(text, busy) as string)).toEqual([
      { jsonrpc: '2.0', id: 1, error: busy },
      { jsonrpc: '2.0', id: 'x', error: busy },
    ])
    expect(JSON.parse(refuseText(JSON.stringify(call('a', [], 7)), busy) as string)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: busy,
    })
    expect(refuseText(JSON.stringify({ jsonrpc: '2.0', method: 'n' }), busy)).toBeUndefined()
    expect(JSON.parse(refuseText('{', busy) as string).error.code).toBe(-32700)
  })
})

describe('checking listener options', () => {
  it('refuses numbers that cannot work, naming the option, and unknown namespaces', () => {
    expect(() => checkRpcOptions(defaultRpcOptions)).not.toThrow()
    expect(() => checkRpcOptions({ ...defaultRpcOptions, maxResponseBytes: 0 })).toThrow(
      'rpc.maxResponseBytes must be a positive whole number (got 0)',
    )
    expect(() => checkRpcOptions({ ...defaultRpcOptions, batchConcurrency: 1.5 }, 'rpc.admin')).toThrow(
      'rpc.admin.batchConcurrency must be a positive whole number',
    )
    expect(() => checkRpcOptions({ ...defaultRpcOptions, wsMaxQueuedRequests: -1 })).toThrow('wsMaxQueuedRequests')
    expect(() => checkRpcOptions({ ...defaultRpcOptions, apis: ['eth', 'nope'] })).toThrow(
      'unknown JSON-RPC namespace nope',
    )
  })

  it('knows when two listeners would claim the same address', () => {
    const at = (host: string, port: number) => ({ host, port })
    expect(sameListenAddress(at('127.0.0.1', 8545), at('127.0.0.1', 8545))).toBe(true)
    expect(sameListenAddress(at('0.0.0.0', 8545), at('127.0.0.1', 8545))).toBe(true)
    expect(sameListenAddress(at('localhost', 8545), at('127.0.0.1', 8545))).toBe(true)
    expect(sameListenAddress(at('127.0.0.1', 8545), at('127.0.0.1', 8546))).toBe(false)
    expect(sameListenAddress(at('127.0.0.1', 8545), at('::1', 8545))).toBe(false)
    // Port 0 asks the system for a free port: never the same one twice.
    expect(sameListenAddress(at('127.0.0.1', 0), at('127.0.0.1', 0))).toBe(false)
  })
})
