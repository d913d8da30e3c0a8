import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import {
  addressOfPeer,
  backoffDelay,
  decodeStatus,
  encodeStatus,
  NetworkError,
  peerIdOfMultiaddr,
  peerIdOfPrivateKey,
  statusMismatch,
} from '../../../src/net/index.js'
import { addressOf, chainStatus, crypto, GENESIS, nodeKey, OTHER_GENESIS } from './harness.js'

describe('net identity', () => {
  it('maps a secp256k1 peer id to the Ethereum address of its key', () => {
    for (const index of [1, 2, 3]) {
      const key = nodeKey(index)
      const peerId = peerIdOfPrivateKey(key)
      expect(peerId.startsWith('16Uiu2')).toBe(true)
      expect(addressOfPeer(peerId, crypto.keccak256)).toEqual(addressOf(key))
    }
  })

  it('refuses a peer id that is not a secp256k1 key', async () => {
    const ed25519 = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    expect(() => addressOfPeer(ed25519, crypto.keccak256)).toThrow(NetworkError)
    expect(() => addressOfPeer('not-a-peer-id', crypto.keccak256)).toThrow(/not a peer id/)
  })

  it('reads the peer id of a static peer multiaddr and rejects one without /p2p', () => {
    const peerId = peerIdOfPrivateKey(nodeKey(1))
    expect(peerIdOfMultiaddr(`/ip4/127.0.0.1/tcp/30303/p2p/${peerId}`)).toBe(peerId)
    expect(() => peerIdOfMultiaddr('/ip4/127.0.0.1/tcp/30303')).toThrow(/no \/p2p/)
    expect(() => peerIdOfMultiaddr('garbage')).toThrow(NetworkError)
  })
})

describe('status codec', () => {
  it('round-trips [chainId, genesisHash, headNumber, headHash]', () => {
    const status = chainStatus(GENESIS, 123_456n)
    expect(decodeStatus(encodeStatus(status))).toEqual(status)
    const genesis = chainStatus(GENESIS, 0n)
    expect(decodeStatus(encodeStatus(genesis))).toEqual(genesis)
  })

  it('rejects malformed status payloads with MALFORMED_STATUS', () => {
    for (const bad of [
      new Uint8Array([0xff, 0x01]),
      new Uint8Array(),
      new Uint8Array([0xc0]),
      encodeStatus(chainStatus()).slice(0, 20),
    ]) {
      expect(() => decodeStatus(bad)).toThrow(expect.objectContaining({ code: 'MALFORMED_STATUS' }))
    }
  })

  it('rules out another chain id or genesis but not another head', () => {
    expect(statusMismatch(chainStatus(), chainStatus(GENESIS, 99n))).toBeUndefined()
    expect(statusMismatch(chainStatus(), chainStatus(OTHER_GENESIS))).toMatch(/genesis/)
    expect(statusMismatch(chainStatus(), { ...chainStatus(), chainId: 1n })).toMatch(/chain id/)
  })
})

describe('redial backoff', () => {
  it('doubles from 1 s and caps at 30 s', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 50].map((attempt) => backoffDelay(attempt, 1_000, 30_000))
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000])
  })
})
