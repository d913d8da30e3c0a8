/**
 * eth_simulateV1's engine, with geth's semantics: blocks of calls run one after another on the state after a base
 * block, each block with its own header overrides and state overrides; missing block numbers are filled with empty
 * blocks, timestamps advance by 12 s unless given; the calls of a block share its gas limit and all calls share the
 * gas cap. Every simulated block is assembled (roots, bloom, hash) so that BLOCKHASH and the answer can name it.
 */
import { Block, type BlockHeader, createBlock, type HeaderData } from '@ethereumjs/block'
import type { Common, ParamsDict } from '@ethereumjs/common'
import type { EVMMockBlockchainInterface } from '@ethereumjs/evm'
import type { MerkleStateManager } from '@ethereumjs/statemanager'
import type { TypedTransaction } from '@ethereumjs/tx'
import { type Address, createZeroAddress, toChecksumAddress } from '@ethereumjs/util'
import {
  type BlockBuilder,
  buildBlock as createBuilder,
  createVM,
  encodeReceipt,
  type RunTxResult,
  type VM,
} from '@ethereumjs/vm'
import { keccak_256 as defaultKeccak } from '@noble/hashes/sha3.js'
import { CallError, type CallLimits, type CallRequest, decodeRevertReason, makeTx, runCallTx } from './call.js'
import { deadlineOpcodes, ExecutionTimeoutError } from './limits.js'
import {
  applyStateOverrides,
  type BlockOverrides,
  blockWithOverrides,
  keepPrecompileWarmth,
  precompileOverrides,
  type StateOverrides,
} from './overrides.js'
import { type LogTuple, TransferTracer } from './transferTracer.js'
import { TrieRootBuilder } from './trieRoot.js'

export type { LogTuple } from './transferTracer.js'

/** geth's limit on blocks in one request (counted from the base block to the last simulated one). */
export const MAX_SIMULATE_BLOCKS = 256n
/** Seconds between simulated blocks whose time is not given. */
const TIMESTAMP_INCREMENT = 12n

/** geth's error codes for eth_simulateV1 (execution-apis). */
export const SimulateErrorCode = {
  NonceTooLow: -38010,
  NonceTooHigh: -38011,
  BaseFeeTooLow: -38012,
  IntrinsicGas: -38013,
  InsufficientFunds: -38014,
  BlockGasLimitReached: -38015,
  BlockNumberInvalid: -38020,
  BlockTimestampInvalid: -38021,
  ClientLimitExceeded: -38026,
  InvalidParams: -32602,
  Internal: -32603,
  Reverted: 3,
  VMError: -32015,
} as const

/** The request cannot be simulated; answered as a JSON-RPC error with this code. */
export class SimulateError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

export interface SimulateBlockInput {
  blockOverrides?: BlockOverrides
  stateOverrides?: StateOverrides
  calls: CallRequest[]
}

export interface SimulateOptions extends CallLimits {
  blocks: SimulateBlockInput[]
  /** Check nonces, balances against fees and the base fee, as for a real block. */
  validation: boolean
  /** Report ETH transfers as ERC-20-like Transfer logs from ERC-7528's 0xeeee…eeee address. */
  traceTransfers: boolean
  /** The base fee of a block after `parent` under the chain's fee rule (used with validation). */
  nextBaseFee: (parent: BlockHeader) => bigint
}

export interface SimulatedCall {
  returnData: Uint8Array
  logs: LogTuple[]
  /** Block-wide log indexes as geth's tracer counts them (logs of failed frames count too); absent: consecutive. */
  logIndexes?: number[]
  gasUsed: bigint
  /** Gas used before refunds. */
  maxUsedGas: bigint
  status: 0 | 1
  error?: { code: number; message: string; data?: Uint8Array }
}

export interface SimulatedBlock {
  block: Block
  calls: SimulatedCall[]
  /** Sender of each transaction (they are unsigned). */
  senders: Address[]
}

export interface SimulateDeps {
  common: Common
  /** The state after the base block, checkpointed by the caller (everything here is reverted). */
  stateManager: MerkleStateManager
  params: ParamsDict
  /** Hash of a canonical block at or below the base block. */
  blockHashes: (number: bigint) => Promise<Uint8Array | undefined>
}

