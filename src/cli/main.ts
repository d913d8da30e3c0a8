#!/usr/bin/env -S node --max-semi-space-size=64
/** `polis`: run a node, or initialise a data directory from a genesis file. */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { hexToBytes } from '@ethereumjs/util'
import { Command, InvalidArgumentError, Option } from 'commander'
import {
  MAX_REJOURNAL_SECONDS,
  mergeConfig,
  type NodeConfig,
  parseGasCap,
  parseTimeout,
  type RpcLimitsConfig,
  readConfigFile,
  TXPOOL_ORDERS,
} from '../config/index.js'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE, DEV_MNEMONIC, DEV_VALIDATOR } from '../genesis/index.js'
import { readKeyFile } from '../keys/index.js'
import { createLogger, parseModuleLevels } from '../log/index.js'
import type { NodeOptions, PolisNode } from '../node.js'
import type { Progress } from './blocks.js'
import { addKeyCommands } from './keys.js'

const DEFAULT_DATADIR = join(homedir(), '.polis', 'dev')

function parsePositive(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number')
  return n
}

function parseRejournalSeconds(value: string): number {
  const n = parsePositive(value)
  if (n > MAX_REJOURNAL_SECONDS) throw new InvalidArgumentError(`must be at most ${MAX_REJOURNAL_SECONDS} seconds`)
  return n
}

/** A config parser as a commander argument parser (its ConfigError becomes commander's usage error). */
function cliArg<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value)
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message)
    }
  }
}

/** Checks "module=level,…" and keeps the text (the config file's value is checked the same way at start). */
function parseModuleLevelsText(value: string): string {
  parseModuleLevels(value)
  return value
}

function parseBlockNumber(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a block number')
  return BigInt(value)
}

/**
 * The node's modules, loaded by the commands that need them: `polis --version`, `--help`, `account` and `key` start
 * in a fraction of the time it takes to load the EVM, libp2p and the KZG setup.
 */
async function nodeModules() {
  const [crypto, open, blocks, node, rpc, genesis] = await Promise.all([
    import('../crypto/index.js'),
    import('../open.js'),
    import('./blocks.js'),
    import('../node.js'),
    import('../rpc/index.js'),
    import('./genesis.js'),
  ])
  return {
    createCrypto: crypto.createCrypto,
    openChain: open.openChain,
    attachConsensus: open.attachConsensus,
    attachEthereumRules: open.attachEthereumRules,
    exportBlocks: blocks.exportBlocks,
    importBlocks: blocks.importBlocks,
    describeProgress: blocks.describeProgress,
    PolisNode: node.PolisNode,
    readJwtSecret: rpc.readJwtSecret,
    generateNetwork: genesis.generateNetwork,
  }
}

/** Prints a progress line on stderr at most every `everyMs`, and the last one when asked. */
function progressPrinter(
  verb: string,
  describeProgress: (p: Progress) => string,
  everyMs = 5_000,
): { update(p: Progress): void; finish(): void } {
  let last: Progress | undefined
  let printedAt = 0
  return {
    update(p) {
      last = p
      if (p.elapsedMs - printedAt >= everyMs) {
        printedAt = p.elapsedMs
        process.stderr.write(`${verb} ${describeProgress(p)}\n`)
      }
    },
    finish() {
      if (last !== undefined && last.elapsedMs !== printedAt)
        process.stderr.write(`${verb} ${describeProgress(last)}\n`)
    },
  }
}

async function exportCommand(
  file: string,
  opts: { datadir: string; genesis?: string; from?: bigint; to?: bigint },
): Promise<void> {
  const { createCrypto, openChain, exportBlocks, describeProgress } = await nodeModules()
  const crypto = createCrypto()
  const { chain, db } = await openChain(resolve(opts.datadir), resolve(opts.genesis ?? DEV_GENESIS_FILE), crypto)
  try {
    const progress = progressPrinter('exported', describeProgress)
    const result = await exportBlocks(chain, resolve(file), { from: opts.from, to: opts.to }, progress.update)
    progress.finish()
    process.stdout.write(`exported blocks ${result.from}..${result.to} (${result.blocks}) to ${resolve(file)}\n`)
  } finally {
    await db.close()
  }
}

