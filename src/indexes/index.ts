/**
 * Chain indexes, written at import in the same atomic batch as the block (see Chain.doImport), read on committed data.
 *
 * Records (prefixes in db/keys.ts, layouts in ./keys.ts; numbers big-endian fixed-width, so key order = chain order):
 * - log index: address ‖ block, topic position ‖ topic ‖ block, and every block holding a log → eth_getLogs, filters
 *   and log subscriptions find candidate blocks without reading every header's bloom;
 * - address appearances: address ‖ block ‖ tx index for every transaction where the address is the sender, the
 *   recipient, a created contract, or the from/to of any internal message (CALL, CALLCODE, DELEGATECALL, STATICCALL,
 *   CREATE, CREATE2; reverted ones included), as Erigon indexes them for Otterscan's ots_searchTransactionsBefore/After;
 * - sender ‖ nonce → transaction position (ots_getTransactionBySenderAndNonce);
 * - contract → creation position and creator (the sender for a top-level creation, the contract that ran
 *   CREATE/CREATE2 otherwise; only creations that survived their transaction) (ots_getContractCreator).
 *
 * Queries (class ChainIndex, available as `chain.index`):
 * - `logBlocks({ fromBlock, toBlock, addresses, topics })`: ascending numbers of the blocks in the range that hold a
 *   log that may match (addresses OR-ed; each topic position's list OR-ed, positions AND-ed; undefined/empty = any).
 *   The caller still matches the receipts' logs exactly (a block may match address and topics in different logs).
 * - `appearances(address, { before } | { after }, limit)`: positions (block number, tx index) strictly before the
 *   cursor, newest first, or strictly after it, oldest first. "Newest" is `{ before: { blockNumber: head + 1n,
 *   index: 0 } }`, "oldest" `{ after: { blockNumber: 0n, index: 0 } }` (block 0 has no transactions).
 * - `txBySenderAndNonce(sender, nonce)`: the position of the sender's transaction with that nonce, if mined.
 * - `contractCreator(address)`: position and creator of the creation of the contract now at `address`, if any.
 */
import { type Database, Prefix, type PrefixByte } from '../db/index.js'
import {
  ADDRESS_BYTES,
  blockNumberOfLogKey,
  type ContractCreation,
  decodeCreation,
  decodePosition,
  encodePosition,
  encodeU64,
  logAddressPrefix,
  logTopicPrefix,
  positionOfAppearanceKey,
  senderNonceKey,
  type TxPosition,
} from './keys.js'

export type { ContractCreation, TxPosition } from './keys.js'
export { type BlockIndexInput, writeBlockIndexes } from './write.js'

export interface LogIndexQuery {
  fromBlock: bigint
  toBlock: bigint
  /** Any of these emitters; empty = any. */
  addresses: readonly Uint8Array[]
  /** By position: any of the listed topics; undefined or empty = any. */
  topics: readonly (readonly Uint8Array[] | undefined)[]
}

export type AppearanceCursor = { before: TxPosition } | { after: TxPosition }

export class ChainIndex {
  constructor(private readonly db: Database) {}

  async logBlocks(query: LogIndexQuery): Promise<bigint[]> {
    const { fromBlock, toBlock } = query
    if (fromBlock > toBlock) return []
    const sets: Set<bigint>[] = []
    if (query.addresses.length > 0) {
      sets.push(await this.union(Prefix.LogAddress, query.addresses.map(logAddressPrefix), fromBlock, toBlock))
    }
    for (const [position, topics] of query.topics.entries()) {
      if (topics === undefined || topics.length === 0) continue
      sets.push(
        await this.union(
          Prefix.LogTopic,
          topics.map((t) => logTopicPrefix(position, t)),
          fromBlock,
          toBlock,
        ),
      )
    }
    if (sets.length === 0) return this.blocksUnder(Prefix.LogBlock, new Uint8Array(0), fromBlock, toBlock)
    sets.sort((a, b) => a.size - b.size)
    const [smallest, ...others] = sets
    const result = [...smallest].filter((n) => others.every((s) => s.has(n)))
    return result.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }

  async appearances(address: Uint8Array, cursor: AppearanceCursor, limit: number): Promise<TxPosition[]> {
    if (address.length !== ADDRESS_BYTES) throw new RangeError(`address must be ${ADDRESS_BYTES} bytes`)
    if (!Number.isInteger(limit) || limit <= 0) return []
    const out: TxPosition[] = []
    const range =
      'before' in cursor
        ? { gte: address, lt: concat(address, encodePosition(cursor.before)), reverse: true, limit }
        : { gte: concat(address, encodePosition(after(cursor.after))), lt: nextPrefix(address), limit }
    for await (const key of this.db.keys(Prefix.Appearance, range)) out.push(positionOfAppearanceKey(key))
    return out
  }

  async txBySenderAndNonce(sender: Uint8Array, nonce: bigint): Promise<TxPosition | undefined> {
    if (nonce < 0n || nonce >= 1n << 64n) return undefined
    const value = await this.db.get(Prefix.SenderNonce, senderNonceKey(sender, nonce))
    return value === undefined ? undefined : decodePosition(value)
  }

  async contractCreator(address: Uint8Array): Promise<ContractCreation | undefined> {
    const value = await this.db.get(Prefix.ContractCreator, address)
    return value === undefined ? undefined : decodeCreation(value)
  }

  /** Block numbers in from..to under any of `prefixes` (each followed by a block number). */
  private async union(prefix: PrefixByte, prefixes: Uint8Array[], from: bigint, to: bigint): Promise<Set<bigint>> {
    const out = new Set<bigint>()
    for (const p of prefixes) for (const n of await this.blocksUnder(prefix, p, from, to)) out.add(n)
    return out
  }

  private async blocksUnder(prefix: PrefixByte, keyPrefix: Uint8Array, from: bigint, to: bigint): Promise<bigint[]> {
    const out: bigint[] = []
    const range = { gte: concat(keyPrefix, encodeU64(from)), lt: concat(keyPrefix, encodeU64(to + 1n)) }
    for await (const key of this.db.keys(prefix, range)) out.push(blockNumberOfLogKey(key))
    return out
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** The first position after `p` (keys are block ‖ index, so index + 1 is the next key). */
function after(p: TxPosition): TxPosition {
  return p.index >= 0xffffffff ? { blockNumber: p.blockNumber + 1n, index: 0 } : { ...p, index: p.index + 1 }
}

/** The smallest key greater than every key starting with `prefix` (prefix ‖ 0xff… excluded). */
function nextPrefix(prefix: Uint8Array): Uint8Array | undefined {
  const out = prefix.slice()
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] < 0xff) {
      out[i]++
      return out.subarray(0, i + 1)
    }
  }
  return undefined
}
