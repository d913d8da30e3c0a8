import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
