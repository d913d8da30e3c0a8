/**
 * Running and building blocks with @ethereumjs/vm over the state trie in the node's LevelDB, and read-only
 * execution (eth_call, eth_estimateGas) on any historical state.
 */
import type { Block, HeaderData } from '@ethereumjs/block'
import { paramsBlock } from '@ethereumjs/block'
import type { Blockchain } from '@ethereumjs/blockchain'
import type { Common, GenesisState } from '@ethereumjs/common'
import { type EVMMockBlockchainInterface, paramsEVM } from '@ethereumjs/evm'
import { createMPT, type MerklePatriciaTrie } from '@ethereumjs/mpt'
import { Caches, CacheType, getMerkleStateProof, MerkleStateManager, type Proof } from '@ethereumjs/statemanager'
import { paramsTx, type TypedTransaction } from '@ethereumjs/tx'
import type { Address, WithdrawalData } from '@ethereumjs/util'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import {
  createVM,
  paramsVM,
  type RunTxResult,
  runBlock as runLibraryBlock,
  type TxReceipt,
  type VM,
} from '@ethereumjs/vm'
import { type Database, Prefix } from '../db/index.js'
import { type AccessListResult, createAccessListOnState } from './accessList.js'
import { type BuiltBlock, type BuiltPayload, buildBlock, buildPayload, replayBlock } from './build.js'
import {
  type CallLimits,
  type CallRequest,
  type CallResult,
  callOnState,
  estimateGasOnState,
  NO_LIMITS,
} from './call.js'
import { type Deadline, deadlineOpcodes } from './limits.js'
import {
  applyStateOverrides,
  type BlockOverrides,
  blockWithOverrides,
  keepPrecompileWarmth,
  precompileOverrides,
  type StateOverrides,
} from './overrides.js'
import { installParamsMemo } from './paramsMemo.js'
import { type SimulatedBlock, type SimulateOptions, simulateOnState } from './simulate.js'
import { TouchCollector, type TxTouches } from './touches.js'
import { type BlockTraceOptions, type TxTracer, traceBlockOnState, traceCallOnState } from './trace.js'

export type { AccessListResult } from './accessList.js'
export type { BuiltBlock, BuiltPayload, RejectedTx } from './build.js'
export {
  CallError,
  type CallLimits,
  type CallRequest,
  type CallResult,
  decodeRevertReason,
  ExecutionRevertedError,
  NO_LIMITS,
} from './call.js'
/**
 * Limits for read-only execution, reusable by tracers (debug_traceCall etc.):
 * - `Deadline.after(ms)` makes a deadline (undefined for 0 = none); `deadline.check()` throws ExecutionTimeoutError;
 * - `deadlineOpcodes(deadline)` goes into a VM's `evmOpts.customOpcodes` so that the EVM itself stops at the deadline
 *   (a JUMPDEST that reads the clock every 64 executions; measured cost within run-to-run noise);
 * - `capGas(requested, fallback, gasCap)` applies geth's --rpc.gascap (0 = no cap) to a call's gas.
 */
export { capGas, Deadline, deadlineOpcodes, ExecutionTimeoutError, goDuration } from './limits.js'
export { type AccountOverride, type BlockOverrides, OverrideError, type StateOverrides } from './overrides.js'
export {
  type SimulateBlockInput,
  type SimulatedBlock,
  type SimulatedCall,
  SimulateError,
  type SimulateOptions,
} from './simulate.js'

/** One read-only request: its limits and the state and block overrides it runs with. */
export interface QueryOptions extends CallLimits {
  stateOverrides?: StateOverrides
  blockOverrides?: BlockOverrides
}
export type { CreatedContract, TxTouches } from './touches.js'
export { type BlockTraceOptions, TraceTimeoutError, type TxTraceContext, type TxTracer } from './trace.js'

/** What executing a block yields for its import: receipts, and per transaction what its messages touched. */
export interface ExecutedBlock {
  receipts: TxReceipt[]
  touches: TxTouches[]
}

export interface ExecutionOptions {
  /** Account/storage/code LRU cache sizes of the head state. */
  accountCacheSize: number
  /** Trie nodes (and code) kept in memory for every state root: they are content-addressed, so never stale. */
  trieNodeCacheSize: number
  storageCacheSize: number
  codeCacheSize: number
}

