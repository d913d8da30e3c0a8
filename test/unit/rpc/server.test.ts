import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { defaultRpcOptions, RpcServer } from '../../../src/rpc/index.js'
import { FakeChain, fakeDeps } from './fixtures.js'

describe('JSON-RPC over HTTP', () => {
  let server: RpcServer

  beforeAll(async () => {
    const chain = new FakeChain()
    chain.add([])
    server = await RpcServer.start(
      { ...defaultRpcOptions, host: '127.0.0.1', port: 0, maxBodyBytes: 1024 },
      fakeDeps(chain),
    )
  })

  afterAll(async () => {
    await server?.close()
  })

  const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(server.url, { method: 'POST', headers, body })

  it('listens on the real port when asked for port 0', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(server.url).not.toMatch(/:0$/)
  })

  it('answers a call with JSON and lets any origin read it', async () => {
    const res = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber' }), {
      'content-type': 'application/json',
      origin: 'https://dapp.example',
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 1, result: '0x1' })
  })

  it('answers CORS preflight requests', async () => {
    const res = await fetch(server.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://dapp.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-methods')).toContain('POST')
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type')
  })

  it('reads bodies of any content type as JSON (curl -d sends form-urlencoded)', async () => {
    const res = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'net_version' }), {
      'content-type': 'application/x-www-form-urlencoded',
    })
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 2, result: '1337' })
  })

  it('answers malformed JSON with a -32700 error body', async () => {
    const res = await post('{"jsonrpc":')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } })
  })

  it('answers an oversized body with HTTP 413 and a JSON-RPC error', async () => {
    const res = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'web3_sha3', params: [`0x${'00'.repeat(1024)}`] }),
    )
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'request body too large (limit 1024 bytes)' },
    })
  })

  it('sends an empty body for notifications only', async () => {
    const res = await post(JSON.stringify({ jsonrpc: '2.0', method: 'eth_blockNumber' }))
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('')
  })

  it('answers batches in order', async () => {
    const res = await post(
      JSON.stringify([
        { jsonrpc: '2.0', id: 'a', method: 'eth_chainId' },
        { jsonrpc: '2.0', id: 'b', method: 'net_listening' },
      ]),
    )
    expect(await res.json()).toEqual([
      { jsonrpc: '2.0', id: 'a', result: '0x539' },
      { jsonrpc: '2.0', id: 'b', result: true },
    ])
  })

  it('answers a bare GET with 200 for health checks', async () => {
    expect((await fetch(server.url)).status).toBe(200)
  })
})

describe('JSON-RPC over HTTP with a list of allowed origins', () => {
  it('lets only the listed origins read answers, preflight included', async () => {
    const chain = new FakeChain()
    chain.add([])
    const server = await RpcServer.start(
      { ...defaultRpcOptions, host: '127.0.0.1', port: 0, corsOrigins: ['https://explorer.city.example'] },
      fakeDeps(chain),
    )
    try {
      const ask = (origin: string, method = 'POST') =>
        fetch(server.url, {
          method,
          headers: { 'content-type': 'application/json', origin, 'access-control-request-method': 'POST' },
          body: method === 'POST' ? JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' }) : undefined,
        })
      const allowed = await ask('https://explorer.city.example')
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://explorer.city.example')
      expect(allowed.headers.get('vary')).toBe('Origin')
      const preflight = await ask('https://EXPLORER.city.example', 'OPTIONS')
      expect(preflight.status).toBe(204)
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://EXPLORER.city.example')
      const other = await ask('https://evil.example')
      expect(other.headers.get('access-control-allow-origin')).toBeNull()
      // The answer itself is still sent: CORS is the browser's check, not an authentication.
      expect(((await other.json()) as { result: string }).result).toBe('0x539')
    } finally {
      await server.close()
    }
  })
})

/** One POST on a new connection that is closed afterwards (fetch would keep connections open in a pool). */
function postOnce(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { connection: 'close' } }, (res) => {
      let text = ''
      res.on('data', (d) => {
        text += d
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }))
    })
    req.once('error', reject)
    req.end(JSON.stringify(body))
  })
}

