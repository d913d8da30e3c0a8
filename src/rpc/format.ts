/**
 * Rendering of blocks, transactions, receipts and logs in geth's JSON shapes: quantities as minimal hex, data as
 * even-length hex, addresses lowercase; only the fields geth has (no totalDifficulty).
 */
import type { Block } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { Blob4844Tx, Capability, type TypedTransaction } from '@ethereumjs/tx'
import { type Address, bytesToBigInt, bytesToHex, createContractAddress, equalsBytes } from '@ethereumjs/util'
import { Bloom } from '@ethereumjs/vm'
import type { LogTuple, StoredReceipt } from '../chain/index.js'
import { rawWithExtraData } from '../consensus/qbft/index.js'

/** Blob gas of one blob (EIP-4844). */
const BLOB_GAS_PER_BLOB = 131_072n

export type Hex = `0x${string}`

/** Minimal hex of a quantity: 0x0, 0x1a. */
export function quantity(value: bigint | number): Hex {
  return `0x${value.toString(16)}`
}

/** Even-length hex of bytes (`0x` when empty). */
export function data(bytes: Uint8Array): Hex {
  return bytesToHex(bytes) as Hex
}

export function addressHex(address: Address | Uint8Array): Hex {
  return data(address instanceof Uint8Array ? address : address.bytes)
}

/** Where a mined transaction sits; absent for a pool transaction. */
export interface TxInclusion {
  blockHash: Uint8Array
  blockNumber: bigint
  blockTimestamp: bigint
  index: number
  baseFeePerGas: bigint | undefined
}

export function inclusionOf(block: Block, index: number): TxInclusion {
  const { header } = block
  return {
    blockHash: block.hash(),
    blockNumber: header.number,
    blockTimestamp: header.timestamp,
    index,
    baseFeePerGas: header.baseFeePerGas,
  }
}

function feeCaps(tx: TypedTransaction): { feeCap: bigint; tipCap: bigint } | undefined {
  return 'maxFeePerGas' in tx ? { feeCap: tx.maxFeePerGas, tipCap: tx.maxPriorityFeePerGas } : undefined
}

/** What the sender paid per gas in a block with `baseFeePerGas`: min(feeCap, baseFee + tip) for EIP-1559 txs. */
export function effectiveGasPrice(tx: TypedTransaction, baseFeePerGas: bigint | undefined): bigint {
  const caps = feeCaps(tx)
  if (caps === undefined) return (tx as { gasPrice: bigint }).gasPrice
  if (baseFeePerGas === undefined) return caps.feeCap
  const price = baseFeePerGas + caps.tipCap
  if (price > caps.feeCap) return caps.feeCap
  return price
}

/** What the block's proposer got per gas: the effective price minus the base fee (never below 0). */
export function effectiveTip(tx: TypedTransaction, baseFeePerGas: bigint | undefined): bigint {
  const tip = effectiveGasPrice(tx, baseFeePerGas) - (baseFeePerGas ?? 0n)
  return tip < 0n ? 0n : tip
}

export interface RpcAccessListEntry {
  address: Hex
  storageKeys: Hex[]
}

/** geth's RPCTransaction, in its field order. */
export interface RpcTransaction {
  blockHash: Hex | null
  blockNumber: Hex | null
  blockTimestamp: Hex | null
  from: Hex
  gas: Hex
  gasPrice: Hex
  maxFeePerGas?: Hex
  maxPriorityFeePerGas?: Hex
  maxFeePerBlobGas?: Hex
  hash: Hex
  input: Hex
  nonce: Hex
  to: Hex | null
  transactionIndex: Hex | null
  value: Hex
  type: Hex
  accessList?: RpcAccessListEntry[]
  chainId?: Hex
  blobVersionedHashes?: Hex[]
  authorizationList?: { chainId: Hex; address: Hex; nonce: Hex; yParity: Hex; r: Hex; s: Hex }[]
  v: Hex
  r: Hex
  s: Hex
  yParity?: Hex
}

