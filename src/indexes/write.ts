/** Derives a block's index records and stages them in the import batch (Chain.doImport commits them with the block). */
import type { Block } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'
import type { LogTuple } from '../chain/receipts.js'
import { type Database, Prefix } from '../db/index.js'
import type { TxTouches } from '../execution/index.js'
import {
  appearanceKey,
  encodeCreation,
  encodePosition,
  encodeU64,
  logAddressKey,
  logTopicKey,
  senderNonceKey,
} from './keys.js'

const EMPTY = new Uint8Array(0)

export interface BlockIndexInput {
  block: Block
  /** Logs of each transaction, in block order. */
  logs: LogTuple[][]
  /** Per transaction, from the block's execution. */
  touches: TxTouches[]
}

export function writeBlockIndexes(db: Database, { block, logs, touches }: BlockIndexInput): void {
  const blockNumber = block.header.number
  if (touches.length !== block.transactions.length) {
    throw new Error(`block ${blockNumber}: ${touches.length} execution traces for ${block.transactions.length} txs`)
  }
  writeLogIndex(db, blockNumber, logs)
  block.transactions.forEach((tx, index) => {
    const position = { blockNumber, index }
    const sender = tx.getSenderAddress().bytes
    db.put(Prefix.SenderNonce, senderNonceKey(sender, tx.nonce), encodePosition(position))
    const seen = new Set<string>()
    const appear = (address: Uint8Array): void => {
      const id = bytesToHex(address)
      if (seen.has(id)) return
      seen.add(id)
      db.put(Prefix.Appearance, appearanceKey(address, position), EMPTY)
    }
    appear(sender)
    if (tx.to !== undefined) appear(tx.to.bytes)
    const { addresses, created } = touches[index]
    for (const address of addresses) appear(address)
    for (const creation of created) {
      appear(creation.address)
      db.put(Prefix.ContractCreator, creation.address, encodeCreation({ ...position, creator: creation.creator }))
    }
  })
}

function writeLogIndex(db: Database, blockNumber: bigint, logs: LogTuple[][]): void {
  const seen = new Set<string>()
  for (const txLogs of logs) {
    for (const [address, topics] of txLogs) {
      const addressId = bytesToHex(address)
      if (!seen.has(addressId)) {
        seen.add(addressId)
        db.put(Prefix.LogAddress, logAddressKey(address, blockNumber), EMPTY)
      }
      topics.forEach((topic, position) => {
        const topicId = `${position}${bytesToHex(topic)}`
        if (seen.has(topicId)) return
        seen.add(topicId)
        db.put(Prefix.LogTopic, logTopicKey(position, topic, blockNumber), EMPTY)
      })
    }
  }
  if (seen.size > 0) db.put(Prefix.LogBlock, encodeU64(blockNumber), EMPTY)
}
