import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type Hex, keccak256, parseGwei } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterEach, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS } from '../../src/genesis/index.js'
import type { PolisNode } from '../../src/node.js'
import { decodeJournal } from '../../src/txpool/index.js'
import { type ChildNode, removeDir, rpc, startChildNode, startNode, tempDir, waitFor } from '../helpers/node.js'

const CHAIN_ID = 1337
const alice = privateKeyToAccount(DEV_ACCOUNTS[1].privateKey)
const bob = privateKeyToAccount(DEV_ACCOUNTS[2].privateKey)
const carol = privateKeyToAccount(DEV_ACCOUNTS[5].privateKey)
const dave = privateKeyToAccount(DEV_ACCOUNTS[8].privateKey)
const payee = DEV_ACCOUNTS[9].address
const TXPOOL_APIS = ['eth', 'net', 'web3', 'txpool']

type Account = ReturnType<typeof privateKeyToAccount>

function sign(account: Account, nonce: number, tip = parseGwei('1'), maxFeePerGas = parseGwei('10')): Promise<Hex> {
  return account.signTransaction({
    type: 'eip1559',
    chainId: CHAIN_ID,
    nonce,
    to: payee,
    value: 1n,
    gas: 21_000n,
    maxFeePerGas,
    maxPriorityFeePerGas: tip,
  })
}

async function call<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await rpc(url, method, params)
  if (res.error) throw new Error(`${method}: ${res.error.message}`)
  return res.result as T
}

async function send(url: string, raw: Hex): Promise<Hex> {
  const hash = await call<Hex>(url, 'eth_sendRawTransaction', [raw])
  expect(hash).toBe(keccak256(raw))
  return hash
}

interface PoolContent {
  pending: Record<string, Record<string, { hash: Hex }>>
  queued: Record<string, Record<string, { hash: Hex }>>
}

/** Hashes by nonce of one sender's queued (or pending) txs in txpool_content. */
async function pooled(url: string, part: 'pending' | 'queued', account: Account): Promise<Record<string, Hex>> {
  const content = await call<PoolContent>(url, 'txpool_content')
  const txs = content[part][account.address] ?? {}
  return Object.fromEntries(Object.entries(txs).map(([nonce, tx]) => [nonce, tx.hash]))
}

async function receipt(url: string, hash: Hex): Promise<{ blockNumber: Hex; transactionIndex: Hex; status: Hex }> {
  return waitFor(`receipt of ${hash}`, async () => {
    const found = await call<{ blockNumber: Hex; transactionIndex: Hex; status: Hex } | null>(
      url,
      'eth_getTransactionReceipt',
      [hash],
    )
    return found ?? undefined
  })
}

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')

const journalRecords = (datadir: string, file = 'txpool.rlp') =>
  decodeJournal(readFileSync(join(datadir, file))).raws.length

