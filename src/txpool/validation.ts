/**
 * Stateless admission checks, in geth's order. A transaction's fee and gas fields are read into a `TxEnvelope`
 * either from a decoded transaction or, when @ethereumjs/tx refuses to construct it (chain id mismatch,
 * EIP-7825 cap, tip above fee cap, ...), straight from its RLP, so that both paths report the same code.
 */
import type { Common } from '@ethereumjs/common'
import { type NestedUint8Array, RLP } from '@ethereumjs/rlp'
import {
  createBlob4844TxFromSerializedNetworkWrapper,
  createTxFromRLP,
  paramsTx,
  type TypedTransaction,
} from '@ethereumjs/tx'
import { bytesToBigInt } from '@ethereumjs/util'
import { TxPoolError } from './errors.js'

const TYPE_LEGACY = 0
const TYPE_ACCESS_LIST = 1
const TYPE_FEE_MARKET = 2
const TYPE_BLOB = 3
const TYPE_SET_CODE = 4

export interface TxEnvelope {
  type: number
  /** Chain id the signature commits to; undefined for a legacy tx without EIP-155 protection. */
  chainId: bigint | undefined
  /** Whether a signature with a well-formed v / yParity is present. */
  signed: boolean
  /** Serialized size in bytes. */
  size: number
  gasLimit: bigint
  /** maxFeePerGas, or gasPrice for legacy and access-list txs. */
  feeCap: bigint
  /** maxPriorityFeePerGas, or gasPrice for legacy and access-list txs. */
  tipCap: bigint
}

export interface StatelessRules {
  common: Common
  maxTxBytes: number
  blockGasLimit: bigint
  /** Blob transactions may be admitted (see TxPoolDeps.acceptBlobs). */
  acceptBlobs?: boolean
}

/** The EIP-7825 per-transaction gas cap (2^24); the tx params may not be loaded into the node's Common. */
export function maxTransactionGasLimit(common: Common): bigint {
  try {
    return common.param('maxTransactionGasLimit')
  } catch {
    return BigInt(paramsTx[7825].maxTransactionGasLimit as number)
  }
}

export function checkTxType(type: number, common: Common, acceptBlobs = false): void {
  if (type === TYPE_BLOB && !acceptBlobs) throw new TxPoolError('BLOB_NOT_SUPPORTED')
  const supported =
    type === TYPE_LEGACY ||
    (type === TYPE_BLOB && common.isActivatedEIP(4844)) ||
    (type === TYPE_ACCESS_LIST && common.isActivatedEIP(2930)) ||
    (type === TYPE_FEE_MARKET && common.isActivatedEIP(1559)) ||
    (type === TYPE_SET_CODE && common.isActivatedEIP(7702))
  if (!supported) throw new TxPoolError('TX_TYPE_NOT_SUPPORTED', `type ${type}`)
}

/** Signature presence, type, chain id, size, gas limits and tip vs fee cap. */
export function checkEnvelope(env: TxEnvelope, rules: StatelessRules): void {
  if (!env.signed) throw new TxPoolError('INVALID_SENDER', 'missing or malformed signature')
  checkTxType(env.type, rules.common, rules.acceptBlobs)
  const chainId = rules.common.chainId()
  if (env.chainId !== undefined && env.chainId !== chainId) {
    throw new TxPoolError('INVALID_CHAIN_ID', `have ${env.chainId} want ${chainId}`)
  }
  if (env.chainId === undefined) throw new TxPoolError('UNPROTECTED')
  if (env.size > rules.maxTxBytes) throw new TxPoolError('OVERSIZED', `size ${env.size}, limit ${rules.maxTxBytes}`)
  if (env.gasLimit > rules.blockGasLimit) {
    throw new TxPoolError('GAS_LIMIT', `gas ${env.gasLimit}, block gas limit ${rules.blockGasLimit}`)
  }
  if (rules.common.isActivatedEIP(7825)) {
    const cap = maxTransactionGasLimit(rules.common)
    if (env.gasLimit > cap) throw new TxPoolError('GAS_LIMIT_TOO_HIGH', `gas ${env.gasLimit}, cap ${cap}`)
  }
  if (env.tipCap > env.feeCap) {
    throw new TxPoolError('TIP_ABOVE_FEE_CAP', `maxPriorityFeePerGas: ${env.tipCap}, maxFeePerGas: ${env.feeCap}`)
  }
}

/** Intrinsic gas (and the EIP-7623 calldata floor), then the fee cap against the head's base fee. */
export function checkGasAndFee(tx: TypedTransaction, feeCap: bigint, baseFeePerGas: bigint): void {
  const intrinsic = tx.getIntrinsicGas()
  if (tx.gasLimit < intrinsic) {
    throw new TxPoolError('INTRINSIC_GAS', `gas ${tx.gasLimit}, minimum needed ${intrinsic}`)
  }
  const minimum = tx.getMinimumGasLimit()
  if (tx.gasLimit < minimum) {
    throw new TxPoolError('INTRINSIC_GAS', `gas ${tx.gasLimit}, minimum needed ${minimum} (EIP-7623 calldata floor)`)
  }
  if (feeCap < baseFeePerGas) {
    throw new TxPoolError('FEE_CAP_TOO_LOW', `maxFeePerGas: ${feeCap}, baseFee: ${baseFeePerGas}`)
  }
}