async function importCommand(file: string, opts: { datadir: string; genesis?: string }): Promise<void> {
  const { createCrypto, openChain, attachConsensus, attachEthereumRules, importBlocks, describeProgress } =
    await nodeModules()
  const crypto = createCrypto()
  const opened = await openChain(resolve(opts.datadir), resolve(opts.genesis ?? DEV_GENESIS_FILE), crypto)
  const { spec, chain, db } = opened
  const progress = progressPrinter('imported', describeProgress)
  try {
    if (spec.kind === 'ethereum') attachEthereumRules(opened)
    else attachConsensus(opened, crypto)
    const result = await importBlocks(
      resolve(file),
      { spec, chain, crypto, importBlock: (sealed) => chain.importBlock(sealed) },
      progress.update,
    )
    progress.finish()
    process.stdout.write(
      `imported ${result.imported} blocks (${result.txs} txs), skipped ${result.known} already known; head ${result.head}\n`,
    )
  } catch (e) {
    progress.finish()
    throw new Error(`${(e as Error).message}; the chain keeps every block before it (head ${chain.head.header.number})`)
  } finally {
    await db.close()
  }
}

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('must be a port number 0-65535')
  return port
}

function printDevWarning(): void {
  const lines = [
    '',
    '================================================================================',
    '  DEV CHAIN: these accounts and keys are PUBLIC. NEVER use them on a real network:',
    '  anyone can take funds sent to them.',
    `  Mnemonic: "${DEV_MNEMONIC}"`,
    '================================================================================',
    ...DEV_ACCOUNTS.map((a, i) => `  (${i}) ${a.address}  10000 ETH  key ${a.privateKey}`),
    `  validator ${DEV_VALIDATOR.address}  key ${DEV_VALIDATOR.privateKey}`,
    '================================================================================',
    '',
  ]
  process.stderr.write(`${lines.join('\n')}\n`)
}

// JSON-RPC limits and the second (admin) listener: flags, their config keys, and the node options they make.
type RpcLimitFlags = Omit<RpcLimitsConfig, 'rpcAdminApis'> & { rpcAdminApi?: string }

function parseCount(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number >= 0')
  return n
}

function addRpcLimitOptions(command: Command): Command {
  return command
    .option('--rpc-max-body-bytes <n>', 'largest JSON-RPC request body (default 5 MiB; HTTP 413 above)', parsePositive)
    .option('--rpc-max-batch-length <n>', 'most calls in one batch (default 1000)', parsePositive)
    .option('--rpc-max-response-bytes <n>', 'largest answer, a batch counted whole (default 25000000)', parsePositive)
    .option('--rpc-max-connections <n>', 'open HTTP + WebSocket connections per listener (default 256)', parsePositive)
    .option('--rpc-batch-concurrency <n>', 'calls of one batch run at once (default 8)', parsePositive)
    .option('--rpc-ws-max-concurrent <n>', 'requests of one WebSocket run at once (default 16)', parsePositive)
    .option('--rpc-ws-max-queued <n>', 'requests of one WebSocket waiting, then -32005 (default 256)', parseCount)
    .option(
      '--rpc-admin-port <port>',
      'serve a second JSON-RPC listener (HTTP + WebSocket) on this port (default none)',
      parsePort,
    )
    .option('--rpc-admin-host <host>', 'address of the second listener (default 127.0.0.1)')
    .option('--rpc-admin-api <list>', 'namespaces of the second listener (default all: eth,net,web3,txpool,debug,qbft)')
}

function rpcLimitConfig(flags: RpcLimitFlags): Partial<NodeConfig> {
  return {
    rpcMaxBodyBytes: flags.rpcMaxBodyBytes,
    rpcMaxBatchLength: flags.rpcMaxBatchLength,
    rpcMaxResponseBytes: flags.rpcMaxResponseBytes,
    rpcMaxConnections: flags.rpcMaxConnections,
    rpcBatchConcurrency: flags.rpcBatchConcurrency,
    rpcWsMaxConcurrent: flags.rpcWsMaxConcurrent,
    rpcWsMaxQueued: flags.rpcWsMaxQueued,
    rpcAdminHost: flags.rpcAdminHost,
    rpcAdminPort: flags.rpcAdminPort,
    rpcAdminApis: list(flags.rpcAdminApi),
  }
}

