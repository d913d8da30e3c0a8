import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt, bytesToInt, intToBytes } from '@ethereumjs/util'

export type LogTuple = [address: Uint8Array, topics: Uint8Array[], data: Uint8Array]

/** What the chain stores per transaction; gas used, contract address and gas price are derived on read. */
export interface StoredReceipt {
  /** 1 = success (Byzantium on; before Byzantium receipts carry `root` and status reads 1). */
  status: 0 | 1
  /** The state root after the transaction, which receipts held before Byzantium instead of a status. */
  root?: Uint8Array
  cumulativeGasUsed: bigint
  logs: LogTuple[]
  /** The transaction's hash, so that logs can be served without reading and re-hashing the block's transactions. */
  txHash: Uint8Array
}

export function encodeReceipts(receipts: StoredReceipt[]): Uint8Array {
  return RLP.encode(
    receipts.map((r) => [r.root ?? intToBytes(r.status), bigIntToUnpaddedBytes(r.cumulativeGasUsed), r.logs, r.txHash]),
  )
}

export function decodeReceipts(bytes: Uint8Array): StoredReceipt[] {
  const list = RLP.decode(bytes) as unknown as [Uint8Array, Uint8Array, LogTuple[], Uint8Array][]
  return list.map(([status, cumulative, logs, txHash]) => ({
    // A 32-byte first field is a pre-Byzantium state root.
    ...(status.length === 32 ? { root: status } : {}),
    status: (status.length === 32 ? 1 : status.length === 0 ? 0 : bytesToInt(status)) as 0 | 1,
    cumulativeGasUsed: bytesToBigInt(cumulative),
    logs,
    txHash,
  }))
}

export interface TxLocation {
  blockNumber: bigint
  index: number
}

export function encodeTxLocation(location: TxLocation): Uint8Array {
  return RLP.encode([bigIntToUnpaddedBytes(location.blockNumber), intToBytes(location.index)])
}

export function decodeTxLocation(bytes: Uint8Array): TxLocation {
  const [number, index] = RLP.decode(bytes) as Uint8Array[]
  return { blockNumber: bytesToBigInt(number), index: index.length === 0 ? 0 : bytesToInt(index) }
}

export interface Seals {
  round: number
  committedSeals: Uint8Array[]
}

export function encodeSeals(seals: Seals): Uint8Array {
  return RLP.encode([intToBytes(seals.round), seals.committedSeals])
}

export function decodeSeals(bytes: Uint8Array): Seals {
  const [round, committedSeals] = RLP.decode(bytes) as unknown as [Uint8Array, Uint8Array[]]
  return { round: round.length === 0 ? 0 : bytesToInt(round), committedSeals }
}
