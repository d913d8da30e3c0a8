import { hexToBytes } from '@ethereumjs/util'
import {
  createPublicClient,
  createWalletClient,
  getAddress,
  http,
  type PublicClient,
  parseAbiItem,
  parseEther,
  webSocket,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE, DEV_VALIDATOR } from '../../src/genesis/index.js'
import { createLogger } from '../../src/log/index.js'
import { PolisNode } from '../../src/node.js'
import { devChain, removeDir, tempDir, waitFor } from '../helpers/node.js'
import { compileContract } from '../helpers/solc.js'

const deployer = privateKeyToAccount(DEV_ACCOUNTS[0].privateKey)
const token = compileContract('Token.sol', 'Token')
const transferEvent = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)')

/** A raw WebSocket JSON-RPC client: requests by id, notifications collected. */
async function rawClient(url: string) {
  const socket = new WebSocket(url)
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  const notifications: { subscription: string; result: unknown }[] = []
  const waiting = new Map<number, (message: { result?: unknown; error?: { code: number; message: string } }) => void>()
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString())
    if (message.method === 'eth_subscription') notifications.push(message.params)
    else waiting.get(message.id)?.(message)
  })
  let nextId = 1
  const request = (method: string, params: unknown[] = []) =>
    new Promise<{ result?: unknown; error?: { code: number; message: string } }>((resolve) => {
      const id = nextId++
      waiting.set(id, resolve)
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    })
  return { socket, request, notifications }
}

describe('JSON-RPC over WebSocket', () => {
  let dir: string
  let node: PolisNode
  let wsUrl: string
  let ws: PublicClient

  beforeAll(async () => {
    dir = tempDir('polis-ws-')
    node = await PolisNode.start({
      datadir: dir,
      genesisFile: DEV_GENESIS_FILE,
      validatorKey: hexToBytes(DEV_VALIDATOR.privateKey),
      rpc: { host: '127.0.0.1', port: 0 },
      log: createLogger('silent'),
    })
    wsUrl = node.rpc.url.replace('http://', 'ws://')
    ws = createPublicClient({ chain: devChain(node.rpc.url), transport: webSocket(wsUrl) })
  })

  afterAll(async () => {
    await (await ws?.transport.getRpcClient?.())?.close()
    await node?.stop()
    removeDir(dir)
  })

  it('answers the HTTP methods, and viem watches new blocks through newHeads', async () => {
    expect(await ws.getChainId()).toBe(1337)
    const heads: bigint[] = []
    const unwatch = ws.watchBlocks({ onBlock: (block) => void heads.push(block.number) })
    try {
      await waitFor('two new heads', async () => (heads.length >= 2 ? true : undefined), 10_000)
      expect(heads[1]).toBe(heads[0] + 1n)
    } finally {
      unwatch()
    }
  })

  it('delivers Transfer logs and pending transaction hashes to viem subscriptions', async () => {
    const url = node.rpc.url
    const http_ = createPublicClient({ chain: devChain(url), transport: http(url), pollingInterval: 100 })
    const wallet = createWalletClient({ account: deployer, chain: devChain(url), transport: http(url) })
    const deployHash = await wallet.deployContract({
      abi: token.abi,
      bytecode: token.bytecode,
      args: [parseEther('10')],
    })
    const tokenAddress = (await http_.waitForTransactionReceipt({ hash: deployHash, timeout: 20_000 })).contractAddress!

    const pending: string[] = []
    const logs: { value: bigint | undefined; hash: string }[] = []
    const unwatchPending = ws.watchPendingTransactions({ onTransactions: (hashes) => void pending.push(...hashes) })
    const unwatchLogs = ws.watchEvent({
      address: tokenAddress,
      event: transferEvent,
      onLogs: (found) => void logs.push(...found.map((l) => ({ value: l.args.value, hash: l.transactionHash }))),
    })
    try {
      await new Promise((r) => setTimeout(r, 300))
      const sent = await wallet.writeContract({
        address: tokenAddress,
        abi: token.abi,
        functionName: 'transfer',
        args: [getAddress(DEV_ACCOUNTS[1].address), 3n],
      })
      await waitFor('the log notification', async () => (logs.length > 0 ? true : undefined), 10_000)
      expect(logs).toEqual([{ value: 3n, hash: sent }])
      expect(pending).toContain(sent)
    } finally {
      unwatchPending()
      unwatchLogs()
    }
  })

  it('eth_unsubscribe stops a subscription; unknown kinds and ids are refused; subscriptions end with the socket', async () => {
    const chain = node.chain as unknown as { listenerCount(event: string): number }
    const listeners = chain.listenerCount('block')
    const client = await rawClient(wsUrl)
    try {
      const { result: id } = await client.request('eth_subscribe', ['newHeads'])
      expect(id).toMatch(/^0x[1-9a-f][0-9a-f]{0,31}$/)
      await waitFor('a head', async () => (client.notifications.length > 0 ? true : undefined), 10_000)
      const head = client.notifications[0].result as Record<string, unknown>
      expect(head).toHaveProperty('hash')
      expect(head).toHaveProperty('parentHash')
      expect(head).not.toHaveProperty('transactions')
      expect((await client.request('eth_unsubscribe', [id])).result).toBe(true)
      expect((await client.request('eth_unsubscribe', [id])).result).toBe(false)
      const count = client.notifications.length
      await new Promise((r) => setTimeout(r, 1_500))
      expect(client.notifications.length).toBe(count)
      expect((await client.request('eth_subscribe', ['nothing'])).error).toEqual({
        code: -32601,
        message: 'no "nothing" subscription in eth namespace',
      })
      await client.request('eth_subscribe', ['newHeads'])
    } finally {
      client.socket.close()
    }
    // The closed connection's subscription no longer listens to the chain.
    await waitFor(
      'the listener to go',
      async () => (chain.listenerCount('block') === listeners ? true : undefined),
      5_000,
    )
  })
})