/** Fills in block numbers and timestamps and the empty blocks of gaps, checking order and the block limit. */
function sanitizeChain(base: BlockHeader, blocks: SimulateBlockInput[]): SimulateBlockInput[] {
  const out: SimulateBlockInput[] = []
  let prevNumber = base.number
  let prevTime = base.timestamp
  for (const input of blocks) {
    const overrides: BlockOverrides = { ...input.blockOverrides }
    const number = overrides.number ?? prevNumber + 1n
    if (number <= prevNumber) {
      throw new SimulateError(
        SimulateErrorCode.BlockNumberInvalid,
        `block numbers must be in order: ${number} <= ${prevNumber}`,
      )
    }
    if (number - base.number > MAX_SIMULATE_BLOCKS) {
      throw new SimulateError(SimulateErrorCode.ClientLimitExceeded, 'too many blocks')
    }
    for (let gap = prevNumber + 1n; gap < number; gap++) {
      prevTime += TIMESTAMP_INCREMENT
      out.push({ blockOverrides: { number: gap, time: prevTime }, calls: [] })
    }
    const time = overrides.time ?? prevTime + TIMESTAMP_INCREMENT
    if (overrides.time !== undefined && time <= prevTime) {
      throw new SimulateError(
        SimulateErrorCode.BlockTimestampInvalid,
        `block timestamps must be in order: ${time} <= ${prevTime}`,
      )
    }
    out.push({ ...input, blockOverrides: { ...overrides, number, time } })
    prevNumber = number
    prevTime = time
  }
  return out
}

function txError(code: number, message: string, gas: bigint): SimulateError {
  return new SimulateError(code, `err: ${message} (supplied gas ${gas})`)
}

/** geth's pre-execution checks (state_transition.preCheck and buyGas), with its messages and eth_simulateV1 codes. */
async function preCheck(
  vm: VM,
  tx: TypedTransaction,
  from: Address,
  baseFee: bigint | undefined,
  validation: boolean,
): Promise<void> {
  const account = await vm.stateManager.getAccount(from)
  const who = toChecksumAddress(from.toString())
  if (validation) {
    const stateNonce = account?.nonce ?? 0n
    if (tx.nonce < stateNonce) {
      throw txError(
        SimulateErrorCode.NonceTooLow,
        `nonce too low: address ${who}, tx: ${tx.nonce} state: ${stateNonce}`,
        tx.gasLimit,
      )
    }
    if (stateNonce >= 2n ** 64n - 1n) {
      throw txError(
        SimulateErrorCode.Internal,
        `nonce has max value: address ${who}, nonce: ${stateNonce}`,
        tx.gasLimit,
      )
    }
    if (tx.nonce > stateNonce) {
      throw txError(
        SimulateErrorCode.NonceTooHigh,
        `nonce too high: address ${who}, tx: ${tx.nonce} state: ${stateNonce}`,
        tx.gasLimit,
      )
    }
  }
  const feeCap = 'maxFeePerGas' in tx ? tx.maxFeePerGas : (tx as { gasPrice: bigint }).gasPrice
  if (validation && baseFee !== undefined) {
    if ('maxFeePerGas' in tx && tx.maxFeePerGas < tx.maxPriorityFeePerGas) {
      throw txError(
        SimulateErrorCode.InvalidParams,
        `max priority fee per gas higher than max fee per gas: address ${who}, maxPriorityFeePerGas: ${tx.maxPriorityFeePerGas}, maxFeePerGas: ${tx.maxFeePerGas}`,
        tx.gasLimit,
      )
    }
    if (feeCap < baseFee) {
      throw txError(
        SimulateErrorCode.BaseFeeTooLow,
        `max fee per gas less than block base fee: address ${who}, maxFeePerGas: ${feeCap}, baseFee: ${baseFee}`,
        tx.gasLimit,
      )
    }
  }
  const balance = account?.balance ?? 0n
  const want = tx.gasLimit * feeCap + tx.value
  if (balance < want) {
    throw txError(
      SimulateErrorCode.InsufficientFunds,
      `insufficient funds for gas * price + value: address ${who} have ${balance} want ${want}`,
      tx.gasLimit,
    )
  }
  const intrinsic = tx.getIntrinsicGas()
  if (tx.gasLimit < intrinsic) {
    throw txError(
      SimulateErrorCode.IntrinsicGas,
      `intrinsic gas too low: have ${tx.gasLimit}, want ${intrinsic}`,
      tx.gasLimit,
    )
  }
}

