/**
 * Composition root: builds every module with its dependencies, in start order, and stops them in reverse.
 */

import type { Chain } from './chain/index.js'
import { QbftEngine, QbftRules } from './consensus/qbft/index.js'
import { createCrypto } from './crypto/index.js'
import type { Database } from './db/index.js'
import type { Execution } from './execution/index.js'
import type { ChainSpec } from './genesis/index.js'
import type { Logger } from './log/index.js'
import { openChain } from './open.js'
import { defaultRpcOptions, type RpcOptions, RpcServer } from './rpc/index.js'
import { defaultTxPoolOptions, TxPool, type TxPoolOptions } from './txpool/index.js'

export const CLIENT_VERSION = `Polis/v0.1.0/${process.platform}-${process.arch}/node${process.versions.node}`

export interface NodeOptions {
  datadir: string
  genesisFile: string
  /** Validator private key; without it the node follows the chain and serves RPC. */
  validatorKey?: Uint8Array
  rpc: Partial<RpcOptions>
  txpool?: Partial<TxPoolOptions>
  log: Logger
}

export class PolisNode {
  private constructor(
    readonly spec: ChainSpec,
    readonly db: Database,
    readonly chain: Chain,
    readonly execution: Execution,
    readonly txpool: TxPool,
    readonly engine: QbftEngine,
    readonly rpc: RpcServer,
    private readonly log: Logger,
  ) {}

  /** Opens (or initialises) the data directory and starts consensus and RPC. */
  static async start(opts: NodeOptions): Promise<PolisNode> {
    const crypto = createCrypto()
    const { spec, db, chain, execution } = await openChain(opts.datadir, opts.genesisFile, crypto)
    try {
      const log = opts.log
      const rules = new QbftRules(spec.qbft, crypto)
      chain.attach(execution, rules)
      const txpool = new TxPool(
        { ...defaultTxPoolOptions, ...opts.txpool },
        {
          common: spec.common,
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
      const engine = new QbftEngine({
        spec,
        chain,
        execution,
        txpool,
        rules,
        crypto,
        log: log.child({ module: 'qbft' }),
        validatorKey: opts.validatorKey,
      })
      const rpc = await RpcServer.start(
        { ...defaultRpcOptions, ...opts.rpc },
        {
          spec,
          chain,
          execution,
          txpool,
          crypto,
          clientVersion: CLIENT_VERSION,
          coinbase: engine.validatorAddress,
          log: log.child({ module: 'rpc' }),
        },
      )
      engine.start()
      log.info(
        {
          chainId: Number(spec.chainId),
          head: Number(chain.head.header.number),
          rpc: rpc.url,
          crypto: crypto.backend,
          datadir: opts.datadir,
        },
        'node started',
      )
      return new PolisNode(spec, db, chain, execution, txpool, engine, rpc, log)
    } catch (e) {
      await db.close()
      throw e
    }
  }

  async stop(): Promise<void> {
    await this.rpc.close()
    await this.engine.stop()
    await this.db.close()
    this.log.info('node stopped')
  }
}
