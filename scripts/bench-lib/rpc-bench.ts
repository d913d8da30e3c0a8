/**
 * RPC read benchmark (`npm run bench -- --reads`): builds a dev chain in-process (not timed) whose every block holds a transfer and every tenth block
 * ERC-20 transfers (Transfer logs), starts `polis run` on it, then sends each workload of WORKLOADS for a fixed time with
 * a bounded number of requests in flight and prints requests/s and p50/p99 latency per workload.
 *
 * To measure another method, add a row to `workloads()`: a name, and a function from the request number to the call.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { encodeFunctionData, toEventSelector } from 'viem'
import { createCrypto } from '../../src/crypto/index.js'
import { DEV_ACCOUNTS, DEV_VALIDATOR } from '../../src/genesis/index.js'
import { buildDevChain, senderKeys } from '../../test/helpers/chain.js'
import { compileContract } from '../../test/helpers/solc.js'
import { freePort, LOOPBACK, NodeProcess, writeBenchGenesis } from './node.js'
import { formatTable, percentile } from './report.js'
import { type RpcCall, RpcClient, toQuantity } from './rpc.js'

export interface RpcBenchOptions {
  cliPath: string
  /** Another build's CLI: the same chain is then also served by it, for comparison (one node at a time). */
  compareCliPath?: string
  devGenesisFile: string
  tempDir: string
  blocks: number
  senders: number
  /** Requests in flight at any time. */
  concurrency: number
  /** Timed seconds per workload (after a warm-up of a fifth of that, at least one second). */
  secondsPerWorkload: number
  progress: (message: string) => void
  onNode: (node: NodeProcess) => void
}

/** What the workloads may refer to: the chain that was built. */
export interface BenchChain {
  head: bigint
  token: string
  holder: string
  senders: string[]
  /** Numbers of the blocks that hold transactions. */
  blocksWithTxs: bigint[]
  /** Hashes of ERC-20 transfer transactions (read from the node before the traces are measured). */
  tokenTransfers: string[]
}

export interface RpcWorkload {
  name: string
  /** The `i`-th request of the run. */
  call(i: number): RpcCall
  /** Throws when an answer is not what the workload is meant to measure (checked on the first answer). */
  check?(result: unknown): void
}

const ERC20_EVERY_BLOCKS = 10
const ERC20_TRANSFERS_PER_BLOCK = 2
const TRANSFER = toEventSelector('Transfer(address,address,uint256)')
const SENDER_BALANCE = 1000n * 10n ** 18n
const NODE_READY_TIMEOUT_MS = 120_000

/** The per-method workloads; add a row to measure another method. */
export function workloads(chain: BenchChain): RpcWorkload[] {
  const token = compileContract('Token.sol', 'Token')
  const expectedLogs = Math.floor(Number(chain.head) / ERC20_EVERY_BLOCKS) * ERC20_TRANSFERS_PER_BLOCK
  return [
    {
      name: `eth_getLogs (token Transfer, blocks 0..${chain.head})`,
      call: () => ({
        method: 'eth_getLogs',
        params: [{ fromBlock: '0x0', toBlock: toQuantity(chain.head), address: chain.token, topics: [TRANSFER] }],
      }),
      check: (result) => {
        // The deployment's mint is one more Transfer.
        const n = (result as unknown[]).length
        if (n < expectedLogs) throw new Error(`eth_getLogs found ${n} logs, expected at least ${expectedLogs}`)
      },
    },
    {
      name: 'eth_call (ERC-20 balanceOf)',
      call: (i) => ({
        method: 'eth_call',
        params: [
          {
            to: chain.token,
            data: encodeFunctionData({
              abi: token.abi,
              functionName: 'balanceOf',
              args: [chain.senders[i % chain.senders.length] as `0x${string}`],
            }),
          },
          'latest',
        ],
      }),
      check: (result) => {
        if (typeof result !== 'string' || result.length !== 66) throw new Error(`balanceOf answered ${result}`)
      },
    },
    ...(['struct logger', 'callTracer'] as const).map((tracer) => ({
      name: `debug_traceTransaction (ERC-20 transfer, ${tracer})`,
      call: (i: number): RpcCall => ({
        method: 'debug_traceTransaction',
        params: [
          chain.tokenTransfers[(i * 7919) % chain.tokenTransfers.length],
          ...(tracer === 'callTracer' ? [{ tracer }] : []),
        ],
      }),
      check: (result: unknown) => {
        const out = result as { structLogs?: unknown[]; calls?: unknown; type?: string }
        if (tracer === 'callTracer' ? out.type !== 'CALL' : (out.structLogs?.length ?? 0) < 50) {
          throw new Error(`unexpected ${tracer} trace: ${JSON.stringify(result).slice(0, 200)}`)
        }
      },
    })),
    {
      name: 'eth_getBlockByNumber (full txs)',
      call: (i) => ({
        method: 'eth_getBlockByNumber',
        params: [toQuantity(chain.blocksWithTxs[(i * 7919) % chain.blocksWithTxs.length]), true],
      }),
      check: (result) => {
        const txs = (result as { transactions?: unknown[] } | null)?.transactions
        if (!txs || txs.length === 0 || typeof txs[0] !== 'object') throw new Error('block without full transactions')
      },
    },
  ]
}

