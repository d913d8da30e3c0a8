import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createPublicClient, createWalletClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterEach, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE } from '../../src/genesis/index.js'
import { type ChildNode, devChain, removeDir, startChildNode, tempDir } from '../helpers/node.js'

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')
const payer = privateKeyToAccount(DEV_ACCOUNTS[6].privateKey)
const payee = DEV_ACCOUNTS[7].address

describe('a node as a child process', () => {
  const dirs: string[] = []
  const nodes: ChildNode[] = []

  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop('SIGKILL')
    for (const dir of dirs.splice(0)) removeDir(dir)
  })

  async function start(datadir: string, args: string[] = []) {
    const node = await startChildNode(datadir, args)
    nodes.push(node)
    return node
  }

  it('comes back after kill -9 with the same blocks, state and receipts, and keeps sealing', async () => {
    const datadir = tempDir()
    dirs.push(datadir)
    let node = await start(datadir)
    let client = createPublicClient({ chain: devChain(node.url), transport: http(node.url), pollingInterval: 200 })
    const wallet = createWalletClient({
      account: payer,
      chain: devChain(node.url),
      transport: http(node.url),
      pollingInterval: 200,
    })
    const hashes: `0x${string}`[] = []
    for (let i = 0; i < 5; i++) hashes.push(await wallet.sendTransaction({ to: payee, value: 1000n + BigInt(i) }))
    const receipts = await Promise.all(
      hashes.map((hash) => client.waitForTransactionReceipt({ hash, timeout: 20_000 })),
    )
    const balance = await client.getBalance({ address: payee })
    const head = await client.getBlock()
    await node.stop('SIGKILL')

    node = await start(datadir)
    client = createPublicClient({ chain: devChain(node.url), transport: http(node.url), pollingInterval: 200 })
    const again = await client.getBlock({ blockNumber: head.number })
    expect(again.hash).toBe(head.hash)
    expect(again.stateRoot).toBe(head.stateRoot)
    expect(await client.getBalance({ address: payee, blockNumber: head.number })).toBe(balance)
    for (const receipt of receipts) {
      const found = await client.getTransactionReceipt({ hash: receipt.transactionHash })
      expect(found.blockHash).toBe(receipt.blockHash)
      expect(found.status).toBe('success')
    }
    const before = await client.getBlockNumber()
    await expect.poll(() => client.getBlockNumber(), { timeout: 10_000, interval: 200 }).toBeGreaterThan(before)
  })

  it('stops cleanly on SIGTERM and resumes from the same head', async () => {
    const datadir = tempDir()
    dirs.push(datadir)
    let node = await start(datadir)
    let client = createPublicClient({ chain: devChain(node.url), transport: http(node.url), pollingInterval: 200 })
    await expect.poll(() => client.getBlockNumber(), { timeout: 10_000, interval: 200 }).toBeGreaterThan(1n)
    expect(await node.stop('SIGTERM')).toBe(0)
    nodes.splice(nodes.indexOf(node), 1)
    const head = await (async () => {
      node = await start(datadir)
      client = createPublicClient({ chain: devChain(node.url), transport: http(node.url), pollingInterval: 200 })
      return client.getBlock({ blockTag: 'earliest' })
    })()
    expect(head.number).toBe(0n)
    expect(await client.getBlockNumber()).toBeGreaterThan(1n)
  })

  it('`polis init` writes a chain, and `polis run` on another genesis is refused with a clear message', () => {
    const datadir = tempDir()
    dirs.push(datadir)
    const other = join(datadir, 'other.json')
    const json = JSON.parse(readFileSync(DEV_GENESIS_FILE, 'utf8'))
    writeFileSync(other, JSON.stringify({ ...json, gasLimit: '0x1c9c380' }))
    const init = spawnSync(process.execPath, [CLI, 'init', '--genesis', other, '--datadir', join(datadir, 'chain')], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(init.status).toBe(0)
    expect(init.stdout).toMatch(/initialised .* with genesis [0-9a-f]{64}/)
    const run = spawnSync(process.execPath, [CLI, 'run', '--datadir', join(datadir, 'chain'), '--rpc-port', '0'], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(run.status).toBe(1)
    expect(run.stderr).toMatch(
      /polis: the data directory holds a chain with genesis 0x[0-9a-f]{64}, but the genesis file gives/,
    )
    const missing = spawnSync(process.execPath, [CLI, 'run', '--genesis', join(datadir, 'nope.json')], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(missing.status).toBe(1)
    expect(missing.stderr).toMatch(/cannot read genesis file .*nope.json: ENOENT/)
  })
})