export const defaultExecutionOptions: ExecutionOptions = {
  accountCacheSize: 200_000,
  trieNodeCacheSize: 100_000,
  storageCacheSize: 50_000,
  codeCacheSize: 2_000,
}

export interface ExecutionDeps {
  common: Common
  db: Database
  blockchain: Blockchain
  /**
   * How received blocks are executed: 'replay' builds them again with the block builder (QBFT chains: no rewards,
   * no ommers, no withdrawals); 'library' runs @ethereumjs's runBlock, which applies the chain's own rules (block and
   * ommer rewards, withdrawals, system calls), for chains of kind 'ethereum'. Default 'replay'.
   */
  blockExecution?: 'replay' | 'library'
  /** Recovers a received block's senders before it runs (off the event loop where possible); else on first use. */
  recoverSenders?: (txs: readonly TypedTransaction[]) => Promise<void>
}

export interface AccountInfo {
  nonce: bigint
  balance: bigint
  codeHash: Uint8Array
  storageRoot: Uint8Array
}

/** Read-only view of the state at one state root. */
export interface StateView {
  readonly stateRoot: Uint8Array
  getAccount(address: Address): Promise<AccountInfo | undefined>
  getCode(address: Address): Promise<Uint8Array>
  getStorage(address: Address, slot: Uint8Array): Promise<Uint8Array>
  /** EIP-1186 account and storage proofs (eth_getProof), hex-encoded as the RPC answers them. */
  getProof(address: Address, slots: Uint8Array[]): Promise<Proof>
}

export class ExecutionError extends Error {
  constructor(
    readonly code: 'MISSING_STATE' | 'INVALID_BLOCK',
    message: string,
  ) {
    super(message)
  }
}

/** Accounts and storage slots each read-only view of a recent state keeps once read. */
const VIEW_ACCOUNT_CACHE_SIZE = 10_000
const VIEW_STORAGE_CACHE_SIZE = 10_000

// The chain's consensus type is 'qbft' (see genesis/), so @ethereumjs pays no block reward whatever minerReward says.
const vmParams = paramsVM

export class Execution {
  /** State root the head state manager is at (after the last imported block). */
  private headStateRoot: Uint8Array
  /** Read-only views of the few most recent state roots; concurrent readers of one root share its view. */
  private readonly views = new Map<string, Promise<MerkleStateManager>>()

  private constructor(
    readonly vm: VM,
    private readonly stateManager: MerkleStateManager,
    private readonly trie: MerklePatriciaTrie,
    private readonly deps: ExecutionDeps,
    headStateRoot: Uint8Array,
  ) {
    this.headStateRoot = headStateRoot
  }

  static async init(
    opts: ExecutionOptions,
    deps: ExecutionDeps & { genesisState: GenesisState; headStateRoot: Uint8Array; genesisStateRoot: Uint8Array },
  ): Promise<Execution> {
    const common = deps.common
    installParamsMemo(common, [paramsBlock, paramsTx, paramsEVM, vmParams])
    const trie = await createMPT({
      db: deps.db.ethereumjsDB(Prefix.State, { hexKeys: true, immutableReadCache: opts.trieNodeCacheSize }),
      useKeyHashing: true,
      common,
      valueEncoding: 'view',
    } as Parameters<typeof createMPT>[0])
    const stateManager = new MerkleStateManager({
      trie,
      common,
      caches: new Caches({
        account: { type: CacheType.LRU, size: opts.accountCacheSize },
        storage: { type: CacheType.LRU, size: opts.storageCacheSize },
        code: { type: CacheType.LRU, size: opts.codeCacheSize },
      }),
    })
    if (!(await stateManager.hasStateRoot(deps.genesisStateRoot))) {
      await stateManager.generateCanonicalGenesis(deps.genesisState)
      const root = await stateManager.getStateRoot()
      if (!equalsBytes(root, deps.genesisStateRoot)) {
        throw new ExecutionError('MISSING_STATE', `genesis state root mismatch: ${bytesToHex(root)}`)
      }
    }
    if (!(await stateManager.hasStateRoot(deps.headStateRoot))) {
      throw new ExecutionError(
        'MISSING_STATE',
        `state of the head block (root ${bytesToHex(deps.headStateRoot)}) is missing`,
      )
    }
    await stateManager.setStateRoot(deps.headStateRoot)
    const vm = await createVM({ common, blockchain: deps.blockchain, stateManager, params: vmParams })
    return new Execution(vm, stateManager, trie, deps, deps.headStateRoot)
  }

