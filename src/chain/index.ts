/**
 * The canonical chain: blocks, receipts, transaction lookup and QBFT seals in the node's LevelDB. Every import
 * writes the block and all its indexes (and the state the execution staged) in one atomic batch.
 */
import { EventEmitter } from 'node:events'
import { type Block, type BlockHeader, createBlock } from '@ethereumjs/block'
import { type Blockchain, createBlockchain } from '@ethereumjs/blockchain'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bigIntToBytes, bytesToBigInt, bytesToHex, equalsBytes, intToBytes, setLengthLeft } from '@ethereumjs/util'
import { type Database, MetaKey, Prefix, SCHEMA_VERSION } from '../db/index.js'
import { type ExecutedBlock, type Execution, ExecutionError } from '../execution/index.js'
import type { ChainSpec } from '../genesis/index.js'
import { ChainIndex, writeBlockIndexes } from '../indexes/index.js'
import { BlockImportError, ChainError } from './errors.js'
import {
  decodeReceipts,
  decodeSeals,
  decodeTxLocation,
  encodeReceipts,
  encodeSeals,
  encodeTxLocation,
  type Seals,
  type StoredReceipt,
  type TxLocation,
} from './receipts.js'

export { BlockImportError, type BlockImportErrorCode, ChainError } from './errors.js'
export type { LogTuple, Seals, StoredReceipt, TxLocation } from './receipts.js'

/** A block as the chain stores it (header in its hashing form) plus the QBFT seal data kept beside it. */
export interface SealedBlock {
  block: Block
  /** QBFT round and committed seals; absent on chains of kind 'ethereum' (their blocks carry their own proof). */
  seals?: Seals
}

/** Consensus-specific header and seal rules, provided by the consensus engine. */
export interface ConsensusRules {
  /** Throws BlockImportError when `block` breaks a consensus rule relative to `parent`. */
  validateBlock(block: SealedBlock, parent: Block): void | Promise<void>
  /** The same without the seals: what a proposed block must satisfy before it is executed. */
  validateHeader(block: Block, parent: Block): unknown
}

export interface ImportedBlock {
  block: Block
  receipts: StoredReceipt[]
}

interface ChainEvents {
  block: [ImportedBlock]
}

/** What the chain records per import (the node's `Metrics` has these; structural, so chain never imports prom-client). */
export interface ChainMetrics {
  blockImportSeconds: { observe(seconds: number): void }
  blockTransactions: { observe(count: number): void }
}

export interface ChainDeps {
  spec: ChainSpec
  db: Database
  metrics?: ChainMetrics
}

export class Chain extends EventEmitter<ChainEvents> {
  private headBlock: Block
  private execution: Execution | undefined
  private rules: ConsensusRules | undefined
  private importing: Promise<unknown> = Promise.resolve()
  /** Logs, address appearances, sender+nonce and contract creators (see src/indexes). */
  readonly index: ChainIndex

  private constructor(
    readonly blockchain: Blockchain,
    private readonly deps: ChainDeps,
    readonly genesis: Block,
    head: Block,
    /** Set when the database has blocks written without the records this version keeps (see attach()). */
    private readonly outdatedSchema: number | undefined,
  ) {
    super()
    this.headBlock = head
    this.index = new ChainIndex(deps.db)
  }

