/** Checking an eth_getProof answer the way a light client does: from the state root down, with @ethereumjs/mpt. */
import { verifyMerkleProof } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt, bytesToHex, hexToBytes, KECCAK256_RLP_S, setLengthLeft } from '@ethereumjs/util'
import { createCrypto } from '../../src/crypto/index.js'

const crypto = createCrypto()

export interface ProofAnswer {
  address: string
  balance: string | bigint
  nonce: string | bigint | number
  codeHash: string
  storageHash: string
  accountProof: string[]
  storageProof: { key: string; value: string | bigint; proof: string[] }[]
}

async function proven(root: string, key: Uint8Array, proof: string[]): Promise<Uint8Array | null> {
  // An empty trie has no node to show: geth answers an empty proof, which proves absence under the empty root.
  if (proof.length === 0) {
    if (root.toLowerCase() !== KECCAK256_RLP_S) throw new Error(`an empty proof under the non-empty root ${root}`)
    return null
  }
  const nodes = proof.map((p) => hexToBytes(p as `0x${string}`))
  if (nodes.length > 0 && bytesToHex(crypto.keccak256(nodes[0])) !== root.toLowerCase()) {
    throw new Error(`the proof's first node does not hash to the root ${root}`)
  }
  return verifyMerkleProof(crypto.keccak256(key), nodes)
}

/**
 * Verifies the account proof against `stateRoot` and each storage proof against the proven storage root;
 * returns what the proofs prove (throws if a proof is invalid or disagrees with the answer's fields).
 */
export async function verifyProof(
  stateRoot: string,
  answer: ProofAnswer,
): Promise<{ nonce: bigint; balance: bigint; storageRoot: string; codeHash: string; slots: bigint[] }> {
  const account = await proven(stateRoot, hexToBytes(answer.address as `0x${string}`), answer.accountProof)
  if (account === null) throw new Error(`the proof shows ${answer.address} absent`)
  const [nonce, balance, storageRoot, codeHash] = RLP.decode(account) as Uint8Array[]
  const proved = {
    nonce: bytesToBigInt(nonce),
    balance: bytesToBigInt(balance),
    storageRoot: bytesToHex(storageRoot),
    codeHash: bytesToHex(codeHash),
  }
  if (
    proved.nonce !== BigInt(answer.nonce) ||
    proved.balance !== BigInt(answer.balance) ||
    proved.storageRoot !== answer.storageHash.toLowerCase() ||
    proved.codeHash !== answer.codeHash.toLowerCase()
  ) {
    throw new Error(
      `the proven account ${JSON.stringify(proved, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))} differs from the answer`,
    )
  }
  const slots: bigint[] = []
  for (const entry of answer.storageProof) {
    const slot = setLengthLeft(hexToBytes(entry.key as `0x${string}`), 32)
    const stored = await proven(proved.storageRoot, slot, entry.proof)
    const value = stored === null ? 0n : bytesToBigInt(RLP.decode(stored) as Uint8Array)
    if (value !== BigInt(entry.value)) throw new Error(`slot ${entry.key}: proven ${value}, answered ${entry.value}`)
    slots.push(value)
  }
  return { ...proved, slots }
}