  /** Computes the state root of a genesis allocation in memory, without touching the database. */
  static async genesisStateRoot(common: Common, genesisState: GenesisState): Promise<Uint8Array> {
    const sm = new MerkleStateManager({ trie: await createMPT({ useKeyHashing: true, common }), common })
    await sm.generateCanonicalGenesis(genesisState)
    return sm.getStateRoot()
  }

  get stateRoot(): Uint8Array {
    return this.headStateRoot
  }

  /**
   * Builds a block on the head state: runs `txs` in order, skipping those that fail validation, in O(n).
   * The resulting state is staged in the database; the caller imports the block or calls `reset()`.
   */
  async buildBlock(
    parent: Block,
    headerData: HeaderData,
    txs: Iterable<TypedTransaction>,
    limits: { deadline?: number } = {},
  ): Promise<BuiltBlock> {
    this.vm.common.setHardforkBy({
      blockNumber: parent.header.number + 1n,
      timestamp: BigInt(headerData.timestamp as bigint),
    })
    const built = await buildBlock(this.vm, parent, headerData, txs, limits)
    this.headStateRoot = built.block.header.stateRoot
    return built
  }

  /**
   * Builds a block on `parent` on a throw-away copy of its state (testing_buildBlockV1): nothing is staged or stored,
   * the head state is untouched. `strict`: every transaction must apply, else the build fails with the reason.
   */
  async buildPayload(
    parent: Block,
    headerData: HeaderData,
    withdrawals: WithdrawalData[] | undefined,
    txs: Iterable<TypedTransaction>,
    strict: boolean,
  ): Promise<BuiltPayload> {
    const stateManager = await this.uncachedStateManager(parent.header.stateRoot)
    const common = this.deps.common.copy()
    common.setHardforkBy({ blockNumber: parent.header.number + 1n, timestamp: BigInt(headerData.timestamp as bigint) })
    const vm = await createVM({ common, blockchain: this.queryBlockchain(), stateManager, params: vmParams })
    // The builder commits into this checkpoint, which is reverted: no state write reaches the database.
    await stateManager.checkpoint()
    try {
      return await buildPayload(vm, parent, headerData, withdrawals, txs, strict)
    } finally {
      await stateManager.revert()
    }
  }