export function formatTransaction(tx: TypedTransaction, from: Address, at?: TxInclusion): RpcTransaction {
  const caps = feeCaps(tx)
  const v = tx.v ?? 0n
  const out = {
    blockHash: at ? data(at.blockHash) : null,
    blockNumber: at ? quantity(at.blockNumber) : null,
    blockTimestamp: at ? quantity(at.blockTimestamp) : null,
    from: addressHex(from),
    gas: quantity(tx.gasLimit),
    // Mined EIP-1559 txs show what they paid; pending ones their fee cap, as geth does.
    gasPrice: quantity(
      at ? effectiveGasPrice(tx, at.baseFeePerGas) : (caps?.feeCap ?? effectiveGasPrice(tx, undefined)),
    ),
  } as RpcTransaction
  if (caps !== undefined) {
    out.maxFeePerGas = quantity(caps.feeCap)
    out.maxPriorityFeePerGas = quantity(caps.tipCap)
  }
  if ('maxFeePerBlobGas' in tx) out.maxFeePerBlobGas = quantity(tx.maxFeePerBlobGas)
  out.hash = data(tx.hash())
  out.input = data(tx.data)
  out.nonce = quantity(tx.nonce)
  out.to = tx.to === undefined ? null : addressHex(tx.to)
  out.transactionIndex = at ? quantity(at.index) : null
  out.value = quantity(tx.value)
  out.type = quantity(tx.type)
  const typed = tx.supports(Capability.EIP2718TypedTransaction)
  if ('accessList' in tx) {
    out.accessList = tx.accessList.map(([address, keys]) => ({ address: data(address), storageKeys: keys.map(data) }))
  }
  if (typed && 'chainId' in tx) out.chainId = quantity(tx.chainId)
  // A legacy tx names its chain only through an EIP-155 v (chainId * 2 + 35/36).
  else if (v >= 35n) out.chainId = quantity((v - 35n) / 2n)
  if ('blobVersionedHashes' in tx) out.blobVersionedHashes = tx.blobVersionedHashes.map((h) => h.toLowerCase() as Hex)
  if ('authorizationList' in tx) {
    out.authorizationList = tx.authorizationList.map(([chainId, address, nonce, yParity, r, s]) => ({
      chainId: quantity(bytesToBigInt(chainId)),
      address: data(address),
      nonce: quantity(bytesToBigInt(nonce)),
      yParity: quantity(bytesToBigInt(yParity)),
      r: quantity(bytesToBigInt(r)),
      s: quantity(bytesToBigInt(s)),
    }))
  }
  out.v = quantity(v)
  out.r = quantity(tx.r ?? 0n)
  out.s = quantity(tx.s ?? 0n)
  if (typed) out.yParity = quantity(v)
  return out
}

export interface RpcLog {
  address: Hex
  topics: Hex[]
  data: Hex
  blockNumber: Hex
  transactionHash: Hex
  transactionIndex: Hex
  blockHash: Hex
  blockTimestamp: Hex
  logIndex: Hex
  removed: false
}

/** What a log names of its block: read from the header and the stored receipts, without the block's body. */
export interface LogBlock {
  hash: Uint8Array
  number: bigint
  timestamp: bigint
  /** The hash of the block's `txIndex`-th transaction. */
  txHash(txIndex: number): Uint8Array
}

/** A block's LogBlock; its receipts (when stored) name the transaction hashes. */
export function logBlockOf(
  block: Pick<Block, 'hash' | 'header'> & { transactions?: Block['transactions'] },
  receipts?: StoredReceipt[],
): LogBlock {
  const { header } = block
  return {
    hash: block.hash(),
    number: header.number,
    timestamp: header.timestamp,
    txHash: (i) => receipts?.[i]?.txHash ?? (block.transactions as Block['transactions'])[i].hash(),
  }
}

/** A log of the `txIndex`-th transaction of `block`; `logIndex` counts logs across the whole block. */
export function formatLog(log: LogTuple, block: LogBlock, txIndex: number, logIndex: number): RpcLog {
  const [address, topics, payload] = log
  return {
    address: data(address),
    topics: topics.map(data),
    data: data(payload),
    blockNumber: quantity(block.number),
    transactionHash: data(block.txHash(txIndex)),
    transactionIndex: quantity(txIndex),
    blockHash: data(block.hash),
    blockTimestamp: quantity(block.timestamp),
    logIndex: quantity(logIndex),
    removed: false,
  }
}

/** The 2048-bit bloom of a receipt's logs (addresses and topics). */
export function logsBloom(logs: LogTuple[]): Uint8Array {
  const bloom = new Bloom()
  for (const [address, topics] of logs) {
    bloom.add(address)
    for (const topic of topics) bloom.add(topic)
  }
  return bloom.bitvector
}

/** geth's receipt fields (a Go map, so keys are sorted). */
export interface RpcReceipt {
  blockHash: Hex
  blockNumber: Hex
  contractAddress: Hex | null
  cumulativeGasUsed: Hex
  effectiveGasPrice: Hex
  from: Hex
  gasUsed: Hex
  logs: RpcLog[]
  logsBloom: Hex
  /** Byzantium on; before it receipts carry `root` instead. */
  status?: Hex
  root?: Hex
  to: Hex | null
  /** Blob transactions: blob gas used and the block's blob gas price. */
  blobGasUsed?: Hex
  blobGasPrice?: Hex
  transactionHash: Hex
  transactionIndex: Hex
  type: Hex
}

/**
 * The receipt of the `index`-th transaction of `block`. Gas used is the difference of cumulative gas; the first
 * log index is the number of logs of the transactions before it.
 */