function rpcLimitOptions(config: NodeConfig): Pick<NodeOptions, 'rpc' | 'rpcAdmin'> {
  const defined = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
  if (config.rpcAdminPort === undefined && (config.rpcAdminHost !== undefined || config.rpcAdminApis !== undefined)) {
    throw new Error('the admin JSON-RPC listener needs a port: --rpc-admin-port or [rpc.admin] port')
  }
  return {
    rpc: defined({
      maxBodyBytes: config.rpcMaxBodyBytes,
      maxBatchLength: config.rpcMaxBatchLength,
      maxResponseBytes: config.rpcMaxResponseBytes,
      maxConnections: config.rpcMaxConnections,
      batchConcurrency: config.rpcBatchConcurrency,
      wsMaxConcurrentRequests: config.rpcWsMaxConcurrent,
      wsMaxQueuedRequests: config.rpcWsMaxQueued,
    }),
    rpcAdmin:
      config.rpcAdminPort === undefined
        ? undefined
        : { port: config.rpcAdminPort, ...defined({ host: config.rpcAdminHost, apis: config.rpcAdminApis }) },
  }
}

// The metrics listener: flags, their config keys, and the node option they make.
interface MetricsFlags {
  metricsHost?: string
  metricsPort?: number
}

function addMetricsOptions(command: Command): Command {
  return command
    .option(
      '--metrics-port <port>',
      'serve Prometheus /metrics, /liveness and /readiness on this port (default off)',
      parsePort,
    )
    .option('--metrics-host <host>', 'address of the metrics listener (default 127.0.0.1)')
}

function metricsConfig(flags: MetricsFlags): Partial<NodeConfig> {
  return { metricsHost: flags.metricsHost, metricsPort: flags.metricsPort }
}

function metricsOptions(config: NodeConfig): NodeOptions['metrics'] {
  if (config.metricsPort === undefined) {
    if (config.metricsHost !== undefined)
      throw new Error('the metrics listener needs a port: --metrics-port or [metrics] port')
    return undefined
  }
  return { port: config.metricsPort, ...(config.metricsHost !== undefined ? { host: config.metricsHost } : {}) }
}

interface RunFlags extends RpcLimitFlags, MetricsFlags {
  config?: string
  datadir?: string
  genesis?: string
  rpcHost?: string
  rpcPort?: number
  rpcApi?: string
  rpcCors?: string
  rpcGascap?: bigint
  rpcEvmtimeout?: number
  rpcJwtSecret?: string
  rpcJwtApi?: string
  rpcHostAllowlist?: string
  rpcWsPort?: number
  rpcWsHost?: string
  validatorKey?: string
  passwordFile?: string
  logLevel?: string
  logFormat?: NodeConfig['logFormat']
  logModules?: string
  p2pListen?: string
  staticPeers?: string
  bootnodes?: string
  maxRoundTimeout?: number
  txpoolMaxSlots?: number
  txpoolOrder?: NodeConfig['txpoolOrder']
  txpoolJournal?: string
  txpoolRejournalSeconds?: number
}

const list = (value: string | undefined) =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)