  /**
   * Executes a block received from elsewhere on its parent's state and checks every root it commits to. The state is
   * staged like a build's; on failure it is reset to the parent's.
   */
  async runBlock(block: Block, parent: Block): Promise<ExecutedBlock> {
    const parentStateRoot = parent.header.stateRoot
    try {
      if (!equalsBytes(parentStateRoot, this.headStateRoot)) await this.reset(parentStateRoot)
      this.vm.common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp })
      await this.deps.recoverSenders?.(block.transactions)
      const { receipts, touches } =
        this.deps.blockExecution === 'library'
          ? await this.runWithLibrary(block)
          : await replayBlock(this.vm, parent, block)
      this.headStateRoot = block.header.stateRoot
      return { receipts, touches }
    } catch (e) {
      await this.reset(parentStateRoot)
      throw new ExecutionError('INVALID_BLOCK', (e as Error).message.replace(/ \(block number=.*$/s, ''))
    }
  }

  /**
   * @ethereumjs's runBlock on the head state (which is the parent's): it checks every root the header commits to;
   * the transactions' internal calls are collected for the address index as a build collects them.
   */
  private async runWithLibrary(block: Block): Promise<ExecutedBlock> {
    const collector = new TouchCollector()
    const touches: TxTouches[] = []
    const begin = () => collector.begin()
    const end = () => {
      touches.push(collector.end())
    }
    collector.attach(this.vm)
    this.vm.events.on('beforeTx', begin)
    this.vm.events.on('afterTx', end)
    try {
      const result = await runLibraryBlock(this.vm, {
        block,
        setHardfork: true,
        skipBlockValidation: true,
        skipHardForkValidation: true,
        clearCache: false,
      })
      return { receipts: result.receipts, touches }
    } finally {
      this.vm.events.off('beforeTx', begin)
      this.vm.events.off('afterTx', end)
      collector.detach()
    }
  }

  /** Drops staged writes and moves the head state back to `stateRoot` (after a failed import or build). */
  async reset(stateRoot: Uint8Array): Promise<void> {
    this.deps.db.rollback()
    await this.stateManager.setStateRoot(stateRoot)
    this.headStateRoot = stateRoot
  }

  /** A read-only view of the state at `stateRoot`; throws ExecutionError('MISSING_STATE') if it is not stored. */
  async stateAt(stateRoot: Uint8Array): Promise<StateView> {
    const sm = await this.stateManagerAt(stateRoot)
    return {
      stateRoot,
      getAccount: async (address) => {
        const account = await sm.getAccount(address)
        return account === undefined
          ? undefined
          : {
              nonce: account.nonce,
              balance: account.balance,
              codeHash: account.codeHash,
              storageRoot: account.storageRoot,
            }
      },
      getCode: (address) => sm.getCode(address),
      getStorage: (address, slot) => sm.getStorage(address, slot),
      getProof: (address, slots) => getMerkleStateProof(sm, address, slots),
    }
  }

  /** eth_call: runs `request` on the state after `block` without changing anything. */
  async call(request: CallRequest, block: Block, opts: QueryOptions = NO_LIMITS): Promise<CallResult> {
    return this.withQueryVM(block, opts, (vm, callBlock) => callOnState(vm, request, callBlock, opts))
  }

  /** eth_estimateGas: the lowest gas limit with which `request` succeeds on the state after `block`. */
  async estimateGas(request: CallRequest, block: Block, opts: QueryOptions = NO_LIMITS): Promise<bigint> {
    return this.withQueryVM(block, opts, (vm, callBlock) => estimateGasOnState(vm, request, callBlock, opts))
  }

  /**
   * Re-executes `block` on `parent`'s state with the tracers `opts` selects (debug_trace*, trace_*); writes nothing.
   * Returns the result of every transaction run.
   */
  async traceBlock(block: Block, parent: Block, opts: BlockTraceOptions): Promise<RunTxResult[]> {
    return this.withQueryVM(block, { stateRoot: parent.header.stateRoot }, (vm) =>
      traceBlockOnState(vm, parent, block, opts),
    )
  }
  /**
   * Traces `request` as a transaction on the state after `block` (debug_traceCall, trace_call), with `opts`' gas
   * cap, overrides and EVM deadline; `traceDeadline` bounds the tracer's own time (geth's trace timeout).
   */
  async traceCall(
    request: CallRequest,
    block: Block,
    tracer: TxTracer,
    opts: QueryOptions,
    traceDeadline?: number,
  ): Promise<RunTxResult> {
    return this.withQueryVM(block, opts, (vm, callBlk) =>
      traceCallOnState(vm, request, callBlk, tracer, opts, traceDeadline),
    )
  }

  /** eth_createAccessList: the accounts and slots `request` touches, and the gas it uses with that list. */
  async createAccessList(
    request: CallRequest,
    block: Block,
    opts: QueryOptions = NO_LIMITS,
  ): Promise<AccessListResult> {
    return this.withQueryVM(block, opts, (vm, callBlock) => createAccessListOnState(vm, request, callBlock, opts))
  }

  /** eth_simulateV1: runs blocks of calls on top of `base` and returns the blocks they would make. */
  async simulate(base: Block, opts: SimulateOptions): Promise<SimulatedBlock[]> {
    const stateManager = await this.uncachedStateManager(base.header.stateRoot)
    await stateManager.checkpoint()
    try {
      return await simulateOnState(
        {
          common: this.deps.common,
          stateManager,
          params: vmParams,
          blockHashes: (number) => this.canonicalHash(number),
        },
        base,
        opts,
      )
    } finally {
      await stateManager.revert()
    }
  }

  /**
   * Runs `fn` with a VM on the state after `block`, with `opts`' overrides applied and its deadline enforced inside
   * the EVM; every change is reverted afterwards. `fn` gets the block with the block overrides applied.
   */
  async withQueryVM<T>(
    block: Block,
    opts: {
      deadline?: Deadline
      stateOverrides?: StateOverrides
      blockOverrides?: BlockOverrides
      stateRoot?: Uint8Array
    },
    fn: (vm: VM, block: Block) => Promise<T>,
  ): Promise<T> {
    // The state after `block` unless `opts.stateRoot` names another (tracing replays a block on its parent's).
    const stateManager = await this.uncachedStateManager(opts.stateRoot ?? block.header.stateRoot)
    const callBlock = blockWithOverrides(block, opts.blockOverrides)
    const common = this.deps.common.copy()
    common.setHardforkBy({ blockNumber: callBlock.header.number, timestamp: callBlock.header.timestamp })
    const vm = await createVM({
      common,
      blockchain: this.queryBlockchain(),
      stateManager,
      params: vmParams,
      evmOpts: {
        customOpcodes: deadlineOpcodes(opts.deadline),
        customPrecompiles: precompileOverrides(common, opts.stateOverrides),
      },
    })
    await stateManager.checkpoint()
    try {
      await applyStateOverrides(stateManager, opts.stateOverrides)
      keepPrecompileWarmth(vm, opts.stateOverrides)
      return await fn(vm, callBlock)
    } finally {
      await stateManager.revert()
    }
  }

  /** The canonical block hash at `number` for BLOCKHASH, or undefined when there is none (overridden numbers). */
  private async canonicalHash(number: bigint): Promise<Uint8Array | undefined> {
    try {
      return (await this.deps.blockchain.getBlock(number)).hash()
    } catch {
      return undefined
    }
  }

  /** BLOCKHASH's view of the chain for queries: a block number past the head (via overrides) hashes to zero. */
  private queryBlockchain(): EVMMockBlockchainInterface {
    const source: EVMMockBlockchainInterface = {
      getBlock: async (number) => {
        const hash = (await this.canonicalHash(BigInt(number))) ?? new Uint8Array(32)
        return { hash: () => hash }
      },
      putBlock: async () => {},
      shallowCopy: () => source,
    }
    return source
  }

  /**
   * A state manager at `stateRoot` sharing the trie database but none of the head's caches (copying those
   * would allocate the head's cache sizes per view).
   */
  private async uncachedStateManager(stateRoot: Uint8Array, caches?: Caches): Promise<MerkleStateManager> {
    // The database's shared node cache serves every view; a per-view node cache would be rebuilt for each root.
    const trie = this.trie.shallowCopy(false, { cacheSize: 0 })
    const sm = new MerkleStateManager({ trie, common: this.deps.common, caches })
    if (!(await sm.hasStateRoot(stateRoot))) {
      throw new ExecutionError('MISSING_STATE', `state ${bytesToHex(stateRoot)} is not available`)
    }
    await sm.setStateRoot(stateRoot)
    return sm
  }

  private stateManagerAt(stateRoot: Uint8Array): Promise<MerkleStateManager> {
    const key = bytesToHex(stateRoot)
    const cached = this.views.get(key)
    if (cached) return cached
    // A view never changes, so its accounts can be cached: the pool reads each sender for every transaction it
    // admits (a burst sends many from the same accounts), and a trie walk costs tens of microseconds.
    const view = this.uncachedStateManager(
      stateRoot,
      new Caches({
        account: { type: CacheType.LRU, size: VIEW_ACCOUNT_CACHE_SIZE },
        storage: { type: CacheType.LRU, size: VIEW_STORAGE_CACHE_SIZE },
      }),
    )
    // Keep views of the few most recent roots (latest, and the block before it while a new block lands).
    this.views.set(key, view)
    if (this.views.size > 4) this.views.delete(this.views.keys().next().value as string)
    view.catch(() => {
      if (this.views.get(key) === view) this.views.delete(key)
    })
    return view
  }
}