/** Legacy v: 27/28 is unprotected, 35+ carries the EIP-155 chain id, anything else is malformed. */
function legacyProtection(v: bigint | undefined): { chainId: bigint | undefined; signed: boolean } {
  if (v === undefined) return { chainId: undefined, signed: false }
  if (v === 27n || v === 28n) return { chainId: undefined, signed: true }
  if (v >= 35n) return { chainId: (v - 35n) / 2n, signed: true }
  return { chainId: undefined, signed: false }
}

export function envelopeOfTx(tx: TypedTransaction, size: number): TxEnvelope {
  const fees = 'maxFeePerGas' in tx ? { feeCap: tx.maxFeePerGas, tipCap: tx.maxPriorityFeePerGas } : undefined
  const gasPrice = 'gasPrice' in tx ? tx.gasPrice : 0n
  const base = {
    type: tx.type as number,
    size,
    gasLimit: tx.gasLimit,
    feeCap: fees?.feeCap ?? gasPrice,
    tipCap: fees?.tipCap ?? gasPrice,
  }
  if (tx.type === TYPE_LEGACY) return { ...base, ...legacyProtection(tx.isSigned() ? tx.v : undefined) }
  const signed = tx.isSigned() && (tx.v === 0n || tx.v === 1n)
  return { ...base, chainId: 'chainId' in tx ? tx.chainId : undefined, signed }
}

function invalidRlp(reason: string): TxPoolError {
  return new TxPoolError('INVALID_RLP', reason)
}

/** Reads the envelope fields straight from the RLP, for transactions @ethereumjs/tx refuses to construct. */
export function envelopeOfRaw(raw: Uint8Array, type: number): TxEnvelope {
  let decoded: Uint8Array | NestedUint8Array
  try {
    decoded = RLP.decode(type === TYPE_LEGACY ? raw : raw.subarray(1))
  } catch (err) {
    throw invalidRlp(errorMessage(err))
  }
  if (!Array.isArray(decoded)) throw invalidRlp('expected input list')
  const fields = decoded
  const field = (index: number): bigint => {
    const value = fields[index]
    if (!(value instanceof Uint8Array)) throw invalidRlp(`expected string at field ${index}`)
    return bytesToBigInt(value)
  }
  const optional = (index: number): bigint | undefined => (index < fields.length ? field(index) : undefined)
  const size = raw.length
  if (type === TYPE_LEGACY) {
    const gasPrice = field(1)
    return { type, size, gasLimit: field(2), feeCap: gasPrice, tipCap: gasPrice, ...legacyProtection(optional(6)) }
  }
  const chainId = field(0)
  if (type === TYPE_ACCESS_LIST) {
    const gasPrice = field(2)
    const v = optional(8)
    return { type, size, chainId, gasLimit: field(3), feeCap: gasPrice, tipCap: gasPrice, signed: v === 0n || v === 1n }
  }
  // EIP-1559 and EIP-7702 share the layout up to the access list; 7702 inserts the authorization list before v.
  const v = optional(type === TYPE_SET_CODE ? 10 : 9)
  return { type, size, chainId, tipCap: field(2), feeCap: field(3), gasLimit: field(4), signed: v === 0n || v === 1n }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

const SIGNATURE_ERROR = /signature|s-value|yParity|v = |v value/i

/** Decodes a raw transaction with the node's Common, mapping every failure onto a TxPoolError code. */
export function decodeTransaction(raw: Uint8Array, rules: StatelessRules): TypedTransaction {
  if (raw.length === 0) throw invalidRlp('empty input')
  const type = raw[0] <= 0x7f ? raw[0] : TYPE_LEGACY
  checkTxType(type, rules.common, rules.acceptBlobs)
  if (type === TYPE_LEGACY && raw[0] < 0xc0) throw invalidRlp('expected input list for legacy transaction')
  try {
    // A blob transaction arrives with its sidecar (blobs, commitments, KZG proofs), which is verified here.
    if (type === TYPE_BLOB) return createBlob4844TxFromSerializedNetworkWrapper(raw, { common: rules.common })
    return createTxFromRLP(raw, { common: rules.common })
  } catch (err) {
    if (err instanceof TxPoolError) throw err
    // Classify the refusal the way geth would have reported it, in geth's order.
    checkEnvelope(envelopeOfRaw(raw, type), rules)
    const message = errorMessage(err)
    if (SIGNATURE_ERROR.test(message)) throw new TxPoolError('INVALID_SENDER', message)
    throw invalidRlp(`invalid transaction: ${message}`)
  }
}