function callResult(result: RunTxResult, logs: LogTuple[]): SimulatedCall {
  const out: SimulatedCall = {
    returnData: result.execResult.returnValue,
    logs,
    gasUsed: result.totalGasSpent,
    maxUsedGas: result.totalGasSpent + result.gasRefund,
    status: result.execResult.exceptionError === undefined ? 1 : 0,
  }
  const error = result.execResult.exceptionError
  if (error !== undefined) {
    // geth returns no data from a failed call; a revert's data is in the error.
    out.returnData = new Uint8Array()
    out.logs = []
    if (error.error === 'revert') {
      const reason = decodeRevertReason(result.execResult.returnValue)
      out.error = {
        code: SimulateErrorCode.Reverted,
        message: reason === undefined ? 'execution reverted' : `execution reverted: ${reason}`,
        data: result.execResult.returnValue,
      }
    } else {
      out.error = { code: SimulateErrorCode.VMError, message: error.error }
    }
  }
  return out
}

interface Budget {
  /** Gas left under the gas cap; undefined = no cap. */
  remaining: bigint | undefined
}

export async function simulateOnState(
  deps: SimulateDeps,
  base: Block,
  opts: SimulateOptions,
): Promise<SimulatedBlock[]> {
  const blocks = sanitizeChain(base.header, opts.blocks)
  const keccak = deps.common.customCrypto.keccak256 ?? defaultKeccak
  const roots = new TrieRootBuilder(keccak)
  const simulatedHashes = new Map<bigint, Uint8Array>()
  const blockchain: EVMMockBlockchainInterface = {
    getBlock: async (number) => {
      const n = BigInt(number)
      const hash =
        simulatedHashes.get(n) ??
        (n <= base.header.number ? await deps.blockHashes(n) : undefined) ??
        new Uint8Array(32)
      return { hash: () => hash }
    },
    putBlock: async () => {},
    shallowCopy: () => blockchain,
  }
  const budget: Budget = { remaining: opts.gasCap > 0n ? opts.gasCap : undefined }
  const results: SimulatedBlock[] = []
  let parent = base
  for (const input of blocks) {
    opts.deadline?.check()
    const overrides = input.blockOverrides as BlockOverrides & { number: bigint; time: bigint }
    const common = deps.common.copy()
    common.setHardforkBy({ blockNumber: overrides.number, timestamp: overrides.time })
    const headerData = simulatedHeaderData(common, parent, overrides, opts)
    const vm = await createVM({
      common,
      blockchain,
      stateManager: deps.stateManager,
      params: deps.params,
      evmOpts: {
        customOpcodes: deadlineOpcodes(opts.deadline),
        customPrecompiles: precompileOverrides(common, input.stateOverrides),
      },
    })
    await applyStateOverrides(deps.stateManager, input.stateOverrides)
    keepPrecompileWarmth(vm, input.stateOverrides)
    // The builder runs the block-start system calls (EIP-4788 beacon root, EIP-2935 parent hash) and, when the block
    // is built, the EIP-7685 requests (deposits, EIP-7002 withdrawals, EIP-7251 consolidations), as geth's simulator.
    const builder = await createBuilder(vm, {
      parentBlock: parent,
      headerData,
      withdrawals: common.isActivatedEIP(4895) ? [] : undefined,
      blockOpts: { putBlockIntoBlockchain: false, skipConsensusFormatValidation: true, freeze: false },
    })
    const header = createBlock(
      { header: { ...headerData, gasUsed: 0n, blobGasUsed: common.isActivatedEIP(4844) ? 0n : undefined } },
      { common, skipConsensusFormatValidation: true, freeze: false },
    ).header
    if (overrides.blobBaseFee !== undefined) {
      const blobBaseFee = overrides.blobBaseFee
      header.getBlobGasPrice = () => blobBaseFee
    }
    const tracer = opts.traceTransfers ? new TransferTracer() : undefined
    tracer?.attach(vm)
    let simulated: BlockCalls
    try {
      simulated = await runBlockCalls(vm, header, input.calls, opts, budget, tracer)
    } catch (e) {
      await builder.revert()
      throw e
    }
    const block = await finishBlock(builder, simulated, roots)
    simulatedHashes.set(block.header.number, block.hash())
    results.push({ block, calls: simulated.calls, senders: simulated.senders })
    parent = block
  }
  return results
}

