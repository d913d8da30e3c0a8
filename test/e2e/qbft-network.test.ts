import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { createWalletClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCrypto } from '../../src/crypto/index.js'
import { DEV_ACCOUNTS } from '../../src/genesis/index.js'
import { peerIdOfPrivateKey } from '../../src/net/index.js'
import { type ChildNode, devChain, removeDir, rpc, startChildNode, tempDir, waitFor } from '../helpers/node.js'

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')
const crypto = createCrypto()

async function isFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const server = createServer()
    server.once('error', () => r(false))
    server.listen(port, '127.0.0.1', () => server.close(() => r(true)))
  })
}

/** A base port with `count` free ports at `base + i * step`. */
async function freeBase(count: number, step: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    let ok = true
    for (let i = 0; i < count && ok; i++) ok = await isFree(base + i * step)
    if (ok) return base
  }
  throw new Error('no free port range')
}

const call = async <T>(node: ChildNode, method: string, params: unknown[] = []): Promise<T> => {
  const res = await rpc(node.url, method, params)
  if (res.error) throw new Error(`${method}: ${res.error.message}`)
  return res.result as T
}
const head = async (node: ChildNode) => BigInt(await call<string>(node, 'eth_blockNumber'))
const hashAt = async (node: ChildNode, n: bigint) =>
  (await call<{ hash: string } | null>(node, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false]))?.hash

