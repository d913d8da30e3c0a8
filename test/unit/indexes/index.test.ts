import { rmSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Prefix } from '../../../src/db/index.js'
import { ChainIndex } from '../../../src/indexes/index.js'
import {
  appearanceKey,
  decodeCreation,
  decodeU64,
  encodeCreation,
  encodePosition,
  encodeU64,
  logAddressKey,
  logTopicKey,
  positionOfAppearanceKey,
  senderNonceKey,
} from '../../../src/indexes/keys.js'
import { tempDir } from '../../helpers/node.js'

const address = (byte: number) => new Uint8Array(20).fill(byte)
const topic = (byte: number) => new Uint8Array(32).fill(byte)
const EMPTY = new Uint8Array(0)

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

describe('index key encodings', () => {
  it('sorts keys in chain order: big-endian fixed-width block numbers and tx indexes', () => {
    const positions = [
      { blockNumber: 1n, index: 0 },
      { blockNumber: 1n, index: 1 },
      { blockNumber: 1n, index: 256 },
      { blockNumber: 255n, index: 0 },
      { blockNumber: 256n, index: 0 },
      { blockNumber: 2n ** 40n, index: 3 },
    ]
    const keys = positions.map((p) => appearanceKey(address(7), p))
    const sorted = [...keys].sort(compareBytes)
    expect(sorted).toEqual(keys)
    expect(keys.map(positionOfAppearanceKey)).toEqual(positions)
    expect(compareBytes(logAddressKey(address(1), 300n), logAddressKey(address(1), 2n))).toBeGreaterThan(0)
    expect(compareBytes(logTopicKey(0, topic(9), 5n), logTopicKey(1, topic(1), 1n))).toBeLessThan(0)
  })

  it('round-trips numbers, positions and creations, and refuses malformed parts', () => {
    expect(decodeU64(encodeU64(2n ** 64n - 1n))).toBe(2n ** 64n - 1n)
    expect(() => encodeU64(2n ** 64n)).toThrow(/64 bits/)
    expect(() => encodeU64(-1n)).toThrow(/64 bits/)
    const creation = { blockNumber: 12n, index: 3, creator: address(0xab) }
    expect(decodeCreation(encodeCreation(creation))).toEqual(creation)
    expect(encodePosition({ blockNumber: 1n, index: 2 })).toEqual(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2))
    expect(() => logAddressKey(new Uint8Array(19), 1n)).toThrow(/address must be 20 bytes/)
    expect(() => logTopicKey(4, topic(1), 1n)).toThrow(/0\.\.3/)
    expect(() => logTopicKey(0, new Uint8Array(31), 1n)).toThrow(/topic must be 32 bytes/)
    expect(senderNonceKey(address(1), 5n)).toHaveLength(28)
  })
})

