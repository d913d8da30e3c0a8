import { join } from 'node:path'
import { hexToBytes } from '@ethereumjs/util'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE, DEV_VALIDATOR } from '../../src/genesis/index.js'
import { createLogger } from '../../src/log/index.js'
import { PolisNode } from '../../src/node.js'
import { type ChildNode, freePort, removeDir, rpc, startChildNode, tempDir, waitFor } from '../helpers/node.js'

// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC answers, checked field by field
type Json = any

/** The value of one sample of the Prometheus text, e.g. `polis_rpc_requests_total{method="eth_chainId"}`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}${labels} `)) return Number(line.slice(name.length + labels.length + 1))
  }
  return undefined
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/plain')
  return res.text()
}

async function health(url: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

const result = async <T>(url: string, method: string, params: unknown[] = []): Promise<T> => {
  const res = await rpc(url, method, params)
  if (res.error) throw new Error(`${method}: ${res.error.message}`)
  return res.result as T
}

describe('metrics and health of a running node (polis run --metrics-port)', () => {
  const dir = tempDir('polis-metrics-')
  let node: ChildNode | undefined

  afterAll(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('serves the head, the pool, RPC counts and process metrics; liveness and readiness are UP', async () => {
    const metricsPort = await freePort()
    node = await startChildNode(join(dir, 'data'), ['--metrics-port', String(metricsPort)])
    const metricsUrl = `http://127.0.0.1:${metricsPort}`
    await waitFor('block 3', async () =>
      (await result<string>(node!.url, 'eth_blockNumber')) >= '0x3' ? true : undefined,
    )

    // A transaction with a nonce far ahead of its sender's waits in the queued section.
    const sender = privateKeyToAccount(DEV_ACCOUNTS[5].privateKey)
    const raw = await sender.signTransaction({
      chainId: 1337,
      type: 'eip1559',
      nonce: 1000,
      to: DEV_ACCOUNTS[6].address,
      value: 1n,
      gas: 21_000n,
      maxFeePerGas: 100_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    })
    await result(node.url, 'eth_sendRawTransaction', [raw])
    for (let i = 0; i < 3; i++) await result(node.url, 'eth_chainId')
    await rpc(node.url, 'eth_getBalance', ['not an address', 'latest'])

    const text = await scrape(metricsUrl)
    const head = Number(BigInt(await result<string>(node.url, 'eth_blockNumber')))
    expect(Math.abs((sample(text, 'polis_chain_head_block') ?? -10) - head)).toBeLessThanOrEqual(1)
    expect(sample(text, 'polis_txpool_queued')).toBe(1)
    expect(sample(text, 'polis_txpool_pending')).toBe(0)
    expect(sample(text, 'polis_rpc_requests_total', '{method="eth_chainId"}')).toBe(3)
    expect(sample(text, 'polis_rpc_errors_total', '{method="eth_getBalance",code="-32602"}')).toBe(1)
    expect(sample(text, 'polis_rpc_request_seconds_count', '{method="eth_chainId"}')).toBe(3)
    expect(sample(text, 'polis_chain_block_import_seconds_count')).toBeGreaterThanOrEqual(3)
    expect(sample(text, 'polis_qbft_block_build_seconds_count')).toBeGreaterThanOrEqual(3)
    expect(sample(text, 'polis_chain_block_transactions_count')).toBeGreaterThanOrEqual(3)
    expect(sample(text, 'polis_qbft_height')).toBeGreaterThanOrEqual(head)
    expect(sample(text, 'polis_qbft_round_changes_total')).toBe(0)
    expect(sample(text, 'polis_net_peers')).toBe(0)
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0)
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0)
    // Methods that do not exist get no label of their own.
    await rpc(node.url, 'no_suchMethod', [])
    expect(await scrape(metricsUrl)).not.toContain('no_suchMethod')

    for (const url of [metricsUrl, node.url]) {
      expect(await health(url, '/liveness')).toEqual({ status: 200, body: { status: 'UP' } })
      // The single-node dev chain has no networking: no peers needed.
      expect(await health(url, '/readiness')).toEqual({ status: 200, body: { status: 'UP' } })
      const strict = await health(url, '/readiness?minPeers=1')
      expect(strict.status).toBe(503)
      expect(strict.body.status).toBe('DOWN')
      expect((await health(url, '/readiness?minPeers=x')).status).toBe(400)
    }
  }, 60_000)
})

describe('readiness and admin_ on a 2-node network', () => {
  const dir = tempDir('polis-admin-')
  const log = createLogger('silent')
  let validator: PolisNode | undefined
  let follower: PolisNode | undefined

  afterAll(async () => {
    await follower?.stop()
    await validator?.stop()
    removeDir(dir)
  })

  it('lists, removes and re-adds a peer; readiness is UP with the peer and DOWN once it stops', async () => {
    const validatorPort = await freePort()
    validator = await PolisNode.start({
      datadir: join(dir, 'validator'),
      genesisFile: DEV_GENESIS_FILE,
      validatorKey: hexToBytes(DEV_VALIDATOR.privateKey),
      rpc: { host: '127.0.0.1', port: 0 },
      p2p: { listen: [`/ip4/127.0.0.1/tcp/${validatorPort}`] },
      log,
    })
    const validatorAddr = `/ip4/127.0.0.1/tcp/${validatorPort}/p2p/${validator.network?.peerId}`
    follower = await PolisNode.start({
      datadir: join(dir, 'follower'),
      genesisFile: DEV_GENESIS_FILE,
      rpc: { host: '127.0.0.1', port: 0 },
      rpcAdmin: { host: '127.0.0.1', port: 0 },
      metrics: { host: '127.0.0.1', port: 0 },
      p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], staticPeers: [validatorAddr] },
      log,
    })
    const admin = follower.adminRpc!.url
    const metricsUrl = follower.metricsServer!.url
    const peerIds = async () => (await result<{ id: string }[]>(admin, 'admin_peers')).map((p) => p.id)

    // Off the public port by default.
    expect((await rpc(follower.rpc.url, 'admin_peers', [])).error?.code).toBe(-32601)

    const info = await result<Json>(admin, 'admin_nodeInfo')
    expect(info.id).toBe(follower.network?.peerId)
    expect(info.name).toMatch(/^Polis\//)
    expect(info.listenAddrs.length).toBeGreaterThan(0)
    expect(info.ports.listener).toBeGreaterThan(0)
    expect(info.protocols.eth.network).toBe(1337)
    expect(info.protocols.eth.genesis).toBe(`0x${Buffer.from(follower.chain.genesis.hash()).toString('hex')}`)

    await waitFor('the validator in admin_peers', async () =>
      (await peerIds()).includes(validator!.network!.peerId) ? true : undefined,
    )
    const [peer] = await result<Json[]>(admin, 'admin_peers')
    expect(peer.direction).toBe('outbound')
    expect(peer.network.static).toBe(true)
    expect(peer.addresses[0]).toContain(`/tcp/${validatorPort}`)
    expect(peer.protocols.eth.headNumber).toMatch(/^0x/)

    expect(await result(admin, 'admin_removePeer', [validator.network!.peerId])).toBe(true)
    await waitFor('the validator gone from admin_peers', async () =>
      (await peerIds()).length === 0 ? true : undefined,
    )
    expect(await result(admin, 'admin_addPeer', [validatorAddr])).toBe(true)
    await waitFor('the validator back in admin_peers', async () =>
      (await peerIds()).includes(validator!.network!.peerId) ? true : undefined,
    )
    for (const garbage of ['garbage', '/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/1/p2p/notapeer']) {
      expect((await rpc(admin, 'admin_addPeer', [garbage])).error?.code).toBe(-32602)
    }
    expect((await rpc(admin, 'admin_removePeer', ['garbage'])).error?.code).toBe(-32602)

    // Near the validator's head with one peer: ready, on the metrics listener and on the JSON-RPC port.
    await waitFor('the follower ready', async () =>
      (await health(metricsUrl, '/readiness?minPeers=1&maxBlocksBehind=2')).status === 200 ? true : undefined,
    )
    expect((await health(follower.rpc.url, '/readiness')).status).toBe(200)
    expect(sample(await scrape(metricsUrl), 'polis_net_peers')).toBe(1)
    // Blocks after the reconnection come by gossip (those before it may have come by sync): wait for one.
    await waitFor('a gossiped block counted', async () => {
      const received = sample(await scrape(metricsUrl), 'polis_net_gossip_received_total', '{topic="/polis/block/1"}')
      return received !== undefined && received > 0 ? true : undefined
    })

    await validator.stop()
    validator = undefined
    const down = await waitFor('the follower not ready', async () => {
      const answer = await health(metricsUrl, '/readiness?minPeers=1')
      return answer.status === 503 ? answer : undefined
    })
    expect(down.body).toMatchObject({ status: 'DOWN', peers: 0, minPeers: 1 })
    expect((await health(follower.rpc.url, '/readiness')).status).toBe(503)
    expect((await health(follower.rpc.url, '/readiness?minPeers=0')).status).toBe(200)
    expect((await health(metricsUrl, '/liveness')).status).toBe(200)
  }, 60_000)
})