describe('limits of a listener', () => {
  let server: RpcServer

  beforeAll(async () => {
    const chain = new FakeChain()
    for (let i = 0; i < 3; i++) chain.add([])
    server = await RpcServer.start(
      {
        ...defaultRpcOptions,
        host: '127.0.0.1',
        port: 0,
        maxConnections: 3,
        maxResponseBytes: 2_000,
        wsMaxConcurrentRequests: 1,
        wsMaxQueuedRequests: 2,
      },
      fakeDeps(chain),
    )
  })

  afterAll(async () => {
    await server?.close()
  })

  const port = () => Number(new URL(server.url).port)
  const block = (id: number) => ({ jsonrpc: '2.0', id, method: 'eth_getBlockByNumber', params: ['0x1', false] })

  it('answers -32003 "response too large" for an answer above maxResponseBytes, per batch item', async () => {
    const one = await postOnce(server.url, block(1))
    const size = JSON.stringify(one.json).length
    expect(size).toBeGreaterThan(1_000)
    expect(size).toBeLessThan(2_000)
    // Two blocks do not fit in 2,000 bytes: the second is refused and the third is not run.
    const { json } = await postOnce(server.url, [block(1), block(2), block(3)])
    const answers = json as { id: number; result?: unknown; error?: unknown }[]
    expect(answers.map((a) => a.id)).toEqual([1, 2, 3])
    expect(answers[0].result).toEqual((one.json as { result: unknown }).result)
    expect(answers[1].error).toEqual({ code: -32003, message: 'response too large' })
    expect(answers[2].error).toEqual({ code: -32003, message: 'response too large' })
  })

  it('answers connections beyond maxConnections with HTTP 503 and -32005, and serves again once they close', async () => {
    const held = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = connect(port(), '127.0.0.1', () => resolve(socket))
            socket.once('error', reject)
          }),
      ),
    )
    try {
      await new Promise((r) => setTimeout(r, 50))
      expect(await postOnce(server.url, block(1))).toEqual({
        status: 503,
        json: { jsonrpc: '2.0', id: null, error: { code: -32005, message: 'too many connections (limit 3)' } },
      })
      const refused = new WebSocket(server.url.replace('http://', 'ws://'))
      const status = await new Promise<number>((resolve, reject) => {
        refused.once('unexpected-response', (_req, response) => resolve(response.statusCode ?? 0))
        refused.once('open', () => reject(new Error('the upgrade over the limit was accepted')))
        refused.once('error', () => {})
      })
      expect(status).toBe(503)
    } finally {
      for (const socket of held) socket.destroy()
    }
    await new Promise((r) => setTimeout(r, 50))
    expect((await postOnce(server.url, block(1))).status).toBe(200)
  })
  it('runs a WebSocket connection requests one at a time here, queues two, and answers the rest -32005', async () => {
    const socket = new WebSocket(server.url.replace('http://', 'ws://'))
    await new Promise((resolve, reject) => {
      socket.once('open', resolve)
      socket.once('error', reject)
    })
    try {
      const answers = new Map<number, { result?: unknown; error?: { code: number; message: string } }>()
      socket.on('message', (data) => {
        const message = JSON.parse(data.toString())
        answers.set(message.id, message)
      })
      // Sent in one go: they reach the server together, while the first still runs.
      for (let id = 1; id <= 20; id++) socket.send(JSON.stringify({ ...block(id), params: ['0x2', true] }))
      const deadline = Date.now() + 5_000
      while (answers.size < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      expect(answers.size).toBe(20)
      const busy = [...answers.values()].filter((a) => a.error !== undefined)
      expect(busy.length).toBeGreaterThan(0)
      for (const a of busy) expect(a.error).toEqual({ code: -32005, message: 'too many concurrent requests' })
      expect(answers.get(1)?.result).toBeDefined()
    } finally {
      socket.close()
    }
  })
})