async function run(flags: RunFlags): Promise<void> {
  const { PolisNode, readJwtSecret } = await nodeModules()
  const fromFile = flags.config === undefined ? {} : await readConfigFile(resolve(flags.config))
  const config = mergeConfig(fromFile, {
    datadir: flags.datadir === undefined ? undefined : resolve(flags.datadir),
    genesis: flags.genesis === undefined ? undefined : resolve(flags.genesis),
    validatorKey: flags.validatorKey === undefined ? undefined : resolve(flags.validatorKey),
    passwordFile: flags.passwordFile === undefined ? undefined : resolve(flags.passwordFile),
    logLevel: flags.logLevel as NodeConfig['logLevel'],
    logFormat: flags.logFormat,
    logModules: flags.logModules,
    rpcHost: flags.rpcHost,
    rpcPort: flags.rpcPort,
    rpcApis: list(flags.rpcApi),
    rpcCors: list(flags.rpcCors),
    rpcGasCap: flags.rpcGascap,
    rpcEvmTimeoutMs: flags.rpcEvmtimeout,
    rpcJwtSecret: flags.rpcJwtSecret === undefined ? undefined : resolve(flags.rpcJwtSecret),
    rpcJwtApis: list(flags.rpcJwtApi),
    rpcHostAllowlist: list(flags.rpcHostAllowlist),
    rpcWsPort: flags.rpcWsPort,
    rpcWsHost: flags.rpcWsHost,
    p2pListen: list(flags.p2pListen),
    staticPeers: list(flags.staticPeers),
    bootnodes: list(flags.bootnodes),
    maxRoundTimeoutSeconds: flags.maxRoundTimeout,
    txpoolMaxSlots: flags.txpoolMaxSlots,
    txpoolOrder: flags.txpoolOrder,
    txpoolJournal: flags.txpoolJournal,
    txpoolRejournalSeconds: flags.txpoolRejournalSeconds,
    ...rpcLimitConfig(flags),
    ...metricsConfig(flags),
  })
  const dev = config.genesis === undefined
  const genesisFile = config.genesis ?? DEV_GENESIS_FILE
  const datadir = config.datadir ?? DEFAULT_DATADIR
  const log = createLogger(config.logLevel ?? 'info', {
    format: config.logFormat,
    modules: config.logModules === undefined ? undefined : parseModuleLevels(config.logModules),
  })
  let validatorKey: Uint8Array | undefined
  if (config.validatorKey !== undefined) {
    const key = await readKeyFile(config.validatorKey, { passwordFile: config.passwordFile })
    if (key.kind === 'plain')
      log.warn({ file: config.validatorKey }, 'plain-text validator key: for development only; use a keystore')
    validatorKey = key.privateKey
  } else if (dev) validatorKey = hexToBytes(DEV_VALIDATOR.privateKey)
  if (dev) printDevWarning()
  const limits = rpcLimitOptions(config)
  const networked = config.p2pListen !== undefined || config.staticPeers !== undefined || config.bootnodes !== undefined
  // The signal handlers come first: a SIGTERM while the node starts (RPC may already answer) stops it once started.
  let node: PolisNode | undefined
  let stopRequested: string | undefined
  const shutdown = (signal: string) => {
    if (stopRequested !== undefined) return
    stopRequested = signal
    if (node === undefined) {
      log.info({ signal }, 'shutting down once started')
      return
    }
    log.info({ signal }, 'shutting down')
    node.stop().then(
      () => process.exit(0),
      (e) => {
        log.error({ err: e }, 'error while stopping')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  node = await PolisNode.start({
    datadir,
    genesisFile,
    validatorKey,
    rpc: {
      host: config.rpcHost ?? '127.0.0.1',
      port: config.rpcPort ?? 8545,
      ...(config.rpcApis ? { apis: config.rpcApis } : {}),
      ...(config.rpcCors ? { corsOrigins: config.rpcCors } : {}),
      ...(config.rpcGasCap !== undefined ? { gasCap: config.rpcGasCap } : {}),
      ...(config.rpcEvmTimeoutMs !== undefined ? { evmTimeoutMs: config.rpcEvmTimeoutMs } : {}),
      ...(config.rpcJwtSecret !== undefined ? { jwtSecret: await readJwtSecret(config.rpcJwtSecret) } : {}),
      ...(config.rpcJwtApis !== undefined ? { jwtApis: config.rpcJwtApis } : {}),
      ...(config.rpcHostAllowlist !== undefined ? { hostAllowlist: config.rpcHostAllowlist } : {}),
      ...(config.rpcWsPort !== undefined ? { wsPort: config.rpcWsPort } : {}),
      ...(config.rpcWsHost !== undefined ? { wsHost: config.rpcWsHost } : {}),
      ...limits.rpc,
    },
    rpcAdmin: limits.rpcAdmin,
    qbft: config.maxRoundTimeoutSeconds === undefined ? {} : { maxRoundTimeoutSeconds: config.maxRoundTimeoutSeconds },
    txpool: {
      ...(config.txpoolMaxSlots !== undefined ? { maxSlots: config.txpoolMaxSlots } : {}),
      ...(config.txpoolOrder !== undefined ? { order: config.txpoolOrder } : {}),
    },
    txpoolJournal: {
      ...(config.txpoolJournal !== undefined ? { path: config.txpoolJournal } : {}),
      ...(config.txpoolRejournalSeconds !== undefined ? { rejournalSeconds: config.txpoolRejournalSeconds } : {}),
    },
    p2p: networked
      ? {
          ...(config.p2pListen ? { listen: config.p2pListen } : {}),
          staticPeers: config.staticPeers ?? [],
          bootnodes: config.bootnodes ?? [],
        }
      : undefined,
    metrics: metricsOptions(config),
    log,
  })
  if (stopRequested !== undefined) {
    const signal = stopRequested
    stopRequested = undefined
    shutdown(signal)
  }
}

async function init(opts: { genesis: string; datadir: string }): Promise<void> {
  const { createCrypto, openChain } = await nodeModules()
  const { chain, db } = await openChain(resolve(opts.datadir), resolve(opts.genesis), createCrypto())
  const genesisHash = chain.genesis.hash()
  await db.close()
  process.stdout.write(
    `initialised ${resolve(opts.datadir)} with genesis ${Buffer.from(genesisHash).toString('hex')}\n`,
  )
}

/**
 * Every option added to `command` from here on can also be set by an environment variable POLIS_<OPTION>
 * (`--rpc-port` → POLIS_RPC_PORT), parsed and checked like the flag; `--help` lists each one. Precedence: flags over
 * environment over config file over defaults (the file is merged under what commander collected from both).
 */
function withEnvironmentVariables(command: Command): Command {
  const addOption = command.addOption.bind(command)
  command.addOption = (option: Option) => {
    if (option.long !== undefined && option.envVar === undefined) option.env(envVariableOf(option.long))
    return addOption(option)
  }
  return command
}

/** `--rpc-port` → POLIS_RPC_PORT. */
export function envVariableOf(longFlag: string): string {
  return `POLIS_${longFlag.replace(/^--/, '').replaceAll('-', '_').toUpperCase()}`
}

const program = new Command()
  .name('polis')
  .description('Polis: an Ethereum-compatible QBFT node for city chains')
  .version('0.1.0')

const runCommand = withEnvironmentVariables(program.command('run', { isDefault: true }))
  .description('run a node (without --genesis: a single-validator dev chain on the embedded dev genesis)')
  .option('--config <file>', 'TOML config file (flags and environment override it; default none)')
  .option('--datadir <dir>', `data directory (default ${DEFAULT_DATADIR})`)
  .option('--genesis <file>', 'genesis.json of the chain (default: the embedded dev genesis)')
  .option('--rpc-host <host>', 'JSON-RPC listen address (default 127.0.0.1)')
  .option('--rpc-port <port>', 'JSON-RPC port (default 8545)', parsePort)
  .option('--rpc-cors <origins>', "origins browsers may call from, comma-separated (default '*': any)")
  .option(
    '--rpc-api <list>',
    'JSON-RPC namespaces, comma-separated (default eth,net,web3; also txpool, debug, trace, ots, erigon, qbft, testing)',
  )
  .option(
    '--rpc-gascap <gas>',
    'gas cap of eth_call, eth_estimateGas, eth_createAccessList, eth_simulateV1 (default 50000000; 0 = none)',
    cliArg(parseGasCap),
  )
  .option(
    '--rpc-evmtimeout <duration>',
    'time limit of those calls: seconds or e.g. 500ms, 5s (default 5s; 0 = none)',
    cliArg(parseTimeout),
  )
  .option(
    '--rpc-jwt-secret <file>',
    'HS256 secret (32+ bytes hex, mode 600): protected namespaces need "Authorization: Bearer <jwt>" on both listeners (default none)',
  )
  .option(
    '--rpc-ws-port <port>',
    'serve JSON-RPC over WebSocket on this port, the RPC port then HTTP only (default: both on the RPC port)',
    parsePort,
  )
  .option('--rpc-ws-host <host>', 'address of the WebSocket port (default: --rpc-host)')
  .option('--rpc-jwt-api <list>', 'namespaces the JWT protects (default admin,debug,txpool,qbft,testing)')
  .option(
    '--rpc-host-allowlist <names>',
    "host names accepted in the Host header, comma-separated; IP addresses always are ('*' = any; default localhost)",
  )
  .option(
    '--validator-key <file>',
    "this validator's key: a keystore file (geth's v3 format) or a hex key (dev only); default none: a follower",
  )
  .option('--password-file <file>', "file whose first line is the validator keystore's password (default none)")
  .option('--p2p-listen <multiaddrs>', 'libp2p listen addresses, comma-separated (enables networking; default none)')
  .option(
    '--static-peers <multiaddrs>',
    'peers to keep connected, comma-separated /ip4/…/tcp/…/p2p/<id> (default none)',
  )
  .option('--bootnodes <multiaddrs>', 'peers to dial on start, comma-separated /ip4/…/tcp/…/p2p/<id> (default none)')
  .option('--max-round-timeout <seconds>', 'cap of the doubling QBFT round timeout (default 30)', parsePositive)
  .option('--txpool-max-slots <n>', 'transactions the pool holds, pending + queued (default 32768)', parsePositive)
  .addOption(
    new Option(
      '--txpool-order <order>',
      'block building order: price (highest tip first, as geth) or fifo (arrival order, as Besu --tx-pool=sequenced; default price)',
    ).choices(TXPOOL_ORDERS),
  )
  .option(
    '--txpool-journal <path>',
    'file keeping pooled transactions across restarts, relative to the datadir ("" = none; default txpool.rlp)',
  )
  .option(
    '--txpool-rejournal-seconds <n>',
    'rewrite the journal from the pool this often (default 3600)',
    parseRejournalSeconds,
  )
  .addOption(
    // No commander default: it would override the config file's log-level. The default is applied in run().
    new Option('--log-level <level>', 'log level (default info)').choices([
      'trace',
      'debug',
      'info',
      'warn',
      'error',
      'silent',
    ]),
  )
  .addOption(
    new Option('--log-format <format>', 'json lines, or pretty for a terminal (default json)').choices([
      'json',
      'pretty',
    ]),
  )
  .option(
    '--log-modules <list>',
    'levels of single modules, e.g. qbft=debug,rpc=warn (modules: qbft, rpc, net, sync, txpool, …; default none)',
    cliArg(parseModuleLevelsText),
  )
addMetricsOptions(addRpcLimitOptions(runCommand)).action(run)

program
  .command('init')
  .description('initialise a data directory from a genesis file')
  .requiredOption('--genesis <file>', 'genesis.json of the chain')
  .requiredOption('--datadir <dir>', 'data directory')
  .action(init)

program
  .command('export')
  .description("write the chain's blocks to a file as concatenated RLP (geth's export format, sealed blocks)")
  .argument('<file>', 'output file')
  .requiredOption('--datadir <dir>', 'data directory')
  .option('--genesis <file>', 'genesis.json of the chain (default: the embedded dev genesis)')
  .option('--from <n>', 'first block (default 0)', parseBlockNumber)
  .option('--to <n>', 'last block (default the head)', parseBlockNumber)
  .action(exportCommand)

program
  .command('import')
  .description('import a file of concatenated RLP blocks, checking seals and executing every block')
  .argument('<file>', 'block file (from polis export, Besu or geth of the same chain)')
  .requiredOption('--datadir <dir>', 'data directory')
  .option('--genesis <file>', 'genesis.json of the chain (default: the embedded dev genesis)')
  .action(importCommand)

addKeyCommands(program)

program
  .command('genesis')
  .description('generate validator keys, a QBFT genesis and one config per node for a new network')
  .requiredOption('--validators <n>', 'number of validators', parsePositive)
  .requiredOption('--out <dir>', 'output directory')
  .option('--chain-id <id>', 'chain id', parsePositive, 1337)
  .option('--host <ip>', 'address the nodes listen on', '127.0.0.1')
  .option('--rpc-port <port>', 'JSON-RPC port of the first node; the others add 10 each', parsePort, 8545)
  .option('--p2p-port <port>', 'libp2p port of the first node; the others add 1 each', parsePort, 30303)
  .option('--block-period <seconds>', 'QBFT block period', parsePositive, 1)
  .option('--dev-account', 'prefund the first well-known dev account (public key: local networks only)', false)
  .action(async (o) => {
    const { createCrypto, generateNetwork } = await nodeModules()
    const nodes = await generateNetwork(
      {
        validators: o.validators,
        out: resolve(o.out),
        chainId: o.chainId,
        host: o.host,
        rpcPort: o.rpcPort,
        rpcPortStep: 10,
        p2pPort: o.p2pPort,
        blockPeriodSeconds: o.blockPeriod,
        devAccount: o.devAccount,
      },
      createCrypto(),
    )
    for (const n of nodes) process.stdout.write(`${n.address}  ${n.configFile}  ${n.rpcUrl}\n`)
  })

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`polis: ${e.message}\n`)
  process.exit(1)
})
