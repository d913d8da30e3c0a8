/**
 * Every Prometheus metric of the node, declared in one place. Modules receive the narrow part they record into
 * (`ChainMetrics`, `QbftMetrics`, `RpcMetrics` are structural: they never import prom-client); gauges of state that
 * other modules own (head, pool, peers, round, gossip counts) are read at scrape time from `MetricsSources`.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** What the metrics read from the running node when scraped; each absent where the node has no such part. */
export interface MetricsSources {
  headNumber: () => bigint
  txpool?: () => { pending: number; queued: number }
  peerCount?: () => number
  consensus?: () => { height: bigint; round: number } | undefined
  /** Gossip messages per topic since start: received, published, dropped by validation. */
  gossip?: () => ReadonlyMap<string, { received: number; published: number; dropped: number }>
}

// Blocks take milliseconds to seconds; the block period is a second or more.
const BLOCK_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const TXS_PER_BLOCK_BUCKETS = [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]
const RPC_SECONDS_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]

export class Metrics {
  readonly registry = new Registry()
  private sources: MetricsSources | undefined

  readonly blockImportSeconds = new Histogram({
    name: 'polis_chain_block_import_seconds',
    help: 'Time to import a block (execute if needed, write block, state, receipts and indexes)',
    buckets: BLOCK_SECONDS_BUCKETS,
    registers: [this.registry],
  })
  readonly blockTransactions = new Histogram({
    name: 'polis_chain_block_transactions',
    help: 'Transactions per imported block',
    buckets: TXS_PER_BLOCK_BUCKETS,
    registers: [this.registry],
  })
  readonly blockBuildSeconds = new Histogram({
    name: 'polis_qbft_block_build_seconds',
    help: 'Time this validator spent building a proposed block',
    buckets: BLOCK_SECONDS_BUCKETS,
    registers: [this.registry],
  })
  readonly roundChanges = new Counter({
    name: 'polis_qbft_round_changes_total',
    help: 'QBFT rounds above 0 entered (round changes)',
    registers: [this.registry],
  })
  readonly roundTimeouts = new Counter({
    name: 'polis_qbft_round_timeouts_total',
    help: 'QBFT round timers that expired',
    registers: [this.registry],
  })
  readonly rpcRequests = new Counter({
    name: 'polis_rpc_requests_total',
    help: 'JSON-RPC calls of served methods, by method',
    labelNames: ['method'] as const,
    registers: [this.registry],
  })
  readonly rpcRequestSeconds = new Histogram({
    name: 'polis_rpc_request_seconds',
    help: 'JSON-RPC call latency, by method',
    labelNames: ['method'] as const,
    buckets: RPC_SECONDS_BUCKETS,
    registers: [this.registry],
  })
  readonly rpcErrors = new Counter({
    name: 'polis_rpc_errors_total',
    help: 'JSON-RPC calls answered with an error, by method and error code',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  })

  constructor() {
    collectDefaultMetrics({ register: this.registry })
    const sources = () => this.sources
    new Gauge({
      name: 'polis_chain_head_block',
      help: 'Number of the head block',
      registers: [this.registry],
      collect() {
        const s = sources()
        if (s) this.set(Number(s.headNumber()))
      },
    })
    new Gauge({
      name: 'polis_txpool_pending',
      help: 'Executable transactions in the pool',
      registers: [this.registry],
      collect() {
        const stats = sources()?.txpool?.()
        if (stats) this.set(stats.pending)
      },
    })
    new Gauge({
      name: 'polis_txpool_queued',
      help: 'Transactions in the pool waiting for a nonce gap to close',
      registers: [this.registry],
      collect() {
        const stats = sources()?.txpool?.()
        if (stats) this.set(stats.queued)
      },
    })
    new Gauge({
      name: 'polis_net_peers',
      help: 'Peers that passed the status handshake',
      registers: [this.registry],
      collect() {
        this.set(sources()?.peerCount?.() ?? 0)
      },
    })
    new Gauge({
      name: 'polis_qbft_height',
      help: 'Height QBFT is deciding',
      registers: [this.registry],
      collect() {
        const status = sources()?.consensus?.()
        if (status) this.set(Number(status.height))
      },
    })
    new Gauge({
      name: 'polis_qbft_round',
      help: 'Current QBFT round of that height',
      registers: [this.registry],
      collect() {
        const status = sources()?.consensus?.()
        if (status) this.set(status.round)
      },
    })
    const gossipCounter = (name: string, help: string, field: 'received' | 'published' | 'dropped') =>
      new Counter({
        name,
        help,
        labelNames: ['topic'] as const,
        registers: [this.registry],
        collect() {
          // Counted by the network layer; copied at scrape time.
          const byTopic = sources()?.gossip?.()
          if (byTopic === undefined) return
          this.reset()
          for (const [topic, counts] of byTopic) this.inc({ topic }, counts[field])
        },
      })
    gossipCounter('polis_net_gossip_received_total', 'Gossip messages received, by topic', 'received')
    gossipCounter('polis_net_gossip_published_total', 'Gossip messages published, by topic', 'published')
    gossipCounter('polis_net_gossip_dropped_total', 'Gossip messages dropped (oversized, banned sender)', 'dropped')
  }

  /** Where the scrape-time gauges read from; set once the node's parts exist. */
  observe(sources: MetricsSources): void {
    this.sources = sources
  }

  /** The Prometheus text exposition of every metric. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}
