import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { PolisNode } from '../../src/node.js'
import { freePort, removeDir, rpc, startNode, tempDir } from '../helpers/node.js'

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')

describe('a second JSON-RPC listener for the expensive namespaces', () => {
  let dir: string
  let node: PolisNode

  beforeAll(async () => {
    dir = tempDir('polis-listeners-')
    node = await startNode({ datadir: dir, rpcAdmin: { host: '127.0.0.1', port: 0, apis: ['eth', 'txpool', 'debug'] } })
  })

  afterAll(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('serves txpool and debug only on the admin port; the public port answers -32601 for them', async () => {
    const admin = node.adminRpc?.url ?? 'no admin listener'
    expect(admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(admin).not.toBe(node.rpc.url)
    for (const [method, params] of [
      ['txpool_status', []],
      ['debug_getRawHeader', ['latest']],
    ] as const) {
      expect(await rpc(node.rpc.url, method, [...params])).toMatchObject({
        error: { code: -32601, message: `the method ${method} does not exist/is not available` },
      })
      const answer = await rpc(admin, method, [...params])
      expect(answer.error).toBeUndefined()
      expect(answer.result).toBeDefined()
    }
    expect((await rpc(admin, 'txpool_status', [])).result).toEqual({ pending: '0x0', queued: '0x0' })
    // Only the namespaces asked for: net and web3 stay on the public port.
    expect((await rpc(admin, 'net_version', [])).error?.code).toBe(-32601)
    expect((await rpc(node.rpc.url, 'net_version', [])).result).toBe('1337')
  })

  it('serves WebSocket on the admin port too, subscriptions included', async () => {
    const admin = node.adminRpc?.url ?? 'no admin listener'
    const socket = new WebSocket(admin.replace('http://', 'ws://'))
    await new Promise((r, reject) => {
      socket.once('open', r)
      socket.once('error', reject)
    })
    try {
      const heads: unknown[] = []
      const answers = new Map<number, { result?: unknown; error?: unknown }>()
      socket.on('message', (data) => {
        const message = JSON.parse(data.toString())
        if (message.method === 'eth_subscription') heads.push(message.params.result)
        else answers.set(message.id, message)
      })
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'debug_getRawHeader', params: ['0x0'] }))
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'eth_subscribe', params: ['newHeads'] }))
      const deadline = Date.now() + 10_000
      while ((answers.size < 2 || heads.length === 0) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50))
      expect(answers.get(1)?.result).toMatch(/^0x[0-9a-f]+$/)
      expect(answers.get(2)?.result).toMatch(/^0x[0-9a-f]+$/)
      expect(heads.length).toBeGreaterThan(0)
    } finally {
      socket.close()
    }
  })

  it('refuses an admin listener on the public host:port before opening the data directory', async () => {
    const other = tempDir('polis-listeners-clash-')
    try {
      await expect(
        startNode({ datadir: other, rpc: { port: 18545 }, rpcAdmin: { host: '0.0.0.0', port: 18545 } }),
      ).rejects.toThrow(
        "the admin JSON-RPC listener (0.0.0.0:18545) must not use the public one's address (127.0.0.1:18545)",
      )
      expect(existsSync(join(other, 'CURRENT'))).toBe(false)
    } finally {
      removeDir(other)
    }
  })
})

describe('polis run: listener flags and config', () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, [CLI, 'run', ...args], { encoding: 'utf8', timeout: 30_000 })

  it('refuses the same port for both listeners, an admin host without a port, and bad limits, with clear messages', async () => {
    const dir = tempDir('polis-listeners-cli-')
    try {
      const port = String(await freePort())
      const base = ['--datadir', join(dir, 'data'), '--log-level', 'silent']
      const clash = run([...base, '--rpc-port', port, '--rpc-admin-port', port])
      expect(clash.status).toBe(1)
      expect(clash.stderr).toContain(`the admin JSON-RPC listener (127.0.0.1:${port}) must not use the public one's`)
      const noPort = run([...base, '--rpc-admin-api', 'debug'])
      expect(noPort.status).toBe(1)
      expect(noPort.stderr).toContain('the admin JSON-RPC listener needs a port')
      const badLimit = run([...base, '--rpc-max-response-bytes', '0'])
      expect(badLimit.status).toBe(1)
      expect(badLimit.stderr).toContain('must be a positive whole number')
      const config = join(dir, 'config.toml')
      writeFileSync(config, `[rpc]\nport = ${port}\n[rpc.admin]\nport = ${port}\napis = ["debug"]\n`)
      const clashInFile = run(['--config', config, ...base])
      expect(clashInFile.status).toBe(1)
      expect(clashInFile.stderr).toContain('must not use the public one')
      const unknownApi = run([...base, '--rpc-admin-port', String(await freePort()), '--rpc-admin-api', 'nope'])
      expect(unknownApi.status).toBe(1)
      expect(unknownApi.stderr).toContain('unknown JSON-RPC namespace nope')
    } finally {
      removeDir(dir)
    }
  })
})
