import { request } from 'node:http'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { PolisNode } from '../../src/node.js'
import { removeDir, startNode, tempDir } from '../helpers/node.js'

const secret = Uint8Array.from(Buffer.from('5a'.repeat(32), 'hex'))

async function bearer(key = secret, iat = Math.floor(Date.now() / 1000)): Promise<string> {
  return `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(iat).sign(key)}`
}

async function post(
  url: string,
  method: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { result?: unknown; error?: { code: number; message: string } } }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }),
  })
  return {
    status: response.status,
    body: (await response.json()) as { result?: unknown; error?: { code: number; message: string } },
  }
}

/** Opens a WebSocket (optionally with headers) and makes one call; 'closed <code>' if the node closes it. */
function wsCall(url: string, method: string, headers: Record<string, string> = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace('http://', 'ws://'), { headers })
    const timer = setTimeout(() => reject(new Error('no answer')), 10_000)
    socket.on('open', () => socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] })))
    socket.on('message', (data) => {
      clearTimeout(timer)
      socket.close()
      resolve(JSON.parse(String(data)))
    })
    socket.on('close', (code) => {
      clearTimeout(timer)
      resolve(`closed ${code}`)
    })
    socket.on('error', () => {})
  })
}

describe('JWT-protected namespaces and the Host allowlist', () => {
  let dir: string
  let node: PolisNode

  beforeAll(async () => {
    dir = tempDir('polis-auth-')
    node = await startNode({
      datadir: dir,
      rpc: { apis: ['eth', 'net', 'web3', 'txpool', 'debug'], jwtSecret: secret, hostAllowlist: ['localhost'] },
    })
  })

  afterAll(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('refuses a protected method without a token and serves it with a good one; public methods need none', async () => {
    const url = node.rpc.url
    expect((await post(url, 'eth_chainId')).body.result).toBe('0x539')
    const missing = await post(url, 'txpool_status')
    expect(missing.status).toBe(200)
    expect(missing.body.error).toMatchObject({ code: -40100, message: expect.stringMatching(/^Unauthorized/) })
    const good = await post(url, 'txpool_status', { authorization: await bearer() })
    expect(good.body).toMatchObject({ result: { pending: '0x0', queued: '0x0' } })
    expect((await post(url, 'eth_chainId', { authorization: await bearer() })).body.result).toBe('0x539')
  })

  it('answers HTTP 401 to a wrong, stale or malformed token, whatever the method', async () => {
    const url = node.rpc.url
    const wrongKey = Uint8Array.from(Buffer.from('77'.repeat(32), 'hex'))
    for (const authorization of [
      await bearer(wrongKey),
      await bearer(secret, Math.floor(Date.now() / 1000) - 3600),
      'Bearer nonsense',
    ]) {
      for (const method of ['txpool_status', 'eth_chainId']) {
        const answer = await post(url, method, { authorization })
        expect(answer.status).toBe(401)
        expect(answer.body.error).toMatchObject({ code: -40100, message: expect.stringMatching(/^Unauthorized: /) })
      }
    }
  })

  it('checks the token of a WebSocket at the upgrade', async () => {
    const url = node.rpc.url
    expect(await wsCall(url, 'txpool_status', { authorization: await bearer() })).toMatchObject({
      result: { pending: '0x0', queued: '0x0' },
    })
    expect(await wsCall(url, 'txpool_status')).toMatchObject({ error: { code: -40100 } })
    expect(await wsCall(url, 'eth_chainId')).toMatchObject({ result: '0x539' })
    expect(await wsCall(url, 'eth_chainId', { authorization: 'Bearer nonsense' })).toBe('closed 1008')
  })

  it('answers 403 to a Host name not in the allowlist; IP addresses and listed names pass', async () => {
    const url = node.rpc.url
    const port = new URL(url).port
    // fetch() cannot set Host; node:http can.
    const withHost = (host: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] })
        const req = request(
          url,
          { method: 'POST', headers: { 'content-type': 'application/json', host } },
          (response) => {
            response.resume()
            resolve(response.statusCode)
          },
        )
        req.on('error', reject)
        req.end(body)
      })
    expect(await withHost(`evil.example:${port}`)).toBe(403)
    expect(await withHost(`localhost:${port}`)).toBe(200)
    expect(await withHost(`127.0.0.1:${port}`)).toBe(200)
  })
})
