import { createMPT } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { createCrypto } from '../../../src/crypto/index.js'
import { TrieRootBuilder } from '../../../src/execution/trieRoot.js'

const crypto = createCrypto()
const builder = new TrieRootBuilder(crypto.keccak256)

/** A deterministic pseudo-random source, so a failure is reproducible. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state % n
  }
}

function bytes(next: (n: number) => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => next(256))
}

async function referenceRoot(entries: [Uint8Array, Uint8Array][]): Promise<string> {
  const trie = await createMPT({})
  for (const [key, value] of entries) await trie.put(key, value)
  return bytesToHex(trie.root())
}

describe('TrieRootBuilder', () => {
  it('gives the root @ethereumjs/mpt gives for block-style tries of many sizes', async () => {
    const next = random(1)
    for (const count of [0, 1, 2, 3, 15, 16, 17, 127, 128, 129, 300, 1000]) {
      // Short values make embedded (< 32 byte) nodes, long ones hashed nodes.
      const values = Array.from({ length: count }, (_, i) => bytes(next, i % 3 === 0 ? 1 + next(8) : 20 + next(200)))
      const expected = await referenceRoot(values.map((v, i) => [RLP.encode(i), v]))
      expect(bytesToHex(builder.orderedRoot(values)), `${count} items`).toBe(expected)
    }
  })

  it('gives the same root for arbitrary keys, including keys that are prefixes of others', async () => {
    const next = random(2)
    for (let round = 0; round < 40; round++) {
      const entries = new Map<string, [Uint8Array, Uint8Array]>()
      const count = 1 + next(60)
      for (let i = 0; i < count; i++) {
        const key = bytes(next, 1 + next(4))
        entries.set(bytesToHex(key), [key, bytes(next, 1 + next(50))])
        // A key that extends an existing one puts a value into a branch node.
        if (next(4) === 0) {
          const longer = Uint8Array.from([...key, next(256)])
          entries.set(bytesToHex(longer), [longer, bytes(next, 1 + next(50))])
        }
      }
      const list = [...entries.values()]
      expect(bytesToHex(builder.root(list)), `round ${round}`).toBe(await referenceRoot(list))
    }
  })

  it('treats empty values as absent and refuses duplicate keys', async () => {
    const a = Uint8Array.of(1)
    expect(bytesToHex(builder.root([[a, new Uint8Array()]]))).toBe(await referenceRoot([]))
    expect(() =>
      builder.root([
        [a, Uint8Array.of(1)],
        [a, Uint8Array.of(2)],
      ]),
    ).toThrow(/duplicate/)
  })
})
