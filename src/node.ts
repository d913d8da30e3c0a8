/**
 * Composition root: builds every module with its dependencies, in start order, and stops them in reverse.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import type { Chain } from './chain/index.js'
import { MAX_REJOURNAL_SECONDS } from './config/index.js'
import {
  defaultQbftEngineOptions,
  headerView,
  QbftEngine,
  type QbftEngineOptions,
  VoteProposer,
  validatorsInHeader,
} from './consensus/qbft/index.js'
import { type Crypto, createCrypto } from './crypto/index.js'
import type { Database } from './db/index.js'
import type { Execution } from './execution/index.js'
import type { ChainSpec } from './genesis/index.js'
import type { Logger } from './log/index.js'
import {
  defaultMetricsOptions,
  type HealthSource,
  Metrics,
  type MetricsOptions,
  MetricsServer,
} from './metrics/index.js'
import { Network, type NetworkOptions, TOPICS } from './net/index.js'
import { attachConsensus, attachEthereumRules, openChain } from './open.js'
import {
  type AdminBackend,
  checkRpcOptions,
  defaultRpcAdminOptions,
  defaultRpcOptions,
  isLoopbackHost,
  LOCAL_ONLY_APIS,
  type RpcAdminOptions,
  type RpcDeps,
  type RpcOptions,
  RpcServer,
  sameListenAddress,
} from './rpc/index.js'
import { BlockSync, defaultSyncOptions } from './sync/index.js'
import {
  defaultTxGossipOptions,
  defaultTxPoolJournalOptions,
  defaultTxPoolOptions,
  JOURNAL_FLUSH_DELAY_MS,
  TxBatcher,
  TxIngress,
  TxJournal,
  TxPool,
  type TxPoolJournalOptions,
  type TxPoolOptions,
} from './txpool/index.js'

/** A validator this many blocks behind the best peer catches up before it takes part in consensus again. */
const SYNC_GATE_BLOCKS = 3n

export const CLIENT_VERSION = `Polis/v0.1.0/${process.platform}-${process.arch}/node${process.versions.node}`

export interface NodeOptions {
  datadir: string
  genesisFile: string
  /** Validator private key; without it the node follows the chain and serves RPC. */
  validatorKey?: Uint8Array
  rpc: Partial<RpcOptions>
  /** A second JSON-RPC listener (same limits as `rpc`, its own host, port and namespaces); absent = none. */
  rpcAdmin?: Partial<RpcAdminOptions> & { port: number }
  txpool?: Partial<TxPoolOptions>
  /** The pool's journal across restarts; default `txpool.rlp` in the data directory, path '' = none. */
  txpoolJournal?: Partial<TxPoolJournalOptions>
  qbft?: Partial<QbftEngineOptions>
  /** Peer-to-peer networking; absent = a node without peers (the single-validator dev chain). */
  p2p?: Partial<NetworkOptions>
  /** Prometheus /metrics, /liveness and /readiness on their own listener; absent = none (no metrics recorded). */
  metrics?: Partial<MetricsOptions> & { port: number }
  log: Logger
}

/** Gossip without waiting; a failure to send is logged, never thrown (peers also get data by other paths). */
function publish(network: Network, topic: string, bytes: Uint8Array, log: Logger): void {
  network.publish(topic, bytes).catch((err) => log.debug({ err, topic }, 'gossip publish failed'))
}