/** Hashes of the token's transfer transactions in the first blocks that hold them (up to 200). */
async function tokenTransfers(rpc: RpcClient, chain: BenchChain): Promise<string[]> {
  const hashes: string[] = []
  const token = chain.token.toLowerCase()
  for (let n = 1n; n <= chain.head && hashes.length < 200; n++) {
    const block = (await rpc.call('eth_getBlockByNumber', [toQuantity(n), true])) as {
      transactions: { hash: string; to: string | null }[]
    }
    for (const tx of block.transactions) if (tx.to?.toLowerCase() === token) hashes.push(tx.hash)
  }
  if (hashes.length === 0) throw new Error('no ERC-20 transfers found to trace')
  return hashes
}

interface Measured {
  requests: number
  seconds: number
  latenciesMs: number[]
}

/** Runs `workload` with `concurrency` requests in flight until `ms` have passed; every answer must be a result. */
async function drive(rpc: RpcClient, workload: RpcWorkload, concurrency: number, ms: number): Promise<Measured> {
  const latenciesMs: number[] = []
  let next = 0
  const started = performance.now()
  const deadline = started + ms
  const worker = async () => {
    while (performance.now() < deadline) {
      const i = next++
      const { method, params } = workload.call(i)
      const sent = performance.now()
      const result = await rpc.call(method, params)
      latenciesMs.push(performance.now() - sent)
      if (i === 0) workload.check?.(result)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { requests: latenciesMs.length, seconds: (performance.now() - started) / 1000, latenciesMs }
}

export async function runRpcBench(opts: RpcBenchOptions): Promise<string> {
  const crypto = createCrypto()
  const keys = senderKeys(opts.senders)
  const senders = keys.map((k) => bytesToHex(crypto.privateKeyToAddress(k)))
  const genesisFile = join(opts.tempDir, 'genesis.json')
  writeBenchGenesis(opts.devGenesisFile, genesisFile, senders, SENDER_BALANCE)
  const datadir = join(opts.tempDir, 'data')
  opts.progress(`building ${opts.blocks} blocks with ERC-20 transfers every ${ERC20_EVERY_BLOCKS} blocks (not timed)`)
  const built = await buildDevChain(datadir, genesisFile, {
    blocks: opts.blocks,
    transfersPerBlock: 1,
    senderKeys: keys,
    erc20: {
      holderKey: Buffer.from(DEV_ACCOUNTS[0].privateKey.slice(2), 'hex'),
      everyBlocks: ERC20_EVERY_BLOCKS,
      transfersPerBlock: ERC20_TRANSFERS_PER_BLOCK,
    },
    onBlock: (n) => {
      if (n % 1000 === 0) opts.progress(`built ${n} of ${opts.blocks} blocks`)
    },
  })
  if (built.token === undefined) throw new Error('the chain has no token')
  const chain: BenchChain = {
    head: built.head,
    token: bytesToHex(built.token.address),
    holder: bytesToHex(built.token.holder),
    senders,
    blocksWithTxs: Array.from({ length: Number(built.head) }, (_, i) => BigInt(i + 1)),
    tokenTransfers: [],
  }

  const validatorKeyFile = join(opts.tempDir, 'validator.key')
  writeFileSync(validatorKeyFile, `${DEV_VALIDATOR.privateKey}\n`, { mode: 0o600 })
  const builds = [opts.cliPath, ...(opts.compareCliPath ? [opts.compareCliPath] : [])]
  const rows: string[][] = [
    ['method', ...(builds.length > 1 ? ['build'] : []), 'requests', 'req/s', 'p50 ms', 'p99 ms'],
  ]
  for (const [b, cliPath] of builds.entries()) {
    const rpcPort = await freePort()
    const rpc = new RpcClient(`http://${LOOPBACK}:${rpcPort}`, 120_000)
    opts.progress(`starting a node from ${cliPath} on ${rpc.url}`)
    const node = NodeProcess.start({
      cliPath,
      rpcPort,
      datadir,
      genesisFile,
      validatorKeyFile,
      rpcApis: ['eth', 'net', 'web3', 'debug'],
    })
    opts.onNode(node)
    try {
      await node.waitReady(rpc, NODE_READY_TIMEOUT_MS)
      if (chain.tokenTransfers.length === 0) chain.tokenTransfers = await tokenTransfers(rpc, chain)
      const timedMs = opts.secondsPerWorkload * 1000
      for (const workload of workloads(chain)) {
        opts.progress(`${workload.name}: warm-up, then ${opts.secondsPerWorkload} s with ${opts.concurrency} in flight`)
        await drive(rpc, workload, opts.concurrency, Math.max(1000, timedMs / 5))
        const measured = await drive(rpc, workload, opts.concurrency, timedMs)
        const sorted = [...measured.latenciesMs].sort((x, y) => x - y)
        rows.push([
          workload.name,
          ...(builds.length > 1 ? [b === 0 ? 'this' : 'compared'] : []),
          String(measured.requests),
          (measured.requests / measured.seconds).toFixed(1),
          percentile(sorted, 50).toFixed(1),
          percentile(sorted, 99).toFixed(1),
        ])
      }
    } finally {
      opts.progress(`node ${await node.stop(15_000)}`)
    }
  }
  const compared = opts.compareCliPath ? `; compared = ${opts.compareCliPath}` : ''
  return `${formatTable(rows)}\n(${chain.head} blocks, ${opts.concurrency} requests in flight, ${opts.secondsPerWorkload} s per method${compared})`
}