describe('ChainIndex queries on committed records', () => {
  let dir: string
  let db: Database
  let index: ChainIndex

  beforeEach(async () => {
    dir = tempDir('polis-indexes-')
    db = await Database.open(dir)
    index = new ChainIndex(db)
  })

  afterEach(async () => {
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Block n has logs from `emitters` with `topics[i]` at position i. */
  function logsAt(n: bigint, emitters: number[], topics: number[][]): void {
    for (const a of emitters) db.put(Prefix.LogAddress, logAddressKey(address(a), n), EMPTY)
    topics.forEach((values, position) => {
      for (const t of values) db.put(Prefix.LogTopic, logTopicKey(position, topic(t), n), EMPTY)
    })
    db.put(Prefix.LogBlock, encodeU64(n), EMPTY)
  }

  it('finds log blocks: addresses OR-ed, topic lists OR-ed, positions AND-ed, nulls match any, within the range', async () => {
    logsAt(1n, [0xa], [[1], [2]])
    logsAt(2n, [0xb], [[1], [3]])
    logsAt(3n, [0xa, 0xb], [[4]])
    logsAt(300n, [0xa], [[1], [2]])
    await db.commit()
    const q = (q: Partial<Parameters<ChainIndex['logBlocks']>[0]>) =>
      index.logBlocks({ fromBlock: 0n, toBlock: 1000n, addresses: [], topics: [], ...q })
    expect(await q({})).toEqual([1n, 2n, 3n, 300n])
    expect(await q({ fromBlock: 2n, toBlock: 299n })).toEqual([2n, 3n])
    expect(await q({ addresses: [address(0xa)] })).toEqual([1n, 3n, 300n])
    expect(await q({ addresses: [address(0xa), address(0xb)], toBlock: 3n })).toEqual([1n, 2n, 3n])
    expect(await q({ topics: [[topic(1)]] })).toEqual([1n, 2n, 300n])
    expect(await q({ topics: [undefined, [topic(3), topic(2)]] })).toEqual([1n, 2n, 300n])
    expect(await q({ topics: [[topic(1)], [topic(3)]] })).toEqual([2n])
    expect(await q({ addresses: [address(0xa)], topics: [[topic(1), topic(4)], []] })).toEqual([1n, 3n, 300n])
    expect(await q({ addresses: [address(0xc)] })).toEqual([])
    expect(await q({ fromBlock: 5n, toBlock: 4n })).toEqual([])
  })

  it('does not see staged records until they are committed', async () => {
    logsAt(1n, [0xa], [])
    expect(await index.logBlocks({ fromBlock: 0n, toBlock: 9n, addresses: [], topics: [] })).toEqual([])
    await db.commit()
    expect(await index.logBlocks({ fromBlock: 0n, toBlock: 9n, addresses: [], topics: [] })).toEqual([1n])
  })

  it('pages address appearances newest first before a cursor and oldest first after one', async () => {
    const mine = [
      { blockNumber: 1n, index: 0 },
      { blockNumber: 1n, index: 4 },
      { blockNumber: 7n, index: 2 },
      { blockNumber: 256n, index: 0 },
    ]
    for (const p of mine) db.put(Prefix.Appearance, appearanceKey(address(5), p), EMPTY)
    // Neighbouring addresses must never leak into the answer.
    db.put(Prefix.Appearance, appearanceKey(address(4), { blockNumber: 3n, index: 0 }), EMPTY)
    db.put(Prefix.Appearance, appearanceKey(address(6), { blockNumber: 3n, index: 0 }), EMPTY)
    await db.commit()
    const newest = { before: { blockNumber: 1000n, index: 0 } }
    expect(await index.appearances(address(5), newest, 10)).toEqual([...mine].reverse())
    expect(await index.appearances(address(5), newest, 2)).toEqual([mine[3], mine[2]])
    expect(await index.appearances(address(5), { before: mine[2] }, 10)).toEqual([mine[1], mine[0]])
    expect(await index.appearances(address(5), { after: { blockNumber: 0n, index: 0 } }, 10)).toEqual(mine)
    expect(await index.appearances(address(5), { after: mine[0] }, 2)).toEqual([mine[1], mine[2]])
    expect(await index.appearances(address(5), { after: mine[3] }, 10)).toEqual([])
    expect(await index.appearances(address(0xff), newest, 10)).toEqual([])
    expect(await index.appearances(address(5), newest, 0)).toEqual([])
  })

  it('finds a transaction by sender and nonce, and a contract creator', async () => {
    db.put(Prefix.SenderNonce, senderNonceKey(address(1), 3n), encodePosition({ blockNumber: 9n, index: 2 }))
    db.put(Prefix.ContractCreator, address(2), encodeCreation({ blockNumber: 9n, index: 2, creator: address(1) }))
    await db.commit()
    expect(await index.txBySenderAndNonce(address(1), 3n)).toEqual({ blockNumber: 9n, index: 2 })
    expect(await index.txBySenderAndNonce(address(1), 4n)).toBeUndefined()
    expect(await index.txBySenderAndNonce(address(1), 2n ** 64n)).toBeUndefined()
    expect(await index.contractCreator(address(2))).toEqual({ blockNumber: 9n, index: 2, creator: address(1) })
    expect(await index.contractCreator(address(1))).toBeUndefined()
  })
})
