/**
 * Throughput benchmark of a single-validator dev node: plain ETH transfers and ERC-20 transfers from many senders.
 *
 *   npm run bench -- [--validators N] [--transfers N] [--erc20 N] [--senders K] [--rate TX_PER_S] [--warm-up N]
 *                    [--time-limit S]
 *   npm run bench -- --rpc URL --key PRIVATE_KEY [--rpc-only] [--chain-id N] [--gas-price WEI|Ngwei] [options above]
 *   npm run bench -- --import [--blocks N] [--transfers N] [--senders K]
 *   npm run bench -- --reads [--blocks N] [--concurrency N] [--seconds S] [--compare CLI_PATH]
 *
 * Starts `node dist/cli/main.js run` on a temp datadir and a free 127.0.0.1 port with a genesis that prefunds K fresh
 * senders, deploys test/fixtures/contracts/Token.sol and hands each sender tokens (not timed), pre-signs the workload,
 * then submits it in JSON-RPC batches while polling blocks, and prints the figures. Exits 0 on a completed run.
 *
 * With --validators N > 1 it starts a generated N-validator network of separate processes instead, and the defaults
 * measure a city network under steady load: 9,000 transfers offered at 300 tx/s after a warm-up of 3,000 transactions
 * (sent and mined the same way first, so that compiled code and caches are warm; not in the figures).
 *
 * With --rpc URL --key K it runs the same load against another node as well, so that Polis and a peer (Hardhat,
 * geth, another Polis build…) are compared in one sitting: first against a fresh Polis node as above, which is then
 * stopped, then against URL (scripts/bench-lib/peer.ts). There the key's account funds as many fresh senders (plain
 * transfers, mined before anything is timed), deploys the token and distributes it, and the same pre-signed workload
 * goes out with the same batches, in-flight limit, polling and time limit. Fees come from the node: EIP-1559 with a
 * 1 gwei tip and a fee cap of 100 gwei (as in the Polis run) or 2 × base fee + tip if more, a legacy gas price of
 * 2 × eth_gasPrice on a chain without a base fee, or --gas-price. It prints both reports and a table of each figure
 * side by side with the ratio Polis/peer; peak RSS only for the node it started. --rpc-only skips the Polis run.
 * Before anything is sent it checks that URL answers, that the chain is not a public network (and is --chain-id, if
 * given) and that the key holds what the run will spend; otherwise it says why and exits 1.
 *
 * With --import it measures block import instead: a chain of 2,000 blocks holding 100,000 transfers is built
 * in-process, then `polis export`, `polis import` into an empty data directory, and an empty follower catching up
 * from a node over libp2p are timed (scripts/bench-lib/import.ts).
 *
 * With --reads it measures read RPC methods instead: a chain of 10,000 blocks (a transfer in each, ERC-20 transfers
 * every tenth) is built in-process, a node is started on it, and each method of the workload table in
 * scripts/bench-lib/rpc-bench.ts is called for S seconds (default 10) with N requests in flight (default 8):
 * requests/s, p50 and p99 latency. --compare serves the same chain from another build (e.g. an older checkout's
 * dist/cli/main.js) afterwards and measures it the same way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { formatEther } from 'viem'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { generateNetwork } from '../src/cli/genesis.js'
import { createCrypto } from '../src/crypto/index.js'
import { DEV_ACCOUNTS, DEV_VALIDATOR } from '../src/genesis/devKeys.js'
import { runImportBench } from './bench-lib/import.js'
import { type LoadOptions, runLoad, summariseReceipts } from './bench-lib/load.js'
import { benchPaths, freePort, freePortRange, LOOPBACK, NodeProcess, writeBenchGenesis } from './bench-lib/node.js'
import {
  BenchSetUpError,
  connectPeer,
  describeFees,
  type Peer,
  type PeerOptions,
  parseGasPrice,
  parsePrivateKey,
  requireBalance,
} from './bench-lib/peer.js'
import { computeFigures, type Figures, renderComparison, renderReport } from './bench-lib/report.js'
import { RpcClient } from './bench-lib/rpc.js'
import { runRpcBench } from './bench-lib/rpc-bench.js'
import {
  DEFAULT_FEES,
  type Fees,
  fundingCost,
  fundSenders,
  senderBudget,
  setUpToken,
  signWorkload,
  type Token,
  tokenSetUpCost,
} from './bench-lib/workload.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const CLI_PATH = join(ROOT, 'dist/cli/main.js')
const DEV_GENESIS_FILE = join(ROOT, 'genesis/dev.json')
const SENDER_BALANCE = 1000n * 10n ** 18n
const NODE_READY_TIMEOUT_MS = 30_000
const NODE_STOP_TIMEOUT_MS = 15_000
const WARM_UP_BLOCKS = 3
// The watcher polls the head every 25 ms: latency is measured to when a polling client first sees the block.
const SETUP_LOAD: LoadOptions = { batchSize: 100, maxInFlight: 8, timeLimitMs: 60_000, pollIntervalMs: 25 }

interface BenchArgs {
  import: boolean
  reads: boolean
  concurrency: number
  seconds: number
  compare: string | undefined
  blocks: number
  validators: number
  rate: number | undefined
  warmUp: number
  transfers: number
  erc20: number
  senders: number
  timeLimitSeconds: number
  /** --rpc URL --key K: the peer that the same load is then run against. */
  peer: PeerOptions | undefined
  rpcOnly: boolean
}

