/**
 * Key and value layouts of the chain indexes. Numbers are big-endian and fixed-width, so that LevelDB's byte order
 * is chain order: a range read over one address (or topic) walks its blocks and transactions in order.
 */
import { concatBytes } from '@ethereumjs/util'

/** Where a transaction sits in the chain. */
export interface TxPosition {
  blockNumber: bigint
  index: number
}

export const ADDRESS_BYTES = 20
export const TOPIC_BYTES = 32
const U64_MAX = (1n << 64n) - 1n

export function encodeU64(value: bigint): Uint8Array {
  if (value < 0n || value > U64_MAX) throw new RangeError(`${value} does not fit in 64 bits`)
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, value)
  return out
}

export function decodeU64(bytes: Uint8Array, offset = 0): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset)
}

function encodeU32(value: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value)
  return out
}

function decodeU32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset)
}

function checkLength(what: string, bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length !== length) throw new RangeError(`${what} must be ${length} bytes, got ${bytes.length}`)
  return bytes
}

/** The part of a log-address key before the block number. */
export function logAddressPrefix(address: Uint8Array): Uint8Array {
  return checkLength('address', address, ADDRESS_BYTES)
}

/** Log index, by address: address ‖ block. */
export function logAddressKey(address: Uint8Array, blockNumber: bigint): Uint8Array {
  return concatBytes(logAddressPrefix(address), encodeU64(blockNumber))
}

/** The part of a log-topic key before the block number: position ‖ topic. */
export function logTopicPrefix(position: number, topic: Uint8Array): Uint8Array {
  if (!Number.isInteger(position) || position < 0 || position > 3) throw new RangeError('topic position must be 0..3')
  return concatBytes(Uint8Array.of(position), checkLength('topic', topic, TOPIC_BYTES))
}

/** Log index, by topic: position ‖ topic ‖ block. */
export function logTopicKey(position: number, topic: Uint8Array, blockNumber: bigint): Uint8Array {
  return concatBytes(logTopicPrefix(position, topic), encodeU64(blockNumber))
}

/** The block number at the end of a log-index key. */
export function blockNumberOfLogKey(key: Uint8Array): bigint {
  return decodeU64(key, key.length - 8)
}

export function encodePosition(position: TxPosition): Uint8Array {
  return concatBytes(encodeU64(position.blockNumber), encodeU32(position.index))
}

export function decodePosition(bytes: Uint8Array, offset = 0): TxPosition {
  return { blockNumber: decodeU64(bytes, offset), index: decodeU32(bytes, offset + 8) }
}

/** Address appearances: address ‖ block ‖ tx index. */
export function appearanceKey(address: Uint8Array, position: TxPosition): Uint8Array {
  return concatBytes(checkLength('address', address, ADDRESS_BYTES), encodePosition(position))
}

export function positionOfAppearanceKey(key: Uint8Array): TxPosition {
  return decodePosition(key, ADDRESS_BYTES)
}

/** Sender ‖ nonce. */
export function senderNonceKey(sender: Uint8Array, nonce: bigint): Uint8Array {
  return concatBytes(checkLength('sender', sender, ADDRESS_BYTES), encodeU64(nonce))
}

/** Where a contract was created and by whom. */
export interface ContractCreation extends TxPosition {
  creator: Uint8Array
}

export function encodeCreation(creation: ContractCreation): Uint8Array {
  return concatBytes(encodePosition(creation), checkLength('creator', creation.creator, ADDRESS_BYTES))
}

export function decodeCreation(bytes: Uint8Array): ContractCreation {
  return { ...decodePosition(bytes), creator: new Uint8Array(bytes.subarray(12, 12 + ADDRESS_BYTES)) }
}
