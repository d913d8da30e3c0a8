import type { Block } from '@ethereumjs/block'
import { type AccessListBytes, createTx, paramsTx, type TypedTransaction, type TypedTxData } from '@ethereumjs/tx'
import {
  type Address,
  bytesToBigInt,
  bytesToHex,
  bytesToUtf8,
  createZeroAddress,
  type EOACode7702AuthorizationListBytes,
  equalsBytes,
  hexToBytes,
  KECCAK256_NULL,
} from '@ethereumjs/util'
import { type RunTxOpts, type RunTxResult, runTx, type VM } from '@ethereumjs/vm'
import { capGas, type Deadline, ExecutionTimeoutError } from './limits.js'
import { blockWithOverrides } from './overrides.js'

export interface CallRequest {
  from?: Address
  to?: Address
  gas?: bigint
  gasPrice?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  value?: bigint
  data?: Uint8Array
  nonce?: bigint
  accessList?: AccessListBytes
  /** EIP-4844: a blob call (type 3); the blobs themselves are not needed to execute it. */
  blobVersionedHashes?: Uint8Array[]
  maxFeePerBlobGas?: bigint
  /** EIP-7702: an authorization list makes the call a set-code transaction (type 4). */
  authorizationList?: EOACode7702AuthorizationListBytes
}

/** Limits of one read-only request (geth's --rpc.gascap and --rpc.evmtimeout). */
export interface CallLimits {
  /** Highest gas a call may use; 0 = no cap. */
  gasCap: bigint
  /** Aborts the request with ExecutionTimeoutError; the VM must also run deadlineOpcodes(deadline). */
  deadline?: Deadline
}

export const NO_LIMITS: CallLimits = { gasCap: 0n }

export interface CallResult {
  returnValue: Uint8Array
  gasUsed: bigint
}

/** The call reverted: `data` is the revert data, `reason` the decoded Error(string)/Panic message if any. */
export class ExecutionRevertedError extends Error {
  constructor(
    readonly data: Uint8Array,
    readonly reason: string | undefined,
  ) {
    super(reason === undefined ? 'execution reverted' : `execution reverted: ${reason}`)
  }
}

/** The call could not run or failed without reverting (out of gas, invalid opcode, insufficient funds, ...). */
export class CallError extends Error {}

const ERROR_SELECTOR = '0x08c379a0'
const PANIC_SELECTOR = '0x4e487b71'
const PANIC_REASONS: Record<number, string> = {
  0: 'generic panic',
  1: 'assert(false)',
  17: 'arithmetic underflow or overflow',
  18: 'division or modulo by zero',
  33: 'enum overflow',
  34: 'invalid encoded storage byte array accessed',
  49: 'out-of-bounds array access; popping on an empty array',
  50: 'out-of-bounds access of an array or bytesN',
  65: 'out of memory',
  81: 'uninitialized function',
}

/** Decodes Solidity's Error(string) and Panic(uint256) revert payloads, as geth does in its error message. */
export function decodeRevertReason(data: Uint8Array): string | undefined {
  if (data.length < 4) return undefined
  const selector = bytesToHex(data.subarray(0, 4))
  if (selector === ERROR_SELECTOR && data.length >= 68) {
    const offset = Number(bytesToBigInt(data.subarray(4, 36)))
    const start = 4 + offset
    if (start + 32 > data.length) return undefined
    const length = Number(bytesToBigInt(data.subarray(start, start + 32)))
    if (start + 32 + length > data.length) return undefined
    return bytesToUtf8(data.subarray(start + 32, start + 32 + length))
  }
  if (selector === PANIC_SELECTOR && data.length === 36) {
    const code = Number(bytesToBigInt(data.subarray(4, 36)))
    const reason = PANIC_REASONS[code] ?? 'unknown panic code'
    return `${reason} (0x${code.toString(16)})`
  }
  return undefined
}

/** The most gas a transaction may use in `block` (its gas limit, or EIP-7825's cap when lower). */
export function maxGas(vm: VM, block: Block): bigint {
  const blockGas = block.header.gasLimit
  const cap = txGasCap(vm)
  return cap !== undefined && cap < blockGas ? cap : blockGas
}

/** EIP-7825's cap on a transaction's gas, when active. */
export function txGasCap(vm: VM): bigint | undefined {
  return vm.common.isActivatedEIP(7825) ? BigInt(paramsTx[7825].maxTransactionGasLimit as number) : undefined
}

export interface MakeTxOptions {
  /** v = r = s = 0, so that the transaction has a hash, as geth gives simulated transactions. */
  zeroSignature?: boolean
  /** Allow a gas limit above EIP-7825's cap (geth's simulator skips the transaction checks). */
  uncappedGas?: boolean
}

/**
 * The transaction type a call runs as, by the fields present (geth's TransactionArgs.ToTransaction): an
 * authorization list makes it EIP-7702, blob hashes EIP-4844, a legacy gas price legacy (EIP-2930 with an access
 * list, so that the list still warms what it names), anything else EIP-1559.
 */