describe('a 4-validator QBFT network of separate processes', () => {
  let dir: string
  let rpcBase: number
  let p2pBase: number
  const nodes: (ChildNode | undefined)[] = []
  const configs: string[] = []

  const start = async (i: number) => {
    nodes[i] = await startChildNode(join(dir, `node-${i}`, 'data'), [
      '--config',
      configs[i],
      '--max-round-timeout',
      '4',
      '--log-level',
      'info',
    ])
    return nodes[i] as ChildNode
  }
  const live = () => nodes.filter((n): n is ChildNode => n !== undefined)

  beforeAll(async () => {
    dir = tempDir('polis-qbft-')
    rpcBase = await freeBase(5, 10)
    p2pBase = await freeBase(5, 1)
    const generated = spawnSync(
      process.execPath,
      [
        CLI,
        'genesis',
        '--validators',
        '4',
        '--out',
        dir,
        '--dev-account',
        '--rpc-port',
        String(rpcBase),
        '--p2p-port',
        String(p2pBase),
      ],
      { encoding: 'utf8', timeout: 30_000 },
    )
    expect(generated.status, generated.stderr).toBe(0)
    for (let i = 0; i < 4; i++) configs.push(join(dir, `node-${i}`, 'config.toml'))
    await Promise.all([0, 1, 2, 3].map(start))
  }, 120_000)

  afterAll(async () => {
    for (const node of nodes) await node?.stop('SIGKILL')
    removeDir(dir)
  })

  it('finalizes a block every period with the same hash at every height on all four', async () => {
    await waitFor(
      'block 3 everywhere',
      async () => ((await Promise.all(live().map(head))).every((h) => h >= 3n) ? true : undefined),
      30_000,
    )
    for (let n = 1n; n <= 3n; n++) {
      const hashes = await Promise.all(live().map((node) => hashAt(node, n)))
      expect(new Set(hashes).size).toBe(1)
    }
  })

  it('includes a transaction sent to any node, with its receipt visible on all nodes', async () => {
    const node = nodes[2] as ChildNode
    const wallet = createWalletClient({
      account: privateKeyToAccount(DEV_ACCOUNTS[0].privateKey),
      chain: devChain(node.url),
      transport: http(node.url),
    })
    const hash = await wallet.sendTransaction({ to: DEV_ACCOUNTS[1].address, value: 12345n })
    for (const other of live()) {
      const receipt = await waitFor(
        'receipt',
        () =>
          call<{ status: string; blockHash: string } | null>(other, 'eth_getTransactionReceipt', [hash]).then(
            (r) => r ?? undefined,
          ),
        20_000,
      )
      expect(receipt.status).toBe('0x1')
    }
  })

  it('keeps finalizing with one of four killed, stalls without forking at two, and resumes when they return', async () => {
    await (nodes[3] as ChildNode).stop('SIGKILL')
    nodes[3] = undefined
    const before = await head(nodes[0] as ChildNode)
    await waitFor(
      'progress with 3 of 4',
      async () => ((await head(nodes[0] as ChildNode)) >= before + 2n ? true : undefined),
      20_000,
    )

    await (nodes[2] as ChildNode).stop('SIGKILL')
    nodes[2] = undefined
    await new Promise((r) => setTimeout(r, 2_000))
    const stalled = await head(nodes[0] as ChildNode)
    await new Promise((r) => setTimeout(r, 4_000))
    const [h0, h1] = await Promise.all([head(nodes[0] as ChildNode), head(nodes[1] as ChildNode)])
    expect(h0).toBe(stalled)
    expect(await hashAt(nodes[0] as ChildNode, h0 < h1 ? h0 : h1)).toBe(
      await hashAt(nodes[1] as ChildNode, h0 < h1 ? h0 : h1),
    )

    await Promise.all([start(2), start(3)])
    await waitFor(
      'blocks resume',
      async () => ((await head(nodes[0] as ChildNode)) >= stalled + 2n ? true : undefined),
      40_000,
    )
    const target = await head(nodes[0] as ChildNode)
    await waitFor(
      'all four at the same height',
      async () => ((await Promise.all(live().map(head))).every((h) => h >= target) ? true : undefined),
      30_000,
    ).catch(async (e: Error) => {
      const heads = await Promise.all(live().map((n) => head(n).catch(() => -1n)))
      const tails = live().map((n, i) => `node ${i}:\n${n.output().slice(-3000)}`)
      throw new Error(`${e.message}; heads ${heads.join(', ')}\n${tails.join('\n---\n')}`)
    })
    const hashes = await Promise.all(live().map((node) => hashAt(node, target)))
    expect(new Set(hashes).size).toBe(1)
  })

  it('a validator whose data directory was wiped catches up by itself and proposes again', async () => {
    const key = hexToBytes(readFileSync(join(dir, 'node-3', 'key'), 'utf8').trim() as `0x${string}`)
    const address = bytesToHex(crypto.privateKeyToAddress(key))
    await (nodes[3] as ChildNode).stop('SIGKILL')
    nodes[3] = undefined
    removeDir(join(dir, 'node-3', 'data'))
    const restart = await head(nodes[0] as ChildNode)
    const node = await start(3)
    await waitFor(
      'the wiped validator to catch up',
      async () => ((await head(node)) >= restart ? true : undefined),
      30_000,
    )
    // Round-robin proposers: within a few blocks one is this validator's again.
    const proposed = await waitFor(
      'a block proposed by the wiped validator',
      async () => {
        const latest = await call<{ number: string; miner: string }>(node, 'eth_getBlockByNumber', ['latest', false])
        return BigInt(latest.number) > restart && latest.miner === address ? BigInt(latest.number) : undefined
      },
      40_000,
    )
    expect(await hashAt(nodes[0] as ChildNode, proposed)).toBe(await hashAt(node, proposed))
  })

  it('a follower started late on an empty data directory reaches the head and follows the chain', async () => {
    const key0 = hexToBytes(readFileSync(join(dir, 'node-0', 'key'), 'utf8').trim() as `0x${string}`)
    const port = await freeBase(1, 1)
    const follower = await startChildNode(join(dir, 'follower', 'data'), [
      '--genesis',
      join(dir, 'genesis.json'),
      '--p2p-listen',
      `/ip4/127.0.0.1/tcp/${port}`,
      '--static-peers',
      `/ip4/127.0.0.1/tcp/${p2pBase}/p2p/${peerIdOfPrivateKey(key0)}`,
    ])
    try {
      const target = await head(nodes[0] as ChildNode)
      await waitFor(
        'the follower to reach the head',
        async () => ((await head(follower)) >= target ? true : undefined),
        30_000,
      )
      expect(await hashAt(follower, target)).toBe(await hashAt(nodes[0] as ChildNode, target))
      await waitFor(
        'the follower to follow new blocks',
        async () => ((await head(follower)) >= target + 2n ? true : undefined),
        20_000,
      )
      // A short catch-up may be under way when a gossiped block was missed; it ends at the head.
      await waitFor(
        'eth_syncing to be false',
        async () => ((await call<unknown>(follower, 'eth_syncing')) === false ? true : undefined),
        20_000,
      )
      expect(await call<string>(follower, 'eth_coinbase').catch((e: Error) => e.message)).toMatch(/etherbase/)
    } finally {
      await follower.stop()
    }
  })

  it('votes a fifth validator in, which then proposes blocks, and votes it out again', async () => {
    const key = secp256k1.utils.randomSecretKey()
    const address = bytesToHex(crypto.privateKeyToAddress(key))
    const nodeDir = join(dir, 'node-4')
    spawnSync('mkdir', ['-p', nodeDir])
    writeFileSync(join(nodeDir, 'key'), bytesToHex(key), { mode: 0o600 })
    const peers = [0, 1, 2, 3].map(
      (i) => `/ip4/127.0.0.1/tcp/${p2pBase + i}/p2p/${peerIdOfPrivateKey(readKey(dir, i))}`,
    )
    nodes[4] = await startChildNode(join(nodeDir, 'data'), [
      '--genesis',
      join(dir, 'genesis.json'),
      '--validator-key',
      join(nodeDir, 'key'),
      '--rpc-api',
      'eth,net,web3,qbft',
      '--p2p-listen',
      `/ip4/127.0.0.1/tcp/${p2pBase + 4}`,
      '--static-peers',
      peers.join(','),
      '--max-round-timeout',
      '4',
    ])
    for (const i of [0, 1, 2])
      expect(await call(nodes[i] as ChildNode, 'qbft_proposeValidatorVote', [address, true])).toBe(true)
    const validators = () => call<string[]>(nodes[0] as ChildNode, 'qbft_getValidatorsByBlockNumber', ['latest'])
    await waitFor('five validators', async () => ((await validators()).length === 5 ? true : undefined), 40_000)
    const added = await head(nodes[0] as ChildNode)
    const proposed = await waitFor(
      'a block proposed by the fifth validator',
      async () => {
        const metrics = await call<{ address: string; proposedBlockCount: string }[]>(
          nodes[0] as ChildNode,
          'qbft_getSignerMetrics',
          [`0x${added.toString(16)}`, 'latest'],
        )
        return metrics.find((m) => m.address === address && BigInt(m.proposedBlockCount) > 0n)
      },
      40_000,
    )
    expect(proposed).toBeDefined()
    for (const i of [0, 1, 2]) {
      await call(nodes[i] as ChildNode, 'qbft_discardValidatorVote', [address])
      await call(nodes[i] as ChildNode, 'qbft_proposeValidatorVote', [address, false])
    }
    await waitFor('four validators again', async () => ((await validators()).length === 4 ? true : undefined), 40_000)
    const removedAt = await head(nodes[0] as ChildNode)
    await waitFor(
      'blocks after the removal',
      async () => ((await head(nodes[0] as ChildNode)) >= removedAt + 3n ? true : undefined),
      30_000,
    )
    const metrics = await call<{ address: string; proposedBlockCount: string }[]>(
      nodes[0] as ChildNode,
      'qbft_getSignerMetrics',
      [`0x${(removedAt + 1n).toString(16)}`, 'latest'],
    )
    expect(metrics.find((m) => m.address === address)).toBeUndefined()
  })
})

function readKey(dir: string, i: number): Uint8Array {
  const text = spawnSync('cat', [join(dir, `node-${i}`, 'key')], { encoding: 'utf8' }).stdout.trim()
  return Uint8Array.from(Buffer.from(text.replace(/^0x/, ''), 'hex'))
}
