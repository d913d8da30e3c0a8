/**
 * The `testing` namespace (execution-apis): testing_buildBlockV1 builds a block on a stored parent from given
 * transactions (or the pool's) and returns it as an Engine API payload, without importing it or changing any state.
 * Off by default; meant for test networks only (it lets a caller make the node execute arbitrary blocks).
 */
import type { Block, HeaderData } from '@ethereumjs/block'
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { Address, type WithdrawalData } from '@ethereumjs/util'
import { z } from 'zod'
import { expectedBaseFee } from '../chain/index.js'
import type { BuiltPayload } from '../execution/index.js'
import type { MethodTable } from './dispatcher.js'
import { invalidParams, serverError } from './errors.js'
import { data, type Hex, quantity } from './format.js'
import type { RpcContext } from './options.js'
import { address, data as dataParam, hash, optional, required, uint64, withParams } from './params.js'

/** geth's default --miner.gaslimit: the gas limit blocks of a chain not run by QBFT move toward. */
export const DEFAULT_GAS_CEILING = 60_000_000n
const GAS_LIMIT_BOUND_DIVISOR = 1024n
const MIN_GAS_LIMIT = 5000n

/** geth's CalcGasLimit: from the parent's gas limit toward `desired`, by less than 1/1024 of it per block. */
export function nextGasLimit(parentGasLimit: bigint, desired: bigint): bigint {
  const delta = parentGasLimit / GAS_LIMIT_BOUND_DIVISOR - 1n
  const target = desired < MIN_GAS_LIMIT ? MIN_GAS_LIMIT : desired
  if (parentGasLimit < target) return parentGasLimit + delta > target ? target : parentGasLimit + delta
  if (parentGasLimit > target) return parentGasLimit - delta < target ? target : parentGasLimit - delta
  return parentGasLimit
}

const withdrawal = z.object({
  index: uint64,
  validatorIndex: uint64,
  address,
  amount: uint64,
})

/** PayloadAttributesV3 (V1 and V2 are its prefixes: no beacon root, no withdrawals). */
const payloadAttributes = z.object(
  {
    timestamp: uint64,
    prevRandao: hash,
    suggestedFeeRecipient: address,
    withdrawals: z.array(withdrawal).nullish(),
    parentBeaconBlockRoot: hash.nullish(),
  },
  { error: 'payload attributes must be an object' },
)
type PayloadAttributes = z.output<typeof payloadAttributes>

const transactionList = z.array(dataParam, { error: 'transactions must be an array of raw transactions' })

interface ExecutionPayload {
  parentHash: Hex
  feeRecipient: Hex
  stateRoot: Hex
  receiptsRoot: Hex
  logsBloom: Hex
  prevRandao: Hex
  blockNumber: Hex
  gasLimit: Hex
  gasUsed: Hex
  timestamp: Hex
  extraData: Hex
  baseFeePerGas: Hex
  blockHash: Hex
  transactions: Hex[]
  withdrawals?: { index: Hex; validatorIndex: Hex; address: Hex; amount: Hex }[]
  blobGasUsed?: Hex
  excessBlobGas?: Hex
}

export interface PayloadEnvelope {
  executionPayload: ExecutionPayload
  blockValue: Hex
  /** Blob sidecars of blob transactions: Polis keeps none (blob transactions arrive without sidecars). */
  blobsBundle: { commitments: Hex[]; proofs: Hex[]; blobs: Hex[] }
  executionRequests?: Hex[]
  shouldOverrideBuilder: boolean
}

function executionPayload(block: Block): ExecutionPayload {
  const { header } = block
  const payload: ExecutionPayload = {
    parentHash: data(header.parentHash),
    feeRecipient: data(header.coinbase.bytes),
    stateRoot: data(header.stateRoot),
    receiptsRoot: data(header.receiptTrie),
    logsBloom: data(header.logsBloom),
    prevRandao: data(header.mixHash),
    blockNumber: quantity(header.number),
    gasLimit: quantity(header.gasLimit),
    gasUsed: quantity(header.gasUsed),
    timestamp: quantity(header.timestamp),
    extraData: data(header.extraData),
    baseFeePerGas: quantity(header.baseFeePerGas ?? 0n),
    blockHash: data(block.hash()),
    transactions: block.transactions.map((tx) => data(tx.serialize())),
  }
  if (block.withdrawals !== undefined) {
    payload.withdrawals = block.withdrawals.map((w) => ({
      index: quantity(w.index),
      validatorIndex: quantity(w.validatorIndex),
      address: data(w.address.bytes),
      amount: quantity(w.amount),
    }))
  }
  if (header.blobGasUsed !== undefined) payload.blobGasUsed = quantity(header.blobGasUsed)
  if (header.excessBlobGas !== undefined) payload.excessBlobGas = quantity(header.excessBlobGas)
  return payload
}