export function formatReceipt(
  block: Block,
  receipts: StoredReceipt[],
  index: number,
  from: Address,
  firstLogIndex = countLogs(receipts, index),
): RpcReceipt {
  const tx = block.transactions[index]
  const receipt = receipts[index]
  const previous = index === 0 ? 0n : receipts[index - 1].cumulativeGasUsed
  const at = logBlockOf(block, receipts)
  const out: RpcReceipt = {
    blockHash: data(block.hash()),
    blockNumber: quantity(block.header.number),
    contractAddress: tx.to === undefined ? addressHex(createContractAddress(from, tx.nonce)) : null,
    cumulativeGasUsed: quantity(receipt.cumulativeGasUsed),
    effectiveGasPrice: quantity(effectiveGasPrice(tx, block.header.baseFeePerGas)),
    from: addressHex(from),
    gasUsed: quantity(receipt.cumulativeGasUsed - previous),
    logs: receipt.logs.map((log, i) => formatLog(log, at, index, firstLogIndex + i)),
    logsBloom: data(logsBloom(receipt.logs)),
    to: tx.to === undefined ? null : addressHex(tx.to),
    transactionHash: data(tx.hash()),
    transactionIndex: quantity(index),
    type: quantity(tx.type),
  }
  if (receipt.root !== undefined) out.root = data(receipt.root)
  else out.status = quantity(receipt.status)
  if (tx instanceof Blob4844Tx) {
    out.blobGasUsed = quantity(BigInt(tx.blobVersionedHashes.length) * BLOB_GAS_PER_BLOB)
    out.blobGasPrice = quantity(block.header.getBlobGasPrice())
  }
  return out
}

/** Number of logs of the receipts before `index`. */
export function countLogs(receipts: StoredReceipt[], index: number): number {
  let count = 0
  for (let i = 0; i < index; i++) count += receipts[i].logs.length
  return count
}

/** Every receipt of a block, in order. */
export function formatReceipts(
  block: Block,
  receipts: StoredReceipt[],
  senderOf: (tx: TypedTransaction, index: number) => Address,
): RpcReceipt[] {
  let logIndex = 0
  return block.transactions.map((tx, index) => {
    const receipt = formatReceipt(block, receipts, index, senderOf(tx, index), logIndex)
    logIndex += receipts[index].logs.length
    return receipt
  })
}

/** Encoded sizes of rendered blocks: the head is rendered for every poll, and encoding a block serializes every tx. */
const sizes = new WeakMap<Block, { extraData: Uint8Array; size: number }>()

/** The block's RLP size with `extraData` (its sealed form), as `size` reports it. */
function sizeOf(block: Block, extraData: Uint8Array): number {
  const known = sizes.get(block)
  if (known !== undefined && equalsBytes(known.extraData, extraData)) return known.size
  const size = RLP.encode(rawWithExtraData(block, extraData) as unknown as Uint8Array[]).length
  sizes.set(block, { extraData, size })
  return size
}

/** geth's block fields (a Go map, so keys are sorted); fork fields only where the header has them. */
export type RpcBlock = Record<string, unknown> & { hash: Hex; number: Hex; transactions: Hex[] | RpcTransaction[] }

export function formatBlock(block: Block, extraData: Uint8Array, transactions: Hex[] | RpcTransaction[]): RpcBlock {
  const h = block.header
  const out: Record<string, unknown> = {}
  if (h.baseFeePerGas !== undefined) out.baseFeePerGas = quantity(h.baseFeePerGas)
  if (h.blobGasUsed !== undefined) out.blobGasUsed = quantity(h.blobGasUsed)
  out.difficulty = quantity(h.difficulty)
  if (h.excessBlobGas !== undefined) out.excessBlobGas = quantity(h.excessBlobGas)
  out.extraData = data(extraData)
  out.gasLimit = quantity(h.gasLimit)
  out.gasUsed = quantity(h.gasUsed)
  out.hash = data(block.hash())
  out.logsBloom = data(h.logsBloom)
  out.miner = addressHex(h.coinbase)
  out.mixHash = data(h.mixHash)
  out.nonce = data(h.nonce)
  out.number = quantity(h.number)
  if (h.parentBeaconBlockRoot !== undefined) out.parentBeaconBlockRoot = data(h.parentBeaconBlockRoot)
  out.parentHash = data(h.parentHash)
  out.receiptsRoot = data(h.receiptTrie)
  if (h.requestsHash !== undefined) out.requestsHash = data(h.requestsHash)
  out.sha3Uncles = data(h.uncleHash)
  out.size = quantity(sizeOf(block, extraData))
  out.stateRoot = data(h.stateRoot)
  out.timestamp = quantity(h.timestamp)
  out.transactions = transactions
  out.transactionsRoot = data(h.transactionsTrie)
  out.uncles = block.uncleHeaders.map((uncle) => data(uncle.hash()))
  if (h.withdrawalsRoot !== undefined) {
    out.withdrawals = (block.withdrawals ?? []).map((w) => ({
      index: quantity(w.index),
      validatorIndex: quantity(w.validatorIndex),
      address: addressHex(w.address),
      amount: quantity(w.amount),
    }))
    out.withdrawalsRoot = data(h.withdrawalsRoot)
  }
  return out as RpcBlock
}