  /**
   * Opens the chain in `db`, writing the genesis block on first use; refuses a database made from another genesis.
   * `genesisStateRoot` comes from the execution layer.
   */
  static async init(deps: ChainDeps & { genesisStateRoot: Uint8Array }): Promise<Chain> {
    const { spec, db } = deps
    const genesis = createGenesisBlock(spec, deps.genesisStateRoot)
    const stored = await db.get(Prefix.Meta, MetaKey.GenesisHash)
    if (stored !== undefined && !equalsBytes(stored, genesis.hash())) {
      throw new ChainError(
        'GENESIS_MISMATCH',
        `the data directory holds a chain with genesis ${bytesToHex(stored)}, but the genesis file gives ` +
          `${bytesToHex(genesis.hash())}: use the genesis the directory was initialised with, or another --datadir`,
      )
    }
    const storedChainId = await db.get(Prefix.Meta, MetaKey.ChainId)
    if (storedChainId !== undefined && bytesToBigInt(storedChainId) !== spec.chainId) {
      throw new ChainError(
        'GENESIS_MISMATCH',
        `the data directory holds chain id ${bytesToBigInt(storedChainId)}, but the genesis file is for chain id ` +
          `${spec.chainId}: use the genesis the directory was initialised with, or another --datadir`,
      )
    }
    const blockchain = await createBlockchain({
      db: db.ethereumjsDB(Prefix.Chain) as never,
      common: spec.common,
      genesisBlock: genesis,
      validateBlocks: false,
      validateConsensus: false,
      hardforkByHeadBlockNumber: false,
    })
    if (stored === undefined) db.put(Prefix.Meta, MetaKey.GenesisHash, genesis.hash())
    if (storedChainId === undefined) db.put(Prefix.Meta, MetaKey.ChainId, bigIntToBytes(spec.chainId))
    const head = await blockchain.getCanonicalHeadBlock()
    const storedSchema = await db.get(Prefix.Meta, MetaKey.SchemaVersion)
    const schema = storedSchema === undefined ? 0 : Number(bytesToBigInt(storedSchema))
    if (schema > SCHEMA_VERSION) {
      throw new ChainError(
        'SCHEMA_OUTDATED',
        `the data directory was written by a newer Polis (schema version ${schema}, this one knows ${SCHEMA_VERSION})`,
      )
    }
    // Without blocks there is nothing to index yet: an old empty directory is simply brought up to date.
    const outdated = schema < SCHEMA_VERSION && head.header.number > 0n ? schema : undefined
    if (outdated === undefined && schema !== SCHEMA_VERSION) {
      db.put(Prefix.Meta, MetaKey.SchemaVersion, intToBytes(SCHEMA_VERSION))
    }
    await db.commit()
    return new Chain(blockchain, deps, genesis, head, outdated)
  }

  /**
   * Wires the collaborators that are built after the chain (they need its blockchain). Refuses a database whose
   * blocks were written by an older version without the chain indexes: the node would answer queries wrongly.
   * Reading it (`polis export`) needs no attach.
   */
  attach(execution: Execution, rules: ConsensusRules): void {
    if (this.outdatedSchema !== undefined) {
      throw new ChainError(
        'SCHEMA_OUTDATED',
        `the data directory holds ${this.headBlock.header.number} blocks written by an older Polis (schema version ` +
          `${this.outdatedSchema}, this one needs ${SCHEMA_VERSION}): its chain indexes (logs, address appearances) ` +
          'are missing. Re-import the chain: `polis export --datadir OLD chain.rlp`, then ' +
          '`polis import --datadir NEW chain.rlp` into an empty data directory',
      )
    }
    this.execution = execution
    this.rules = rules
  }

  get head(): Block {
    return this.headBlock
  }

  async getBlockByNumber(number: bigint): Promise<Block | undefined> {
    if (number > this.headBlock.header.number || number < 0n) return undefined
    if (number === this.headBlock.header.number) return this.headBlock
    try {
      return await this.blockchain.getBlock(number)
    } catch {
      return undefined
    }
  }

  /** The canonical header at `number`, without reading the block body. */
  async getHeaderByNumber(number: bigint): Promise<BlockHeader | undefined> {
    if (number > this.headBlock.header.number || number < 0n) return undefined
    if (number === this.headBlock.header.number) return this.headBlock.header
    try {
      return await this.blockchain.getCanonicalHeader(number)
    } catch {
      return undefined
    }
  }

  async getBlockByHash(hash: Uint8Array): Promise<Block | undefined> {
    if (equalsBytes(hash, this.headBlock.hash())) return this.headBlock
    try {
      const block = await this.blockchain.getBlock(hash)
      // Only canonical blocks exist for clients (QBFT blocks are final; nothing else is ever imported).
      const canonical = await this.blockchain.getCanonicalHeader(block.header.number).catch(() => undefined)
      return canonical !== undefined && equalsBytes(canonical.hash(), hash) ? block : undefined
    } catch {
      return undefined
    }
  }

  async getSeals(hash: Uint8Array): Promise<Seals | undefined> {
    const bytes = await this.deps.db.get(Prefix.Seals, hash)
    return bytes === undefined ? undefined : decodeSeals(bytes)
  }