describe('txpool journal across restarts', () => {
  const dirs: string[] = []
  const children: ChildNode[] = []
  const nodes: PolisNode[] = []

  afterEach(async () => {
    for (const child of children.splice(0)) await child.stop('SIGKILL')
    for (const node of nodes.splice(0)) await node.stop()
    for (const dir of dirs.splice(0)) removeDir(dir)
  })

  const datadir = () => {
    const dir = tempDir('polis-journal-')
    dirs.push(dir)
    return dir
  }

  async function child(dir: string, args: string[] = []) {
    const node = await startChildNode(dir, ['--rpc-api', TXPOOL_APIS.join(','), '--log-level', 'info', ...args])
    children.push(node)
    return node
  }

  async function inProcess(dir: string, opts: Parameters<typeof startNode>[0] = {}) {
    const node = await startNode({ datadir: dir, rpc: { apis: TXPOOL_APIS }, ...opts })
    nodes.push(node)
    return node
  }

  async function stopInProcess(node: PolisNode) {
    nodes.splice(nodes.indexOf(node), 1)
    await node.stop()
  }

  it('keeps queued transactions over a SIGTERM restart of `polis run`, then mines them once the gap is filled', async () => {
    const dir = datadir()
    let node = await child(dir)
    const queued = [await sign(alice, 1), await sign(alice, 2), await sign(alice, 3)]
    for (const raw of queued) await send(node.url, raw)
    // A replacement of nonce 2 (+10 % on both caps): only it must come back.
    const replacement = await sign(alice, 2, parseGwei('1.1'), parseGwei('11'))
    await send(node.url, replacement)
    const want = { '1': keccak256(queued[0]), '2': keccak256(replacement), '3': keccak256(queued[2]) }
    expect(await pooled(node.url, 'queued', alice)).toEqual(want)

    expect(await node.stop('SIGTERM')).toBe(0)
    children.splice(children.indexOf(node), 1)
    // Rewritten at shutdown from the pool: the replaced tx is gone.
    expect(journalRecords(dir)).toBe(3)

    node = await child(dir)
    expect(await pooled(node.url, 'queued', alice)).toEqual(want)
    expect(node.output()).toMatch(/"msg":"txpool journal loaded"/)
    expect(node.output()).toMatch(/"loaded":3,"dropped":0/)
    const restored = await call<{ hash: Hex; blockHash: Hex | null; nonce: Hex }>(
      node.url,
      'eth_getTransactionByHash',
      [keccak256(replacement)],
    )
    expect(restored).toMatchObject({ hash: keccak256(replacement), blockHash: null, nonce: '0x2' })
    expect(await call(node.url, 'eth_getTransactionByHash', [keccak256(queued[1])])).toBeNull()

    const filler = await send(node.url, await sign(alice, 0))
    for (const hash of [filler, ...Object.values(want)]) {
      expect((await receipt(node.url, hash)).status).toBe('0x1')
    }
    expect(await call(node.url, 'txpool_status')).toEqual({ pending: '0x0', queued: '0x0' })
  })

  it('keeps what was appended when the process is killed without a clean shutdown', async () => {
    const dir = datadir()
    // A relative --txpool-journal is relative to the data directory.
    const args = ['--txpool-journal', 'pool/journal.rlp']
    let node = await child(dir, args)
    const raws = [await sign(bob, 2), await sign(bob, 3)]
    for (const raw of raws) await send(node.url, raw)
    // Appends are flushed within a few tens of milliseconds.
    const appended = async () => (journalRecords(dir, 'pool/journal.rlp') === 2 ? true : undefined)
    await waitFor('the appended records', appended, 5_000)
    await node.stop('SIGKILL')
    children.splice(children.indexOf(node), 1)
    expect(existsSync(join(dir, 'txpool.rlp'))).toBe(false)

    node = await child(dir, args)
    expect(await pooled(node.url, 'queued', bob)).toEqual({ '2': keccak256(raws[0]), '3': keccak256(raws[1]) })
  })

  it('keeps pending transactions that were not mined before the stop, and mines them after the restart', async () => {
    const dir = datadir()
    let node = await inProcess(dir)
    await node.engine?.stop()
    const hashes = [
      await send(node.rpc.url, await sign(carol, 0)),
      await send(node.rpc.url, await sign(carol, 1)),
      await send(node.rpc.url, await sign(dave, 0)),
    ]
    expect(await call(node.rpc.url, 'txpool_status')).toEqual({ pending: '0x3', queued: '0x0' })
    await stopInProcess(node)

    node = await inProcess(dir)
    for (const hash of hashes) expect((await receipt(node.rpc.url, hash)).status).toBe('0x1')
  })

  it('refuses bad txpool flags at start-up, naming the flag, the value and what is allowed', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'run', '--datadir', datadir(), '--rpc-port', '0', ...args], {
        encoding: 'utf8',
        timeout: 30_000,
      })
    const order = run('--txpool-order', 'fastest')
    expect(order.status).toBe(1)
    expect(order.stderr).toMatch(
      /'--txpool-order <order>' argument 'fastest' is invalid\. Allowed choices are price, fifo/,
    )
    const rejournal = run('--txpool-rejournal-seconds', '0')
    expect(rejournal.status).toBe(1)
    expect(rejournal.stderr).toMatch(/'--txpool-rejournal-seconds <n>' argument '0' is invalid\. must be a positive/)
  })

  it('writes and reads no journal when it is turned off', async () => {
    const dir = datadir()
    let node = await inProcess(dir, { txpoolJournal: { path: '' } })
    await node.engine?.stop()
    const hash = await send(node.rpc.url, await sign(dave, 5))
    await stopInProcess(node)
    expect(existsSync(join(dir, 'txpool.rlp'))).toBe(false)

    node = await inProcess(dir)
    expect(await call(node.rpc.url, 'eth_getTransactionByHash', [hash])).toBeNull()
    expect(await call(node.rpc.url, 'txpool_status')).toEqual({ pending: '0x0', queued: '0x0' })
  })
})

describe('txpool fifo order on a node', () => {
  let dir: string
  let node: PolisNode | undefined

  afterEach(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('mines a block whose transactions follow their arrival order, not their tips', async () => {
    dir = tempDir('polis-fifo-')
    node = await startNode({ datadir: dir, rpc: { apis: TXPOOL_APIS }, txpool: { order: 'fifo' } })
    const url = node.rpc.url
    await node.engine?.stop()
    // Later arrivals pay more; Bob's nonce 1 arrives before his nonce 0.
    const arrivals = [
      await sign(alice, 0, parseGwei('1')),
      await sign(bob, 1, parseGwei('2')),
      await sign(carol, 0, parseGwei('3')),
      await sign(bob, 0, parseGwei('4')),
      await sign(dave, 0, parseGwei('5')),
      await sign(alice, 1, parseGwei('6')),
    ]
    for (const raw of arrivals) await send(url, raw)
    expect(await call(url, 'txpool_status')).toEqual({ pending: '0x6', queued: '0x0' })
    await node.engine?.start()
    const receipts = await Promise.all(arrivals.map((raw) => receipt(url, keccak256(raw))))
    expect(new Set(receipts.map((r) => r.blockNumber)).size).toBe(1)
    const block = await call<{ transactions: Hex[] }>(url, 'eth_getBlockByNumber', [receipts[0].blockNumber, false])
    // Bob's nonce 1 goes right after his nonce 0, at nonce 0's place in the line.
    const expected = [0, 2, 3, 1, 4, 5].map((i) => keccak256(arrivals[i]))
    expect(block.transactions).toEqual(expected)
  })
})