function parseCount(name: string, value: string, min: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > 1_000_000) throw new Error(`--${name} must be an integer ${min}..1000000`)
  return n
}

function parsePeer(values: {
  rpc?: string
  key?: string
  'rpc-only'?: boolean
  'chain-id'?: string
  'gas-price'?: string
}): PeerOptions | undefined {
  if (values.rpc === undefined) {
    for (const flag of ['key', 'rpc-only', 'chain-id', 'gas-price'] as const) {
      if (values[flag] !== undefined && values[flag] !== false) throw new Error(`--${flag} goes with --rpc URL`)
    }
    return undefined
  }
  let url: URL
  try {
    url = new URL(values.rpc)
  } catch {
    throw new Error(`--rpc must be a JSON-RPC URL such as http://127.0.0.1:8545, not ${values.rpc}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('--rpc must be an http:// or https:// URL')
  if (values.key === undefined) throw new Error('--rpc URL needs --key K: a funded private key on that chain')
  return {
    url: values.rpc,
    privateKey: parsePrivateKey(values.key),
    ...(values['chain-id'] !== undefined ? { expectedChainId: parseCount('chain-id', values['chain-id'], 1) } : {}),
    ...(values['gas-price'] !== undefined ? { gasPrice: parseGasPrice(values['gas-price']) } : {}),
  }
}

function parseBenchArgs(argv: string[]): BenchArgs {
  const options = {
    import: { type: 'boolean', default: false },
    reads: { type: 'boolean', default: false },
    rpc: { type: 'string' },
    key: { type: 'string' },
    'rpc-only': { type: 'boolean', default: false },
    'chain-id': { type: 'string' },
    'gas-price': { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '10' },
    compare: { type: 'string' },
    blocks: { type: 'string' },
    validators: { type: 'string', default: '1' },
    rate: { type: 'string' },
    'warm-up': { type: 'string' },
    transfers: { type: 'string' },
    erc20: { type: 'string' },
    senders: { type: 'string', default: '500' },
    'time-limit': { type: 'string', default: '120' },
  } as const
  const { values } = (() => {
    try {
      return parseArgs({ args: argv, options, strict: true })
    } catch (e) {
      const message = (e as Error).message
      // --rpc used to select the read benchmark.
      throw new Error(message.includes('--rpc') ? `${message} (the read-RPC benchmark is now --reads)` : message)
    }
  })()
  const validators = parseCount('validators', values.validators, 1)
  // A network is measured under a steady offered load; a single node by how fast it takes a burst.
  const network = validators > 1
  const peer = parsePeer(values)
  const modes = [values.import && '--import', values.reads && '--reads', peer && '--rpc'].filter(Boolean)
  if (modes.length > 1) throw new Error(`choose one of ${modes.join(' and ')}`)
  const args = {
    import: values.import,
    reads: values.reads,
    concurrency: parseCount('concurrency', values.concurrency, 1),
    seconds: parseCount('seconds', values.seconds, 1),
    compare: values.compare,
    blocks: parseCount('blocks', values.blocks ?? (values.reads ? '10000' : '2000'), 1),
    validators,
    rate: values.rate !== undefined ? parseCount('rate', values.rate, 1) : network ? 300 : undefined,
    warmUp: parseCount('warm-up', values['warm-up'] ?? (network ? '3000' : '0'), 0),
    transfers: parseCount('transfers', values.transfers ?? (values.import ? '100000' : network ? '9000' : '3000'), 0),
    erc20: parseCount('erc20', values.erc20 ?? (network || values.import ? '0' : '3000'), 0),
    senders: parseCount('senders', values.senders, 1),
    timeLimitSeconds: parseCount('time-limit', values['time-limit'], 1),
    peer,
    rpcOnly: values['rpc-only'],
  }
  if (args.transfers + args.erc20 === 0) throw new Error('nothing to do: --transfers and --erc20 are both 0')
  return args
}

const benchStartedAt = performance.now()
const progress = (message: string): void => {
  const elapsed = ((performance.now() - benchStartedAt) / 1000).toFixed(1).padStart(6)
  process.stderr.write(`[bench ${elapsed} s] ${message}\n`)
}

/** Starts one dev validator, or a generated N-validator network; returns the RPC of the (first) node. */
async function startNodes(
  args: BenchArgs,
  tempDir: string,
  senderAddresses: string[],
  onNode: (node: NodeProcess) => void,
): Promise<{ rpc: RpcClient; node: NodeProcess; nodes: NodeProcess[]; chainId: number }> {
  if (args.validators === 1) {
    const paths = benchPaths(tempDir)
    const chainId = writeBenchGenesis(DEV_GENESIS_FILE, paths.genesisFile, senderAddresses, SENDER_BALANCE)
    writeFileSync(paths.validatorKeyFile, `${DEV_VALIDATOR.privateKey}\n`, { mode: 0o600 })
    const port = await freePort()
    const rpc = new RpcClient(`http://${LOOPBACK}:${port}`)
    progress(`starting node on ${rpc.url} (datadir ${paths.datadir})`)
    const node = NodeProcess.start({ cliPath: CLI_PATH, rpcPort: port, ...paths })
    onNode(node)
    await node.waitReady(rpc, NODE_READY_TIMEOUT_MS)
    return { rpc, node, nodes: [node], chainId }
  }
  const out = join(tempDir, 'network')
  const generated = await generateNetwork(
    {
      validators: args.validators,
      out,
      chainId: 1337,
      host: LOOPBACK,
      rpcPort: await freePortRange(args.validators, 10),
      rpcPortStep: 10,
      p2pPort: await freePortRange(args.validators, 1),
      blockPeriodSeconds: 1,
      devAccount: true,
    },
    createCrypto(),
  )
  const genesisFile = join(out, 'genesis.json')
  const chainId = writeBenchGenesis(genesisFile, genesisFile, senderAddresses, SENDER_BALANCE)
  progress(`starting ${args.validators} validators (${generated.map((g) => g.rpcUrl).join(', ')})`)
  const nodes = generated.map((g) => NodeProcess.start({ cliPath: CLI_PATH, configFile: g.configFile }))
  nodes.forEach(onNode)
  const rpcs = generated.map((g) => new RpcClient(g.rpcUrl))
  await Promise.all(nodes.map((n, i) => n.waitReady(rpcs[i], NODE_READY_TIMEOUT_MS)))
  // Let the validators connect and finalize a few blocks first: the timed phase measures a running network.
  const warmUntil = performance.now() + NODE_READY_TIMEOUT_MS
  while (Number(await rpcs[0].call<string>('eth_blockNumber')) < WARM_UP_BLOCKS) {
    if (performance.now() > warmUntil) throw new Error(`the network did not reach block ${WARM_UP_BLOCKS}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  return { rpc: rpcs[0], node: nodes[0], nodes, chainId }
}

/** Where the timed load goes: the RPC of a node we started (or of a network's first node), or a peer's URL. */
interface Target {
  rpc: RpcClient
  /** The processes serving it when they are ours; none for a foreign URL. */
  nodes: NodeProcess[]
  chainId: number
  fees: Fees
}

const freshSenders = (count: number) => Array.from({ length: count }, () => privateKeyToAccount(generatePrivateKey()))

/** The load against a Polis node (or network) started here, with the senders prefunded in its genesis. */
async function benchPolis(args: BenchArgs, tempDir: string, onNode: (node: NodeProcess) => void): Promise<Figures> {
  const startedAt = performance.now()
  const senders = freshSenders(args.senders)
  const { rpc, node, nodes, chainId } = await startNodes(
    args,
    tempDir,
    senders.map((s) => s.address),
    onNode,
  )
  const rpcChainId = Number(await rpc.call<string>('eth_chainId'))
  if (rpcChainId !== chainId) throw new Error(`node reports chain id ${rpcChainId}, genesis says ${chainId}`)

  let token: Token | undefined
  if (args.erc20 > 0) {
    progress(`deploying the ERC-20 and distributing tokens to ${args.senders} senders (not timed)`)
    const deployer = privateKeyToAccount(DEV_ACCOUNTS[0].privateKey)
    token = await setUpToken(rpc, node, chainId, DEFAULT_FEES, deployer, senders, SETUP_LOAD)
  }
  return timedRun(args, { rpc, nodes, chainId, fees: DEFAULT_FEES }, senders, token, startedAt)
}

/** Wei each peer sender receives, and what the whole run costs the funder at most. */
function peerBudget(args: BenchArgs, fees: Fees): { perSender: bigint; total: bigint; what: string } {
  const perSender = senderBudget(args.senders, args.warmUp + args.transfers, args.erc20, fees)
  const funding = fundingCost(args.senders, perSender, fees)
  const token = args.erc20 > 0 ? tokenSetUpCost(args.senders, fees) : 0n
  const what =
    `${args.senders} senders × ${formatEther(perSender)} ETH for gas at the fee cap and values` +
    (args.erc20 > 0 ? `, plus ${formatEther(token)} ETH to deploy and distribute the token` : '')
  return { perSender, total: funding + token, what }
}

/** The same load against a peer's URL: its senders are funded from the peer's key first (not timed). */
async function benchPeer(args: BenchArgs, peer: Peer): Promise<Figures> {
  const startedAt = performance.now()
  const senders = freshSenders(args.senders)
  const budget = peerBudget(args, peer.fees)
  await requireBalance(peer, budget.total, budget.what)
  progress(`funding ${args.senders} senders with ${formatEther(budget.perSender)} ETH each (not timed)`)
  await fundSenders(peer.rpc, undefined, peer.chainId, peer.fees, peer.funder, senders, budget.perSender, SETUP_LOAD)
  let token: Token | undefined
  if (args.erc20 > 0) {
    progress(`deploying the ERC-20 from ${peer.funder.address} and distributing tokens (not timed)`)
    token = await setUpToken(peer.rpc, undefined, peer.chainId, peer.fees, peer.funder, senders, SETUP_LOAD)
  }
  return timedRun(args, { rpc: peer.rpc, nodes: [], chainId: peer.chainId, fees: peer.fees }, senders, token, startedAt)
}

/** Signs the workload, sends the warm-up and then the timed load, reads the receipts and computes the figures. */
async function timedRun(
  args: BenchArgs,
  target: Target,
  senders: PrivateKeyAccount[],
  token: Token | undefined,
  startedAt: number,
): Promise<Figures> {
  const { rpc, nodes, chainId, fees } = target
  const node = nodes[0]
  progress(`signing ${args.warmUp} + ${args.transfers} transfers and ${args.erc20} ERC-20 transfers`)
  const signed = await signWorkload(chainId, fees, senders, args.warmUp + args.transfers, args.erc20, token)
  // The workload goes round the senders, so the first transactions hold every sender's lowest nonces.
  const warmUp = signed.slice(0, args.warmUp)
  const txs = signed.slice(args.warmUp)

  const load: LoadOptions = {
    ...SETUP_LOAD,
    timeLimitMs: args.timeLimitSeconds * 1000,
    // Paced submission in batches of ~1/10 s so that latency reflects the offered load, not a backlog.
    ...(args.rate ? { ratePerSecond: args.rate, batchSize: Math.max(1, Math.round(args.rate / 10)) } : {}),
  }
  if (warmUp.length > 0) {
    progress(`warming up with ${warmUp.length} transactions at the same rate (not timed)`)
    const warm = await runLoad(rpc, node, warmUp, load)
    if (warm.inclusions.some((x) => x === undefined)) throw new Error('warm-up transactions were not all mined')
  }
  progress(`submitting ${txs.length} transactions to ${rpc.url} (time limit ${args.timeLimitSeconds} s)`)
  const result = await runLoad(rpc, node, txs, load)
  progress('reading receipts (not timed)')
  const receipts = await summariseReceipts(rpc, txs, result)
  // The largest peak of any node (with several validators they share the 2 cores); none for a foreign URL.
  const peaks = await Promise.all(nodes.map((n) => n.peakRssMiB()))
  const peakRssMiB =
    peaks.length === 0 || peaks.some((p) => p === undefined) ? undefined : Math.max(...(peaks as number[]))
  const kinds = [args.transfers > 0 ? 'transfer' : '', args.erc20 > 0 ? 'erc20' : ''].filter((k) => k !== '')
  return computeFigures({
    txs,
    kinds,
    senders: args.senders,
    result,
    receipts,
    peakRssMiB,
    totalWallMs: performance.now() - startedAt,
    warmUpTxs: warmUp.length,
    ratePerSecond: args.rate,
  })
}

/**
 * --rpc URL: the load against a fresh Polis node (unless --rpc-only), which is then stopped, and the same load against
 * the peer; both reports and the comparison.
 */
async function benchAgainstPeer(
  args: BenchArgs,
  peerOptions: PeerOptions,
  tempDir: string,
  started: NodeProcess[],
): Promise<string> {
  // Every check on the peer comes first, so that a bad URL or key fails before minutes of the Polis run.
  const peer = await connectPeer(peerOptions)
  const peerName = `${peer.url}${peer.clientVersion ? ` (${peer.clientVersion})` : ''}`
  progress(`peer ${peerName}: chain id ${peer.chainId}, ${describeFees(peer.fees)}`)
  const budget = peerBudget(args, peer.fees)
  await requireBalance(peer, budget.total, budget.what)
  const sections: string[] = []
  let polis: Figures | undefined
  if (!args.rpcOnly) {
    polis = await benchPolis(args, tempDir, (n) => {
      started.push(n)
    })
    sections.push(`== Polis (this build, started by the bench)\n\n${renderReport(polis)}`)
    // The peer gets the machine to itself (and a failure from here on is not the Polis node's).
    for (const [i, n] of started.entries()) progress(`node ${i} ${await n.stop(NODE_STOP_TIMEOUT_MS)}`)
    started.length = 0
  }
  const peerFigures = await benchPeer(args, peer)
  sections.push(`== peer ${peerName}, chain id ${peer.chainId}\n\n${renderReport(peerFigures)}`)
  if (polis !== undefined) {
    sections.push(
      `== Polis vs peer (ratio Polis/peer: above 1 is better for Polis in tx/s, worse in latency)\n\n` +
        renderComparison(polis, peerFigures, 'peer'),
    )
  }
  return sections.join('\n\n')
}

async function main(): Promise<number> {
  let args: BenchArgs
  try {
    args = parseBenchArgs(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`)
    return 2
  }
  const tempDir = mkdtempSync(join(tmpdir(), 'polis-bench-'))
  const started: NodeProcess[] = []
  const cleanUpNow = () => {
    for (const n of started) n.killNow()
    rmSync(tempDir, { recursive: true, force: true })
  }
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`[bench] ${signal}: killing the node and removing ${tempDir}\n`)
    cleanUpNow()
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let exitCode = 0
  try {
    const report = args.reads
      ? await runRpcBench({
          cliPath: CLI_PATH,
          ...(args.compare ? { compareCliPath: args.compare } : {}),
          devGenesisFile: DEV_GENESIS_FILE,
          tempDir,
          blocks: args.blocks,
          senders: args.senders,
          concurrency: args.concurrency,
          secondsPerWorkload: args.seconds,
          progress,
          onNode: (n) => {
            started.push(n)
          },
        })
      : args.import
        ? await runImportBench({
            cliPath: CLI_PATH,
            devGenesisFile: DEV_GENESIS_FILE,
            tempDir,
            blocks: args.blocks,
            transfers: args.transfers,
            senders: args.senders,
            progress,
          })
        : args.peer
          ? await benchAgainstPeer(args, args.peer, tempDir, started)
          : renderReport(
              await benchPolis(args, tempDir, (n) => {
                started.push(n)
              }),
            )
    process.stdout.write(`\n${report}\n`)
  } catch (e) {
    if (e instanceof BenchSetUpError) {
      process.stderr.write(`bench: ${e.message}\n`)
    } else {
      process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`)
      const tail = started[0]?.outputTail()
      if (tail) process.stderr.write(`--- last node output ---\n${tail}\n---\n`)
    }
    exitCode = 1
  } finally {
    for (const [i, n] of started.entries()) progress(`node ${i} ${await n.stop(NODE_STOP_TIMEOUT_MS)}`)
    rmSync(tempDir, { recursive: true, force: true })
  }
  return exitCode
}

process.exitCode = await main()