export function callTxType(request: CallRequest): 0 | 1 | 2 | 3 | 4 {
  if (request.authorizationList !== undefined) return 4
  if (request.blobVersionedHashes !== undefined) return 3
  if (request.gasPrice !== undefined) return request.accessList ? 1 : 0
  return 2
}

/**
 * An unsigned transaction from `request`, whose sender is `request.from` (the zero address if absent); fee fields
 * that are absent are zero. Invalid combinations (a blob or EIP-7702 call without `to`, bad blob hashes) are
 * refused with a CallError.
 */
export async function makeTx(
  vm: VM,
  request: CallRequest,
  gasLimit: bigint,
  opts: MakeTxOptions = {},
): Promise<TypedTransaction> {
  const from = request.from ?? createZeroAddress()
  const nonce = request.nonce ?? (await vm.stateManager.getAccount(from))?.nonce ?? 0n
  const type = callTxType(request)
  const txData: Record<string, unknown> = {
    type,
    nonce,
    gasLimit,
    to: request.to,
    value: request.value ?? 0n,
    data: request.data ?? new Uint8Array(),
  }
  if (type !== 0) txData.accessList = request.accessList ?? []
  if (type === 0 || type === 1) {
    txData.gasPrice = request.gasPrice
  } else {
    const maxFeePerGas = request.maxFeePerGas ?? 0n
    const tip = request.maxPriorityFeePerGas ?? 0n
    txData.maxFeePerGas = maxFeePerGas
    txData.maxPriorityFeePerGas = tip > maxFeePerGas && !opts.zeroSignature ? maxFeePerGas : tip
  }
  if (type === 3) {
    txData.blobVersionedHashes = request.blobVersionedHashes
    txData.maxFeePerBlobGas = request.maxFeePerBlobGas ?? 0n
  }
  if (type === 4) txData.authorizationList = request.authorizationList
  if (opts.zeroSignature) Object.assign(txData, { v: 0n, r: 0n, s: 0n })
  const cap = txGasCap(vm)
  const overCap = cap !== undefined && gasLimit > cap
  if (overCap && !opts.uncappedGas) {
    throw new CallError(`transaction gas limit too high (cap: ${cap}, tx: ${gasLimit})`)
  }
  // geth keeps nonces in a uint64 and lets a call use the last one; @ethereumjs's constructor refuses it.
  const maxNonce = nonce >= MAX_UINT64
  let tx: TypedTransaction
  try {
    // The transaction's constructor enforces EIP-7825's cap: build it within the cap and raise the limit after.
    tx = createTx({ ...txData, gasLimit: overCap ? cap : gasLimit, nonce: maxNonce ? 0n : nonce } as TypedTxData, {
      common: vm.common,
      freeze: false,
      allowUnlimitedInitCodeSize: false,
    })
  } catch (e) {
    throw new CallError((e as Error).message.replace(/ \(tx type=.*$/s, ''))
  }
  if (overCap) (tx as { gasLimit: bigint }).gasLimit = gasLimit
  if (maxNonce) (tx as { nonce: bigint }).nonce = nonce
  // Calls are unsigned: the request names the sender.
  tx.getSenderAddress = () => from
  return tx
}

const MAX_UINT64 = 2n ** 64n - 1n
/** EIP-7702's delegation prefix: @ethereumjs's runTx lets a sender whose code starts with it through EIP-3607. */
const DELEGATION_PREFIX = hexToBytes('0xef0100')

/**
 * runTx for a call, with geth's leniency: a contract may be the sender (geth skips EIP-3607's check for eth_call and
 * eth_simulateV1; @ethereumjs's runTx has no switch for it but lets EIP-7702-delegated senders through, so its one
 * read of the sender's code sees a delegation prefix), and a nonce past 2^64 - 1 wraps to 0 as geth's uint64 does.
 */
export async function runCallTx(vm: VM, opts: RunTxOpts): Promise<RunTxResult> {
  const sender = opts.tx.getSenderAddress()
  const stateManager = vm.stateManager
  const account = await stateManager.getAccount(sender)
  let result: RunTxResult
  if (
    account === undefined ||
    equalsBytes(account.codeHash, KECCAK256_NULL) ||
    !vm.common.isActivatedEIP(7702) ||
    equalsBytes((await stateManager.getCode(sender)).subarray(0, 3), DELEGATION_PREFIX)
  ) {
    result = await runTx(vm, opts)
  } else {
    const getCode = stateManager.getCode
    let pending = true
    stateManager.getCode = async (address: Address) => {
      if (pending && address.equals(sender)) {
        pending = false
        return DELEGATION_PREFIX
      }
      return getCode.call(stateManager, address)
    }
    try {
      result = await runTx(vm, opts)
    } finally {
      stateManager.getCode = getCode
    }
  }
  const after = await stateManager.getAccount(sender)
  if (after !== undefined && after.nonce > MAX_UINT64) {
    after.nonce -= MAX_UINT64 + 1n
    await stateManager.putAccount(sender, after)
  }
  return result
}

/**
 * Without fee fields a call pays nothing, like geth: run it in a copy of the block context with base fee 0; a blob
 * call without a blob fee cap runs with blob base fee 0.
 */
export function callBlock(block: Block, request: CallRequest): Block {
  const feeGiven = request.gasPrice !== undefined || request.maxFeePerGas !== undefined
  const zeroBaseFee = !feeGiven && block.header.baseFeePerGas !== undefined && block.header.baseFeePerGas !== 0n
  const zeroBlobFee = request.blobVersionedHashes !== undefined && (request.maxFeePerBlobGas ?? 0n) === 0n
  if (!zeroBaseFee && !zeroBlobFee) return block
  const blobBaseFee = zeroBlobFee
    ? 0n
    : block.header.excessBlobGas !== undefined
      ? block.header.getBlobGasPrice()
      : undefined
  const out = zeroBaseFee ? blockWithOverrides(block, undefined, { baseFeePerGas: 0n }) : blockWithOverrides(block, {})
  // Keep an overridden blob base fee (blockWithOverrides replaces the computed one).
  if (blobBaseFee !== undefined) out.header.getBlobGasPrice = () => blobBaseFee
  return out
}

export function mapRunError(e: unknown): Error {
  if (e instanceof ExecutionTimeoutError) return e
  const message = (e as Error).message.replace(/ \(block number=.*$/s, '').replace(/ -> .*$/s, '')
  if (/upfront cost|enough funds/i.test(message)) return new CallError(`insufficient funds for gas * price + value`)
  if (/gas limit .*intrinsic|base fee/i.test(message)) return new CallError(`intrinsic gas too low`)
  return new CallError(message)
}

/** Runs `request` once with `gasLimit` on a checkpoint of the VM's state, which is reverted afterwards. */
export async function runQuery(
  vm: VM,
  request: CallRequest,
  block: Block,
  gasLimit: bigint,
  limits: CallLimits,
  reportAccessList = false,
): Promise<RunTxResult> {
  limits.deadline?.check()
  const tx = await makeTx(vm, request, gasLimit)
  await vm.stateManager.checkpoint()
  try {
    return await runCallTx(vm, {
      tx,
      block: callBlock(block, request),
      skipNonce: true,
      skipBlockGasLimitValidation: true,
      skipHardForkValidation: true,
      reportAccessList,
    })
  } catch (e) {
    throw mapRunError(e)
  } finally {
    await vm.stateManager.revert()
  }
}

/** geth's text for the EVM error a call ended with ("execution reverted", "out of gas", ...); undefined on success. */
export function vmErrorMessage(result: RunTxResult): string | undefined {
  const error = result.execResult.exceptionError
  if (error === undefined) return undefined
  return error.error === 'revert' ? 'execution reverted' : error.error
}

/** The error of a call that ran but failed: a revert (with data) or another EVM error; undefined on success. */
export function failure(result: RunTxResult): Error | undefined {
  const error = result.execResult.exceptionError
  if (error === undefined) return undefined
  if (error.error === 'revert') {
    const data = result.execResult.returnValue
    return new ExecutionRevertedError(data, decodeRevertReason(data))
  }
  return new CallError(error.error)
}

export async function callOnState(
  vm: VM,
  request: CallRequest,
  block: Block,
  limits: CallLimits = NO_LIMITS,
): Promise<CallResult> {
  const result = await runQuery(vm, request, block, capGas(request.gas, maxGas(vm, block), limits.gasCap), limits)
  const error = failure(result)
  if (error) throw error
  return { returnValue: result.execResult.returnValue, gasUsed: result.totalGasSpent }
}

/** Binary search for the lowest gas limit that succeeds, like geth's eth_estimateGas. */
export async function estimateGasOnState(
  vm: VM,
  request: CallRequest,
  block: Block,
  limits: CallLimits = NO_LIMITS,
): Promise<bigint> {
  const cap = capGas(request.gas, maxGas(vm, block), limits.gasCap)
  const run = (req: CallRequest, b: Block, gas: bigint) => runQuery(vm, req, b, gas, limits)
  const first = await run(request, block, cap)
  const error = failure(first)
  if (error instanceof ExecutionRevertedError) throw error
  if (error) throw new CallError(`gas required exceeds allowance (${cap})`)
  const succeeds = async (gas: bigint): Promise<boolean> => {
    try {
      return failure(await run(request, block, gas)) === undefined
    } catch (e) {
      if (e instanceof ExecutionTimeoutError) throw e
      return false
    }
  }
  let lo = first.totalGasSpent - 1n
  let hi = cap
  // Plain transfers and calls without refunds or 63/64 reserves need exactly the gas they used.
  if (first.totalGasSpent < cap && (await succeeds(first.totalGasSpent))) return first.totalGasSpent
  // Most transactions need their used gas plus refunds and the 63/64 rule's reserve; try that first.
  const optimistic = ((first.totalGasSpent + first.gasRefund + 2300n) * 64n) / 63n
  if (optimistic < hi) {
    if (await succeeds(optimistic)) hi = optimistic
    else lo = optimistic
  }
  // Stop within 1.5 % of the answer, as geth does, to bound the number of executions.
  while (lo + 1n < hi && ((hi - lo) * 1000n) / hi > 15n) {
    const mid = (lo + hi) / 2n
    if (await succeeds(mid)) hi = mid
    else lo = mid
  }
  return hi
}
