import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { NetworkError } from './errors.js'

/** The libp2p identity of a node: its 32-byte secp256k1 key (for a validator, the validator key). */
export function nodePrivateKey(raw: Uint8Array): PrivateKey {
  if (raw.length !== 32)
    throw new NetworkError('UNSUPPORTED_PEER_KEY', { length: raw.length }, 'node key must be 32 bytes')
  const key = privateKeyFromRaw(raw)
  if (key.type !== 'secp256k1') throw new NetworkError('UNSUPPORTED_PEER_KEY', { type: key.type })
  return key
}

/** The peer id (`16Uiu2…`) of a 32-byte secp256k1 private key. */
export function peerIdOfPrivateKey(raw: Uint8Array): string {
  return peerIdFromPrivateKey(nodePrivateKey(raw)).toString()
}

/** The uncompressed 64-byte public key (no 0x04 prefix) inlined in a secp256k1 peer id. */
export function publicKeyOfPeer(peerId: string): Uint8Array {
  let parsed: ReturnType<typeof peerIdFromString>
  try {
    parsed = peerIdFromString(peerId)
  } catch {
    throw new NetworkError('UNSUPPORTED_PEER_KEY', { peerId }, `not a peer id: ${peerId}`)
  }
  if (parsed.type !== 'secp256k1') throw new NetworkError('UNSUPPORTED_PEER_KEY', { peerId, type: parsed.type })
  // The peer id carries the 33-byte compressed key; Ethereum addresses hash the uncompressed one.
  return secp256k1.Point.fromBytes(parsed.publicKey.raw).toBytes(false).subarray(1)
}

/** The Ethereum address of a peer: keccak256(uncompressed public key)[12:]. */
export function addressOfPeer(peerId: string, keccak256: (data: Uint8Array) => Uint8Array): Uint8Array {
  // A plain Uint8Array: a native keccak returns a Buffer, and bytes inside the node are Uint8Array.
  return Uint8Array.from(keccak256(publicKeyOfPeer(peerId)).subarray(12))
}

/** The peer id at the end of a `/…/p2p/<id>` multiaddr; throws when it has none. */
export function peerIdOfMultiaddr(addr: string): string {
  let components: ReturnType<ReturnType<typeof multiaddr>['getComponents']>
  try {
    components = multiaddr(addr).getComponents()
  } catch (err) {
    throw new NetworkError('INVALID_MULTIADDR', { addr, reason: (err as Error).message })
  }
  const peerId = components.findLast((c) => c.name === 'p2p')?.value
  if (peerId === undefined)
    throw new NetworkError('INVALID_MULTIADDR', { addr }, `multiaddr has no /p2p/<peerId>: ${addr}`)
  try {
    peerIdFromString(peerId)
  } catch (err) {
    throw new NetworkError('INVALID_MULTIADDR', { addr, reason: (err as Error).message }, `invalid peer id in ${addr}`)
  }
  return peerId
}
