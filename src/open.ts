import { mkdir } from 'node:fs/promises'
import { Chain, type ChainMetrics } from './chain/index.js'
import { EthereumRules } from './consensus/ethereum/index.js'
import { headerView, QbftRules, ValidatorProvider } from './consensus/qbft/index.js'
import type { Crypto } from './crypto/index.js'
import { Database } from './db/index.js'
import { defaultExecutionOptions, Execution } from './execution/index.js'
import { type ChainSpec, qbftParams, readGenesisFile } from './genesis/index.js'

/** Opens the data directory on a genesis: the database, chain and head state (used by `run` and `init`). */
export async function openChain(
  datadir: string,
  genesisFile: string,
  crypto: Crypto,
  metrics?: ChainMetrics,
): Promise<{ spec: ChainSpec; db: Database; chain: Chain; execution: Execution }> {
  const spec = await readGenesisFile(genesisFile, crypto.customCrypto)
  await mkdir(datadir, { recursive: true })
  const db = await Database.open(`${datadir}/chaindata`)
  try {
    const genesisStateRoot = await Execution.genesisStateRoot(spec.common, spec.genesisState)
    const chain = await Chain.init({ spec, db, genesisStateRoot, metrics })
    const execution = await Execution.init(defaultExecutionOptions, {
      common: spec.common,
      db,
      blockchain: chain.blockchain,
      genesisState: spec.genesisState,
      genesisStateRoot,
      headStateRoot: chain.head.header.stateRoot,
      blockExecution: spec.kind === 'ethereum' ? 'library' : 'replay',
      recoverSenders: crypto.recoverSenders,
    })
    await db.commit()
    // spec.common follows the head's fork (transaction checks, fee and blob parameters read it); the VM keeps its own.
    const followHead = (header: { number: bigint; timestamp: bigint }) =>
      spec.common.setHardforkBy({ blockNumber: header.number, timestamp: header.timestamp })
    followHead(chain.head.header)
    chain.on('block', ({ block }) => followHead(block.header))
    return { spec, db, chain, execution }
  } catch (e) {
    await db.close()
    throw e
  }
}

/**
 * Gives a chain of kind 'ethereum' (imported from a block file, never sealed here) its block rules: @ethereumjs's
 * header, ommer and body checks plus the difficulty rule.
 */
export function attachEthereumRules(opened: { chain: Chain; execution: Execution }): { rules: EthereumRules } {
  const rules = new EthereumRules()
  opened.chain.attach(opened.execution, rules)
  return { rules }
}

/**
 * Gives the chain its QBFT rules: validator sets from header votes (kept in step with imports) and the block checks
 * (proposer, committed seals). Every node, and `polis import`, validates blocks this way.
 */
export function attachConsensus(
  opened: { spec: ChainSpec; chain: Chain; execution: Execution },
  crypto: Crypto,
): { validators: ValidatorProvider; rules: QbftRules } {
  const { spec, chain, execution } = opened
  const validators = new ValidatorProvider(
    { epochLength: qbftParams(spec).epochLength },
    {
      getHeader: async (number) => {
        const header = await chain.getHeaderByNumber(number)
        return header === undefined ? undefined : headerView(header)
      },
    },
  )
  chain.on('block', ({ block }) => validators.onBlockImported(headerView(block.header)))
  const rules = new QbftRules(qbftParams(spec), crypto, validators)
  chain.attach(execution, rules)
  return { validators, rules }
}