/** The node key of a node without a validator key: made once, kept in the data directory (owner-only). */
async function nodeKey(datadir: string): Promise<Uint8Array> {
  const file = join(datadir, 'nodekey')
  try {
    return hexToBytes((await readFile(file, 'utf8')).trim() as `0x${string}`)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  const key = secp256k1.utils.randomSecretKey()
  await mkdir(datadir, { recursive: true })
  await writeFile(file, `${bytesToHex(key)}\n`, { mode: 0o600 })
  return key
}

/** The engine's round state with hex addresses, for qbft_getRoundState. */
function roundStateJson(engine: QbftEngine): Record<string, unknown> {
  const status = engine.status()
  if (status === undefined) return { running: false }
  return {
    height: `0x${status.height.toString(16)}`,
    round: status.round,
    started: status.started,
    proposer: bytesToHex(status.proposer),
    quorum: status.quorum,
    preparedRound: status.preparedRound ?? null,
    roundChanges: status.roundChanges.map((r) => ({ round: r.round, from: r.authors.map((a) => bytesToHex(a)) })),
    roundExpiresInMs: status.roundExpiresInMs ?? null,
    dropped: { ...status.dropped, ...Object.fromEntries(engine.dropped) },
  }
}

function createTxPool(opts: NodeOptions, spec: ChainSpec, chain: Chain, execution: Execution, crypto: Crypto): TxPool {
  return new TxPool(
    { ...defaultTxPoolOptions, ...opts.txpool },
    {
      common: spec.common,
      acceptBlobs: spec.kind === 'ethereum',
      recoverSenders: crypto.recoverSenders,
      head: () => ({
        number: chain.head.header.number,
        baseFeePerGas: chain.head.header.baseFeePerGas ?? 0n,
        gasLimit: chain.head.header.gasLimit,
      }),
      getAccount: async (address) => {
        const account = await (await execution.stateAt(chain.head.header.stateRoot)).getAccount(address)
        return { nonce: account?.nonce ?? 0n, balance: account?.balance ?? 0n }
      },
    },
  )
}

/**
 * Restores the pool from its journal and keeps the journal from then on; undefined when the journal is off. Opened
 * before the RPC and the network start, and closed (rewritten from the pool) after they stop, before the database.
 */
async function openTxJournal(opts: NodeOptions, txpool: TxPool, log: Logger): Promise<TxJournal | undefined> {
  const { path, rejournalSeconds } = { ...defaultTxPoolJournalOptions, ...opts.txpoolJournal }
  if (path === '') return undefined
  if (!Number.isInteger(rejournalSeconds) || rejournalSeconds < 1 || rejournalSeconds > MAX_REJOURNAL_SECONDS) {
    throw new Error(
      `txpool rejournal-seconds must be a whole number from 1 to ${MAX_REJOURNAL_SECONDS}, got ${rejournalSeconds}`,
    )
  }
  const maxSlots = opts.txpool?.maxSlots ?? defaultTxPoolOptions.maxSlots
  return TxJournal.open(
    {
      path: resolve(opts.datadir, path),
      rejournalMs: rejournalSeconds * 1000,
      flushDelayMs: JOURNAL_FLUSH_DELAY_MS,
      // The pool holds at most maxSlots txs: past twice that many appends, most records are of mined txs.
      rewriteAfterAppends: 2 * maxSlots,
    },
    { pool: txpool, log: log.child({ module: 'txpool' }) },
  )
}

/** What every node's JSON-RPC gets; a QBFT node adds its coinbase, networking and consensus state. */
function baseRpcDeps(parts: {
  spec: ChainSpec
  chain: Chain
  execution: Execution
  txpool: TxPool
  crypto: Crypto
  log: Logger
}): RpcDeps {
  const { log, ...rest } = parts
  return { ...rest, clientVersion: CLIENT_VERSION, coinbase: undefined, log: log.child({ module: 'rpc' }) }
}

/** The node's HTTP listeners: JSON-RPC, the admin JSON-RPC and the metrics listener; all or none are started. */
interface Listeners {
  rpc: RpcServer
  adminRpc: RpcServer | undefined
  metricsServer: MetricsServer | undefined
}

async function startListeners(
  parts: {
    rpcOptions: RpcOptions
    adminRpcOptions: RpcOptions | undefined
    metricsOptions: MetricsOptions | undefined
    metrics: Metrics | undefined
    health: HealthSource
    log: Logger
  },
  rpcDeps: RpcDeps,
): Promise<Listeners> {
  const rpc = await RpcServer.start(parts.rpcOptions, rpcDeps)
  let adminRpc: RpcServer | undefined
  try {
    adminRpc = parts.adminRpcOptions && (await RpcServer.start(parts.adminRpcOptions, rpcDeps))
    const metricsServer =
      parts.metricsOptions && parts.metrics
        ? await MetricsServer.start(parts.metricsOptions, {
            metrics: parts.metrics,
            health: parts.health,
            log: parts.log.child({ module: 'metrics' }),
          })
        : undefined
    return { rpc, adminRpc, metricsServer }
  } catch (e) {
    await adminRpc?.close()
    await rpc.close()
    throw e
  }
}

/** Peers and addresses for admin_*, from the network. */
function adminBackend(network: Network): AdminBackend {
  return {
    peerId: network.peerId,
    listenAddrs: () => network.multiaddrs,
    peers: () => network.peers(),
    isStaticPeer: (peerId) => network.isStaticPeer(peerId),
    addPeer: (addr) => network.addPeer(addr),
    removePeer: (target) => network.removePeer(target),
  }
}

export class PolisNode {
  private constructor(
    readonly spec: ChainSpec,
    readonly db: Database,
    readonly chain: Chain,
    readonly execution: Execution,
    readonly txpool: TxPool,
    /** Undefined on a chain of kind 'ethereum' (served read-only, no consensus). */
    readonly engine: QbftEngine | undefined,
    readonly rpc: RpcServer,
    /** The second listener (`rpcAdmin`), when configured. */
    readonly adminRpc: RpcServer | undefined,
    readonly network: Network | undefined,
    private readonly sync: BlockSync | undefined,
    private readonly txBatcher: TxBatcher | undefined,
    private readonly journal: TxJournal | undefined,
    private readonly log: Logger,
    /** The metrics listener (`metrics`), when configured. */
    readonly metricsServer: MetricsServer | undefined,
  ) {}

  /** Opens (or initialises) the data directory and starts consensus and RPC. */
  static async start(opts: NodeOptions): Promise<PolisNode> {
    const rpcOptions: RpcOptions = { ...defaultRpcOptions, ...opts.rpc }
    const adminRpcOptions: RpcOptions | undefined = opts.rpcAdmin && {
      ...rpcOptions,
      // The public listener's separate WebSocket port is its own; the admin listener serves both on its port.
      wsPort: undefined,
      wsHost: undefined,
      ...defaultRpcAdminOptions,
      ...opts.rpcAdmin,
    }
    // admin, debug, txpool and qbft stay off on a non-loopback listener unless named explicitly.
    if (adminRpcOptions && opts.rpcAdmin?.apis === undefined && !isLoopbackHost(adminRpcOptions.host)) {
      adminRpcOptions.apis = adminRpcOptions.apis.filter((api) => !LOCAL_ONLY_APIS.includes(api))
    }
    for (const listener of [rpcOptions, adminRpcOptions]) {
      if (listener === undefined || isLoopbackHost(listener.host) || listener.jwtSecret !== undefined) continue
      const exposed = listener.apis.filter((api) => LOCAL_ONLY_APIS.includes(api))
      if (exposed.length > 0) {
        opts.log.warn(
          { host: listener.host, port: listener.port, namespaces: exposed },
          'namespaces that control the node are served on a non-loopback address without a JWT secret (--rpc-jwt-secret)',
        )
      }
    }
    checkRpcOptions(rpcOptions, 'rpc')
    if (adminRpcOptions) {
      checkRpcOptions(adminRpcOptions, 'rpc.admin')
      if (sameListenAddress(rpcOptions, adminRpcOptions)) {
        throw new Error(
          `the admin JSON-RPC listener (${adminRpcOptions.host}:${adminRpcOptions.port}) must not use the public one's address (${rpcOptions.host}:${rpcOptions.port})`,
        )
      }
    }
    const metricsOptions: MetricsOptions | undefined = opts.metrics && { ...defaultMetricsOptions, ...opts.metrics }
    if (metricsOptions && [rpcOptions, adminRpcOptions].some((o) => o && sameListenAddress(o, metricsOptions))) {
      throw new Error(
        `the metrics listener (${metricsOptions.host}:${metricsOptions.port}) must not use a JSON-RPC port`,
      )
    }
    const metrics = metricsOptions && new Metrics()
    const crypto = createCrypto()
    const { spec, db, chain, execution } = await openChain(opts.datadir, opts.genesisFile, crypto, metrics)
    let journal: TxJournal | undefined
    try {
      const log = opts.log
      if (spec.kind === 'ethereum') {
        if (opts.p2p) {
          throw new Error(
            'networking is for QBFT chains: a chain of another kind is imported from a block file (polis import) and served read-only',
          )
        }
        if (opts.validatorKey) throw new Error('a validator key is for QBFT chains; this genesis has no config.qbft')
        attachEthereumRules({ chain, execution })
        const txpool = createTxPool(opts, spec, chain, execution, crypto)
        journal = await openTxJournal(opts, txpool, log)
        return await PolisNode.startReadOnly(opts, {
          txpool,
          journal,
          spec,
          db,
          chain,
          execution,
          crypto,
          log,
          rpcOptions,
          adminRpcOptions,
          metricsOptions,
          metrics,
        })
      }
      const { validators, rules } = attachConsensus({ spec, chain, execution }, crypto)
      const votes = new VoteProposer()
      const txpool = createTxPool(opts, spec, chain, execution, crypto)
      journal = await openTxJournal(opts, txpool, log)
      const network = opts.p2p
        ? await Network.create(opts.p2p, {
            privateKey: opts.validatorKey ?? (await nodeKey(opts.datadir)),
            crypto,
            log,
            status: () => ({
              chainId: spec.chainId,
              genesisHash: chain.genesis.hash(),
              head: { number: chain.head.header.number, hash: chain.head.hash() },
            }),
          })
        : undefined
      let sync: BlockSync | undefined
      const engine = new QbftEngine(
        { ...defaultQbftEngineOptions, ...opts.qbft },
        {
          spec,
          db,
          chain,
          execution,
          txpool,
          rules,
          validators,
          votes,
          crypto,
          log: log.child({ module: 'qbft' }),
          validatorKey: opts.validatorKey,
          metrics,
          onBehind: (number) => sync?.behind(number),
          // Behind by a block or two is the ordinary lag of a loaded validator: it keeps taking part.
          syncing: () => {
            const status = sync?.status()
            return status !== undefined && status.highestBlock - status.currentBlock >= SYNC_GATE_BLOCKS
          },
          transport: network && {
            publishMessage: (bytes) => publish(network, TOPICS.qbft, bytes, log),
            publishBlock: (bytes) => publish(network, TOPICS.block, bytes, log),
          },
        },
      )
      const txBatcher =
        network && new TxBatcher(defaultTxGossipOptions, (batch) => publish(network, TOPICS.txs, batch, log))
      const txIngress = new TxIngress(
        defaultTxGossipOptions,
        (raw) => txpool.addRaw(raw),
        (raws) => txpool.prepareRaw(raws),
      )
      if (network) {
        network.subscribe(TOPICS.qbft, (bytes) => engine.onMessage(bytes))
        network.subscribe(TOPICS.block, (bytes) => engine.onBlock(bytes))
        network.subscribe(TOPICS.txs, (bytes) => txIngress.onBatch(bytes))
      }
      const health: HealthSource = {
        networked: network !== undefined,
        peerCount: () => network?.peerCount ?? 0,
        headNumber: () => chain.head.header.number,
        highestKnownBlock: () => {
          let highest = sync?.status()?.highestBlock ?? chain.head.header.number
          for (const peer of network?.peers() ?? [])
            if (peer.status.head.number > highest) highest = peer.status.head.number
          return highest
        },
      }
      metrics?.observe({
        headNumber: health.headNumber,
        txpool: () => txpool.stats(),
        peerCount: network && (() => network.peerCount),
        consensus: () => engine.status(),
        gossip: network && (() => network.gossipCounts()),
      })
      const rpcDeps: RpcDeps = {
        ...baseRpcDeps({ spec, chain, execution, txpool, crypto, log }),
        admin: network && adminBackend(network),
        health,
        metrics,
        coinbase: engine.validatorAddress,
        broadcastTransaction: txBatcher && ((raw) => txBatcher.add(raw)),
        peerCount: network ? () => network.peerCount : undefined,
        syncStatus: () => sync?.status(),
        qbft: {
          validatorsOfBlock: async (number) => {
            const header = await chain.getHeaderByNumber(number)
            if (header === undefined) return undefined
            return number === 0n ? validators.validatorsAfter(headerView(header)) : validatorsInHeader(header)
          },
          nextValidators: () => validators.validatorsAfter(headerView(chain.head.header)),
          proposeVote: (address, add) => votes.propose(address, add),
          discardVote: (address) => votes.discard(address),
          pendingVotes: () => votes.pending(),
          requestTimeoutSeconds: () => engine.requestTimeoutSeconds,
          roundState: () => roundStateJson(engine),
        },
      }
      const { rpc, adminRpc, metricsServer } = await startListeners(
        { rpcOptions, adminRpcOptions, metricsOptions, metrics, health, log },
        rpcDeps,
      )
      sync =
        network &&
        new BlockSync(defaultSyncOptions, {
          spec,
          chain,
          network,
          importBlock: (sealed) => engine.importDecided(sealed),
          recoverSenders: crypto.recoverSenders,
          log: log.child({ module: 'sync' }),
        })
      await network?.start()
      await sync?.start()
      await engine.start()
      log.info(
        {
          chainId: Number(spec.chainId),
          head: Number(chain.head.header.number),
          rpc: rpc.url,
          adminRpc: adminRpc?.url,
          metrics: metricsServer?.url,
          crypto: crypto.backend,
          datadir: opts.datadir,
          peerId: network?.peerId,
          p2p: network?.multiaddrs,
        },
        'node started',
      )
      return new PolisNode(
        spec,
        db,
        chain,
        execution,
        txpool,
        engine,
        rpc,
        adminRpc,
        network,
        sync,
        txBatcher,
        journal,
        log,
        metricsServer,
      )
    } catch (e) {
      await journal?.close()
      await db.close()
      throw e
    }
  }

  /**
   * A chain of kind 'ethereum': its blocks come from `polis import`; the node serves them over JSON-RPC (transactions
   * sent to it wait in the pool: nothing seals blocks).
   */
  private static async startReadOnly(
    opts: NodeOptions,
    parts: {
      txpool: TxPool
      journal: TxJournal | undefined
      spec: ChainSpec
      db: Database
      chain: Chain
      execution: Execution
      crypto: Crypto
      log: Logger
      rpcOptions: RpcOptions
      adminRpcOptions: RpcOptions | undefined
      metricsOptions: MetricsOptions | undefined
      metrics: Metrics | undefined
    },
  ): Promise<PolisNode> {
    const { txpool, journal, spec, db, chain, execution, crypto, log, metrics } = parts
    const headNumber = () => chain.head.header.number
    const health: HealthSource = { networked: false, peerCount: () => 0, headNumber, highestKnownBlock: headNumber }
    metrics?.observe({ headNumber, txpool: () => txpool.stats() })
    const rpcDeps: RpcDeps = { ...baseRpcDeps({ spec, chain, execution, txpool, crypto, log }), health, metrics }
    const { rpc, adminRpc, metricsServer } = await startListeners({ ...parts, health }, rpcDeps)
    log.info(
      { chainId: Number(spec.chainId), head: Number(chain.head.header.number), rpc: rpc.url, datadir: opts.datadir },
      'node started (read-only chain: no consensus)',
    )
    return new PolisNode(
      spec,
      db,
      chain,
      execution,
      txpool,
      undefined,
      rpc,
      adminRpc,
      undefined,
      undefined,
      undefined,
      journal,
      log,
      metricsServer,
    )
  }

  async stop(): Promise<void> {
    await this.rpc.close()
    await this.adminRpc?.close()
    await this.metricsServer?.close()
    await this.sync?.stop()
    await this.engine?.stop()
    this.txBatcher?.stop()
    await this.network?.stop()
    // Nothing admits or mines any more: the journal is left holding exactly the pool.
    await this.journal?.close()
    await this.db.close()
    this.log.info('node stopped')
  }
}