/** BlockBuilder fields set here (private in its typings): the results of the calls run outside of it. */
interface BuilderInternals {
  transactions: TypedTransaction[]
  transactionResults: RunTxResult[]
}

/** Assembles the simulated block with the builder: requests, state root, roots of the calls' transactions. */
async function finishBlock(builder: BlockBuilder, simulated: BlockCalls, roots: TrieRootBuilder): Promise<Block> {
  const internals = builder as unknown as BuilderInternals
  // The transactions are unsigned: the builder would re-create (and validate) them; give it only their results.
  internals.transactions = []
  internals.transactionResults = simulated.results
  builder.gasUsed = simulated.gasUsed
  builder.blobGasUsed = simulated.blobGasUsed
  builder.transactionsTrie = async () => roots.orderedRoot(simulated.txs.map((tx) => tx.serialize()))
  builder.receiptTrie = async () => roots.orderedRoot(simulated.receipts)
  const { block: assembled } = await builder.build()
  return new Block(assembled.header, simulated.txs, [], assembled.withdrawals, {
    common: assembled.common,
  })
}

/**
 * The header fields a simulated block starts with, as geth's makeHeaders and processBlock set them: coinbase,
 * difficulty and gas limit carry over from the parent (the base block or the previous simulated one); the base fee is
 * 0 outside validation unless overridden; the beacon root is zero; the rest is computed when the block is built.
 */
function simulatedHeaderData(
  common: Common,
  parent: Block,
  overrides: BlockOverrides & { number: bigint; time: bigint },
  opts: SimulateOptions,
): HeaderData {
  const fields: HeaderData = {
    parentHash: parent.hash(),
    coinbase: overrides.feeRecipient ?? parent.header.coinbase,
    difficulty: overrides.difficulty ?? parent.header.difficulty,
    gasLimit: overrides.gasLimit ?? parent.header.gasLimit,
    number: overrides.number,
    timestamp: overrides.time,
    mixHash: overrides.prevRandao ?? new Uint8Array(32),
    nonce: new Uint8Array(8),
    extraData: new Uint8Array(),
  }
  if (common.isActivatedEIP(1559)) {
    fields.baseFeePerGas = overrides.baseFeePerGas ?? (opts.validation ? opts.nextBaseFee(parent.header) : 0n)
  }
  if (common.isActivatedEIP(4844)) {
    fields.excessBlobGas = parent.header.excessBlobGas !== undefined ? parent.header.calcNextExcessBlobGas(common) : 0n
  }
  if (common.isActivatedEIP(4788)) fields.parentBeaconBlockRoot = new Uint8Array(32)
  return fields
}

/**
 * Outside validation fees below the block's are allowed (geth's NoBaseFee): such a call runs as if the base fee (or
 * the blob base fee, for a blob call whose blob fee cap is below it) were 0.
 */
function lenientBlock(block: Block, tx: TypedTransaction): Block {
  const { baseFeePerGas, excessBlobGas } = block.header
  const feeCap = 'maxFeePerGas' in tx ? tx.maxFeePerGas : (tx as { gasPrice: bigint }).gasPrice
  const blobBaseFee = excessBlobGas !== undefined ? block.header.getBlobGasPrice() : undefined
  const zeroBaseFee = baseFeePerGas !== undefined && feeCap < baseFeePerGas
  const zeroBlobFee = blobBaseFee !== undefined && 'maxFeePerBlobGas' in tx && tx.maxFeePerBlobGas < blobBaseFee
  if (!zeroBaseFee && !zeroBlobFee) return block
  return blockWithOverrides(block, {
    baseFeePerGas: zeroBaseFee ? 0n : undefined,
    blobBaseFee: zeroBlobFee ? 0n : blobBaseFee,
  })
}