export function envelope(built: BuiltPayload, pragueActive: boolean): PayloadEnvelope {
  const result: PayloadEnvelope = {
    executionPayload: executionPayload(built.block),
    blockValue: quantity(built.blockValue),
    blobsBundle: { commitments: [], proofs: [], blobs: [] },
    shouldOverrideBuilder: false,
  }
  if (pragueActive) result.executionRequests = built.executionRequests.map(data)
  return result
}

export function testingMethods(ctx: RpcContext): MethodTable {
  const { spec, chain, execution, txpool } = ctx.deps

  const buildBlockV1 = async (
    parentHash: Uint8Array,
    attributes: PayloadAttributes,
    rawTxs: Uint8Array[] | undefined,
    extraData: Uint8Array | undefined,
  ): Promise<PayloadEnvelope> => {
    const parent = await chain.getBlockByHash(parentHash)
    if (parent === undefined) throw invalidParams('unknown parent block')
    const { header: parentHeader } = parent
    const timestamp = attributes.timestamp
    if (timestamp <= parentHeader.timestamp) {
      throw invalidParams(`invalid timestamp, parent ${parentHeader.timestamp} given ${timestamp}`)
    }
    const number = parentHeader.number + 1n
    const common = spec.common.copy()
    common.setHardforkBy({ blockNumber: number, timestamp })
    const withdrawals = attributes.withdrawals ?? undefined
    if (common.isActivatedEIP(4895) !== (withdrawals !== undefined)) {
      throw invalidParams(withdrawals === undefined ? 'missing withdrawals' : 'withdrawals before shanghai')
    }
    const beaconRoot = attributes.parentBeaconBlockRoot ?? undefined
    if (common.isActivatedEIP(4788) !== (beaconRoot !== undefined)) {
      throw invalidParams(beaconRoot === undefined ? 'missing beacon root' : 'beacon root before cancun')
    }
    const baseFeePerGas = expectedBaseFee(spec, parentHeader)
    // A QBFT proposer keeps its parent's gas limit; other chains move toward the gas ceiling, as geth's miner does.
    const gasLimit =
      common.consensusAlgorithm() === 'qbft'
        ? parentHeader.gasLimit
        : nextGasLimit(parentHeader.gasLimit, DEFAULT_GAS_CEILING)
    const headerData: HeaderData = {
      number,
      timestamp,
      gasLimit,
      baseFeePerGas,
      coinbase: new Address(attributes.suggestedFeeRecipient),
      mixHash: attributes.prevRandao,
      extraData: extraData ?? new Uint8Array(0),
      parentBeaconBlockRoot: beaconRoot,
    }
    const withdrawalData: WithdrawalData[] | undefined = withdrawals?.map((w) => ({
      index: w.index,
      validatorIndex: w.validatorIndex,
      address: w.address,
      amount: w.amount,
    }))
    // Given transactions must all apply, in order; without a list, the pool's best fit.
    let txs: TypedTransaction[]
    if (rawTxs === undefined) txs = txpool.selectForBlock(baseFeePerGas, gasLimit)
    else {
      txs = rawTxs.map((raw, i) => {
        try {
          return createTxFromRLP(raw, { common })
        } catch (e) {
          throw invalidParams(`invalid transaction ${i}: ${(e as Error).message}`)
        }
      })
    }
    let built: BuiltPayload
    try {
      built = await execution.buildPayload(parent, headerData, withdrawalData, txs, rawTxs !== undefined)
    } catch (e) {
      throw serverError((e as Error).message)
    }
    return envelope(built, common.isActivatedEIP(7685))
  }

  return {
    testing_buildBlockV1: withParams(
      [required(hash), required(payloadAttributes), optional(transactionList), optional(dataParam)],
      buildBlockV1,
    ),
  }
}