  /**
   * The senders of a block's transactions, in order, as recovered when it was imported (undefined for a block imported
   * before they were recorded): reading them costs nothing next to recovering a block's signatures again.
   */
  async getSenders(blockHash: Uint8Array): Promise<Uint8Array[] | undefined> {
    const bytes = await this.deps.db.get(Prefix.Senders, blockHash)
    if (bytes === undefined || bytes.length % 20 !== 0) return undefined
    return Array.from({ length: bytes.length / 20 }, (_, i) => bytes.subarray(i * 20, i * 20 + 20))
  }

  async getReceipts(blockHash: Uint8Array): Promise<StoredReceipt[] | undefined> {
    const bytes = await this.deps.db.get(Prefix.Receipts, blockHash)
    return bytes === undefined ? undefined : decodeReceipts(bytes)
  }

  async getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const bytes = await this.deps.db.get(Prefix.TxLookup, txHash)
    return bytes === undefined ? undefined : decodeTxLocation(bytes)
  }

  /** Checks a proposed next block (hashing form, not yet sealed) against the head: every rule but execution and seals. */
  async checkCandidate(block: Block): Promise<void> {
    if (!this.rules) throw new Error('chain not attached to consensus')
    this.validateHeader(block, this.headBlock)
    await this.rules.validateHeader(block, this.headBlock)
  }

  /**
   * Validates and imports the next block. With `executed` (the producer's own build result) the block is not run
   * again; otherwise it is executed on its parent's state and every root is checked. Imports are serialised.
   */
  importBlock(sealed: SealedBlock, executed?: ExecutedBlock): Promise<ImportedBlock> {
    const run = this.importing.then(() => this.doImport(sealed, executed))
    this.importing = run.catch(() => {})
    return run
  }

  private async doImport(sealed: SealedBlock, executed?: ExecutedBlock): Promise<ImportedBlock> {
    const started = performance.now()
    const { execution, rules } = this
    if (!execution || !rules) throw new Error('chain not attached to execution and consensus')
    const { block } = sealed
    const parent = this.headBlock
    const { db } = this.deps
    try {
      await this.validateHeader(block, parent)
      await rules.validateBlock(sealed, parent)
      let result = executed
      if (result === undefined) {
        try {
          result = await execution.runBlock(block, parent)
        } catch (e) {
          throw executionError(e)
        }
      } else if (!equalsBytes(execution.stateRoot, block.header.stateRoot)) {
        throw new BlockImportError('INVALID_STATE_ROOT', 'built block does not match the executed state')
      }
      const { receipts, touches } = result
      const stored: StoredReceipt[] = receipts.map((r, i) => ({
        status: 'status' in r ? r.status : 1,
        ...('stateRoot' in r ? { root: r.stateRoot } : {}),
        cumulativeGasUsed: r.cumulativeBlockGasUsed,
        logs: r.logs,
        txHash: block.transactions[i].hash(),
      }))
      const hash = block.hash()
      await this.blockchain.putBlock(block)
      if (sealed.seals) db.put(Prefix.Seals, hash, encodeSeals(sealed.seals))
      db.put(Prefix.Receipts, hash, encodeReceipts(stored))
      const senders = new Uint8Array(block.transactions.length * 20)
      block.transactions.forEach((tx: TypedTransaction, index) => {
        db.put(Prefix.TxLookup, tx.hash(), encodeTxLocation({ blockNumber: block.header.number, index }))
        // Executed: every sender is recovered and cached on its transaction.
        senders.set(tx.getSenderAddress().bytes, index * 20)
      })
      if (senders.length > 0) db.put(Prefix.Senders, hash, senders)
      writeBlockIndexes(db, { block, logs: stored.map((r) => r.logs), touches })
      await db.commit()
      this.headBlock = block
      this.deps.metrics?.blockImportSeconds.observe((performance.now() - started) / 1000)
      this.deps.metrics?.blockTransactions.observe(block.transactions.length)
      const imported = { block, receipts: stored }
      this.emit('block', imported)
      return imported
    } catch (e) {
      db.rollback()
      if (!equalsBytes(execution.stateRoot, parent.header.stateRoot)) await execution.reset(parent.header.stateRoot)
      if (this.headBlock !== parent) this.headBlock = parent
      throw e
    }
  }

  /** Rules every Ethereum chain applies, independent of consensus. */
  private async validateHeader(block: Block, parent: Block): Promise<void> {
    const { header } = block
    const number = header.number
    if (number <= parent.header.number) {
      const known = number === parent.header.number && equalsBytes(block.hash(), parent.hash())
      throw new BlockImportError(
        known ? 'ALREADY_KNOWN' : 'NOT_NEXT_BLOCK',
        `block ${number} is not after head ${parent.header.number}`,
      )
    }
    if (number !== parent.header.number + 1n) {
      throw new BlockImportError('NOT_NEXT_BLOCK', `block ${number} does not follow head ${parent.header.number}`)
    }
    if (!equalsBytes(header.parentHash, parent.hash())) {
      throw new BlockImportError(
        'UNKNOWN_PARENT',
        `block ${number} has parent ${bytesToHex(header.parentHash)}, head is ${bytesToHex(parent.hash())}`,
      )
    }
    if (header.timestamp <= parent.header.timestamp) {
      throw new BlockImportError(
        'INVALID_TIMESTAMP',
        `block ${number} timestamp ${header.timestamp} is not after its parent's ${parent.header.timestamp}`,
      )
    }
    if (this.deps.spec.kind === 'ethereum') {
      // Another Ethereum chain: @ethereumjs checks the header against its parent as that chain's forks require (gas
      // limit, base fee, blob gas), the ommers, and the body against the header.
      try {
        await this.blockchain.validateBlock(block)
      } catch (e) {
        throw new BlockImportError('INVALID_HEADER', (e as Error).message.replace(/ \(block number=.*$/s, ''))
      }
      return
    }
    try {
      header.validateGasLimit(parent.header)
    } catch (e) {
      throw new BlockImportError('INVALID_GAS_LIMIT', (e as Error).message.replace(/ \(block number=.*$/s, ''))
    }
    if (header.gasUsed > header.gasLimit) {
      throw new BlockImportError(
        'INVALID_GAS_USED',
        `block ${number} uses ${header.gasUsed} gas, above its limit ${header.gasLimit}`,
      )
    }
    const expected = expectedBaseFee(this.deps.spec, parent.header)
    if (header.baseFeePerGas !== expected) {
      throw new BlockImportError(
        'INVALID_BASE_FEE',
        `block ${number} base fee ${header.baseFeePerGas}, expected ${expected}`,
      )
    }
    if (block.uncleHeaders.length > 0) throw new BlockImportError('INVALID_HEADER', `block ${number} has ommers`)
  }
}

/** The base fee the block after `parent` must carry under the chain's fee rule. */
export function expectedBaseFee(spec: ChainSpec, parent: BlockHeader): bigint {
  if (spec.baseFeeMode === 'zero') return 0n
  if (spec.baseFeeMode === 'fixed') return spec.genesisHeader.baseFeePerGas ?? 0n
  // The first London block of a chain that started before London (kind 'ethereum').
  if (parent.baseFeePerGas === undefined) return BigInt(spec.common.param('initialBaseFee'))
  return parent.calcNextBaseFee()
}

function executionError(e: unknown): BlockImportError {
  const message = (e as Error).message
  if (e instanceof ExecutionError) {
    if (message.includes('stateRoot')) return new BlockImportError('INVALID_STATE_ROOT', message)
    if (message.includes('receiptTrie')) return new BlockImportError('INVALID_RECEIPTS_ROOT', message)
    if (/bloom/i.test(message)) return new BlockImportError('INVALID_BLOOM', message)
    if (message.includes('gasUsed')) return new BlockImportError('INVALID_GAS_USED', message)
    if (/transaction|tx|trie/i.test(message)) return new BlockImportError('INVALID_TRANSACTIONS', message)
  }
  return new BlockImportError('INVALID_EXECUTION', message)
}

/** Block 0 exactly as the genesis file describes it; fork-dependent fields take their empty values. */
export function createGenesisBlock(spec: ChainSpec, stateRoot: Uint8Array): Block {
  const g = spec.genesisHeader
  return createBlock(
    {
      header: {
        number: 0n,
        timestamp: g.timestamp,
        gasLimit: g.gasLimit,
        difficulty: g.difficulty,
        nonce: setLengthLeft(g.nonce, 8),
        extraData: g.extraData,
        mixHash: g.mixHash,
        coinbase: g.coinbase,
        baseFeePerGas: g.baseFeePerGas,
        stateRoot,
        parentBeaconBlockRoot: spec.common.isActivatedEIP(4788) ? new Uint8Array(32) : undefined,
      },
    },
    { common: spec.common, skipConsensusFormatValidation: true },
  )
}