/** What running a simulated block's calls yields. */
interface BlockCalls {
  txs: TypedTransaction[]
  results: RunTxResult[]
  receipts: Uint8Array[]
  calls: SimulatedCall[]
  senders: Address[]
  gasUsed: bigint
  blobGasUsed: bigint
}

async function runBlockCalls(
  vm: VM,
  header: BlockHeader,
  calls: CallRequest[],
  opts: SimulateOptions,
  budget: Budget,
  tracer: TransferTracer | undefined,
): Promise<BlockCalls> {
  const block = createBlock({ header }, { common: vm.common, skipConsensusFormatValidation: true, freeze: false })
  // blockWithOverrides may have replaced the blob base fee on this header.
  block.header.getBlobGasPrice = header.getBlobGasPrice.bind(header)
  const baseFee = header.baseFeePerGas
  const out: BlockCalls = { txs: [], results: [], receipts: [], calls: [], senders: [], gasUsed: 0n, blobGasUsed: 0n }
  for (const call of calls) {
    opts.deadline?.check()
    const from = call.from ?? createZeroAddress()
    const nonce = call.nonce ?? (await vm.stateManager.getAccount(from))?.nonce ?? 0n
    // Without a gas limit a call may use the rest of the block (geth's simulator skips EIP-7825's per-tx cap).
    let gas = call.gas ?? header.gasLimit - out.gasUsed
    if (out.gasUsed + gas > header.gasLimit) {
      throw new SimulateError(
        SimulateErrorCode.BlockGasLimitReached,
        `block gas limit reached: ${out.gasUsed} >= ${header.gasLimit}`,
      )
    }
    if (budget.remaining !== undefined && gas > budget.remaining) gas = budget.remaining
    // Calls without fees pay nothing outside validation; with validation they must cover the base fee.
    const request: CallRequest = { ...call, from, nonce }
    if (request.gasPrice === undefined && request.maxFeePerGas === undefined) request.maxFeePerGas = 0n
    const tip = request.maxPriorityFeePerGas ?? 0n
    if (request.gasPrice === undefined && tip > (request.maxFeePerGas ?? 0n)) {
      throw txError(
        SimulateErrorCode.InvalidParams,
        `max priority fee per gas higher than max fee per gas: address ${toChecksumAddress(from.toString())}, maxPriorityFeePerGas: ${tip}, maxFeePerGas: ${request.maxFeePerGas}`,
        gas,
      )
    }
    let tx: TypedTransaction
    try {
      tx = await makeTx(vm, request, gas, { zeroSignature: true, uncappedGas: true })
    } catch (e) {
      if (!(e instanceof CallError)) throw e
      throw txError(SimulateErrorCode.Internal, e.message, gas)
    }
    await preCheck(vm, tx, from, baseFee, opts.validation)
    const runBlock = opts.validation ? block : lenientBlock(block, tx)
    let result: RunTxResult
    try {
      result = await runCallTx(vm, {
        tx,
        block: runBlock,
        skipNonce: true,
        skipBlockGasLimitValidation: true,
        skipHardForkValidation: true,
        blockGasUsed: out.gasUsed,
      })
    } catch (e) {
      if (e instanceof ExecutionTimeoutError) throw e
      const message = (e as Error).message.replace(/ \(block number=.*$/s, '').replace(/ -> .*$/s, '')
      throw new SimulateError(SimulateErrorCode.Internal, `err: ${message} (supplied gas ${gas})`)
    }
    out.gasUsed += result.totalGasSpent
    if (budget.remaining !== undefined) budget.remaining -= result.totalGasSpent
    if (tracer) {
      const { logs, indexes } = tracer.take()
      out.calls.push({ ...callResult(result, logs), logIndexes: indexes })
    } else {
      out.calls.push(
        callResult(
          result,
          (result.execResult.logs ?? []).map(([a, t, d]) => [a, t, d] as LogTuple),
        ),
      )
    }
    out.txs.push(tx)
    out.senders.push(from)
    out.receipts.push(encodeReceipt(result.receipt, tx.type))
    out.results.push(result)
    out.blobGasUsed += result.blobGasUsed ?? 0n
  }
  return out
}
