import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { PolisNode } from '../../src/node.js'
import { freePort, removeDir, rpc, startNode, tempDir } from '../helpers/node.js'

/** Opens a WebSocket and makes one call; 'refused' when the upgrade is not accepted. */
function wsCall(url: string, method: string): Promise<unknown> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url)
    const timer = setTimeout(() => resolve('no answer'), 10_000)
    socket.on('open', () => socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] })))
    socket.on('message', (data) => {
      clearTimeout(timer)
      socket.close()
      resolve(JSON.parse(String(data)))
    })
    socket.on('unexpected-response', (_request, response) => {
      clearTimeout(timer)
      resolve(`refused ${response.statusCode}`)
    })
    socket.on('error', () => {
      clearTimeout(timer)
      resolve('refused: connection closed')
    })
  })
}

describe('a port per transport (--rpc-ws-port)', () => {
  let dir: string
  let node: PolisNode
  let wsPort: number

  beforeAll(async () => {
    dir = tempDir('polis-transports-')
    wsPort = await freePort()
    node = await startNode({ datadir: dir, rpc: { wsPort } })
  })

  afterAll(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('serves WebSocket only on its own port and HTTP only on the RPC port', async () => {
    expect(node.rpc.wsUrl).toBe(`ws://127.0.0.1:${wsPort}`)
    expect(await wsCall(`ws://127.0.0.1:${wsPort}`, 'eth_chainId')).toMatchObject({ result: '0x539' })
    expect((await rpc(node.rpc.url, 'eth_chainId', [])).result).toBe('0x539')
    // HTTP POST on the WebSocket port: 405 with a JSON-RPC error saying why.
    const post = await fetch(`http://127.0.0.1:${wsPort}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    })
    expect(post.status).toBe(405)
    expect(((await post.json()) as { error: { message: string } }).error.message).toMatch(/WebSocket only/)
    // No WebSocket upgrade on the HTTP port any more.
    expect(await wsCall(node.rpc.url.replace('http://', 'ws://'), 'eth_chainId')).toMatch(/^refused/)
  })
})
