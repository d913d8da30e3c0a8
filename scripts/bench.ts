/**
 * Throughput benchmark of a single-validator dev node: plain ETH transfers and ERC-20 transfers from many senders.
 *
 *   npm run bench -- [--validators N] [--transfers N] [--erc20 N] [--senders K] [--rate TX_PER_S] [--warm-up N]
 *                    [--time-limit S]
 *   npm run bench -- --import [--blocks N] [--transfers N] [--senders K]
 *   npm run bench -- --rpc [--blocks N] [--concurrency N] [--seconds S] [--compare CLI_PATH]
 *
 * Starts `node dist/cli/main.js run` on a temp datadir and a free 127.0.0.1 port with a genesis that prefunds K fresh
 * senders, deploys test/fixtures/contracts/Token.sol and hands each sender tokens (not timed), pre-signs the workload,
 * then submits it in JSON-RPC batches while polling blocks, and prints the figures. Exits 0 on a completed run.
 *
 * With --validators N > 1 it starts a generated N-validator network of separate processes instead, and the defaults
 * measure a city network under steady load: 9,000 transfers offered at 300 tx/s after a warm-up of 3,000 transactions
 * (sent and mined the same way first, so that compiled code and caches are warm; not in the figures).
 *
 * With --import it measures block import instead: a chain of 2,000 blocks holding 100,000 transfers is built
 * in-process, then `polis export`, `polis import` into an empty data directory, and an empty follower catching up
 * from a node over libp2p are timed (scripts/bench-lib/import.ts).
 *
 * With --rpc it measures read RPC methods instead: a chain of 10,000 blocks (a transfer in each, ERC-20 transfers every
 * tenth) is built in-process, a node is started on it, and each method of the workload table in
 * scripts/bench-lib/rpc-bench.ts is called for S seconds (default 10) with N requests in flight (default 8): requests/s,
 * p50 and p99 latency. --compare serves the same chain from another build (e.g. an older checkout's
 * dist/cli/main.js) afterwards and measures it the same way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { generateNetwork } from '../src/cli/genesis.js'
import { createCrypto } from '../src/crypto/index.js'
import { DEV_ACCOUNTS, DEV_VALIDATOR } from '../src/genesis/devKeys.js'
import { runImportBench } from './bench-lib/import.js'
import { type LoadOptions, runLoad, summariseReceipts } from './bench-lib/load.js'
import { benchPaths, freePort, freePortRange, LOOPBACK, NodeProcess, writeBenchGenesis } from './bench-lib/node.js'
import { renderReport } from './bench-lib/report.js'
import { RpcClient } from './bench-lib/rpc.js'
import { runRpcBench } from './bench-lib/rpc-bench.js'
import { setUpToken, signWorkload, type Token } from './bench-lib/workload.js'

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
  rpc: boolean
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
}

function parseCount(name: string, value: string, min: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > 1_000_000) throw new Error(`--${name} must be an integer ${min}..1000000`)
  return n
}

function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      import: { type: 'boolean', default: false },
      rpc: { type: 'boolean', default: false },
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
    },
    strict: true,
  })
  const validators = parseCount('validators', values.validators, 1)
  // A network is measured under a steady offered load; a single node by how fast it takes a burst.
  const network = validators > 1
  if (values.import && values.rpc) throw new Error('choose one of --import and --rpc')
  const args = {
    import: values.import,
    rpc: values.rpc,
    concurrency: parseCount('concurrency', values.concurrency, 1),
    seconds: parseCount('seconds', values.seconds, 1),
    compare: values.compare,
    blocks: parseCount('blocks', values.blocks ?? (values.rpc ? '10000' : '2000'), 1),
    validators,
    rate: values.rate !== undefined ? parseCount('rate', values.rate, 1) : network ? 300 : undefined,
    warmUp: parseCount('warm-up', values['warm-up'] ?? (network ? '3000' : '0'), 0),
    transfers: parseCount('transfers', values.transfers ?? (values.import ? '100000' : network ? '9000' : '3000'), 0),
    erc20: parseCount('erc20', values.erc20 ?? (network || values.import ? '0' : '3000'), 0),
    senders: parseCount('senders', values.senders, 1),
    timeLimitSeconds: parseCount('time-limit', values['time-limit'], 1),
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

async function bench(args: BenchArgs, tempDir: string, onNode: (node: NodeProcess) => void): Promise<string> {
  const startedAt = performance.now()
  const senders = Array.from({ length: args.senders }, () => privateKeyToAccount(generatePrivateKey()))
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
    token = await setUpToken(rpc, node, chainId, deployer, senders, SETUP_LOAD)
  }
  progress(`signing ${args.warmUp} + ${args.transfers} transfers and ${args.erc20} ERC-20 transfers`)
  const signed = await signWorkload(chainId, senders, args.warmUp + args.transfers, args.erc20, token)
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
  progress(`submitting ${txs.length} transactions (time limit ${args.timeLimitSeconds} s)`)
  const result = await runLoad(rpc, node, txs, load)
  progress('reading receipts (not timed)')
  const receipts = await summariseReceipts(rpc, txs, result)
  // The largest peak of any node (with several validators they share the 2 cores).
  const peaks = await Promise.all(nodes.map((n) => n.peakRssMiB()))
  const peakRssMiB = peaks.some((p) => p === undefined) ? undefined : Math.max(...(peaks as number[]))
  const kinds = [args.transfers > 0 ? 'transfer' : '', args.erc20 > 0 ? 'erc20' : ''].filter((k) => k !== '')
  return renderReport({
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
    const report = args.rpc
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
        : await bench(args, tempDir, (n) => {
            started.push(n)
          })
    process.stdout.write(`\n${report}\n`)
  } catch (e) {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`)
    const tail = started[0]?.outputTail()
    if (tail) process.stderr.write(`--- last node output ---\n${tail}\n---\n`)
    exitCode = 1
  } finally {
    for (const [i, n] of started.entries()) progress(`node ${i} ${await n.stop(NODE_STOP_TIMEOUT_MS)}`)
    rmSync(tempDir, { recursive: true, force: true })
  }
  return exitCode
}

process.exitCode = await main()
