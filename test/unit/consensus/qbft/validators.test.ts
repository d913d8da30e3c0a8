import { describe, expect, it } from 'vitest'
import { encodeExtraData, type QbftVote } from '../../../../src/consensus/qbft/extraData.js'
import {
  headerView,
  type QbftHeaderView,
  ValidatorProvider,
  ValidatorsError,
  validatorsInHeader,
  votingBlock,
} from '../../../../src/consensus/qbft/validators.js'
import { VoteTally } from '../../../../src/consensus/qbft/votes.js'
import { address, extraDataFor, makeHeader } from './helpers.js'

/** Small deterministic PRNG (mulberry32) so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function hashOf(number: number, salt: number): Uint8Array {
  const hash = new Uint8Array(32)
  new DataView(hash.buffer).setBigUint64(0, BigInt(number))
  hash[31] = salt
  return hash
}

function header(
  number: number,
  parent: QbftHeaderView | undefined,
  validators: Uint8Array[],
  coinbase: Uint8Array,
  vote: QbftVote | undefined,
  salt = 0,
): QbftHeaderView {
  return {
    number: BigInt(number),
    hash: hashOf(number, salt),
    parentHash: parent?.hash ?? new Uint8Array(32),
    coinbase,
    extraData: encodeExtraData(extraDataFor(validators, { vote })),
  }
}

const pool = Array.from({ length: 8 }, (_, i) => address(0x11 * (i + 1)))

/**
 * A valid chain of `length` headers with random votes by the proposers: each header lists the validators after
 * its parent, computed by a plain sequential tally.
 */
function generateChain(seed: number, length: number, epochLength: number): QbftHeaderView[] {
  const random = prng(seed)
  // Unsorted on purpose: the genesis list is sorted by whoever reads it.
  const genesisValidators = [pool[3], pool[0], pool[2], pool[1]]
  const tally = new VoteTally(genesisValidators)
  const headers = [header(0, undefined, genesisValidators, new Uint8Array(20), undefined)]
  tally.applyBlock(votingBlock(headers[0]), epochLength)
  for (let n = 1; n < length; n++) {
    const validators = tally.validators()
    const coinbase = validators[Math.floor(random() * validators.length)]
    let vote: QbftVote | undefined
    if (random() < 0.7) {
      const recipient = pool[Math.floor(random() * pool.length)]
      // Lean towards votes that change something, so that changes pass often.
      const add = random() < 0.8 ? !tally.isValidator(recipient) : random() < 0.5
      if (add || validators.length > 1) vote = { recipient, add }
    }
    headers.push(header(n, headers[n - 1], validators, coinbase, vote))
    tally.applyBlock(votingBlock(headers[n]), epochLength)
  }
  return headers
}

/** The reference answer: one tally replayed from genesis, block by block, no epoch restarts and no cache. */
function naiveValidatorsAfter(headers: QbftHeaderView[], epochLength: number): Uint8Array[][] {
  const tally = new VoteTally(validatorsInHeader(headers[0]))
  return headers.map((h) => {
    tally.applyBlock(votingBlock(h), epochLength)
    return tally.validators()
  })
}

function reader(headers: QbftHeaderView[]) {
  const stats = { reads: 0 }
  const getHeader = async (number: bigint) => {
    stats.reads++
    return headers[Number(number)]
  }
  return { stats, getHeader }
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

describe('ValidatorProvider matches a full replay from genesis', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: 400 blocks, epoch 30, random query order, tiny caches`, async () => {
      const epochLength = 30
      const headers = generateChain(seed, 400, epochLength)
      const expected = naiveValidatorsAfter(headers, epochLength)
      // The generated chain must actually exercise changes in the set.
      const sizes = new Set(expected.map((v) => v.length))
      const changes = expected.filter((v, i) => i > 0 && v.length !== expected[i - 1].length).length
      expect(sizes.size).toBeGreaterThan(1)
      expect(changes).toBeGreaterThan(5)

      const { getHeader } = reader(headers)
      const provider = new ValidatorProvider(
        { epochLength, recentTallies: 4, checkpointInterval: 16, checkpoints: 3 },
        { getHeader },
      )
      for (const n of shuffled([...headers.keys()], prng(seed + 100))) {
        const viaHeader = n % 2 === 0
        const answer = await provider.validatorsAfter(viaHeader ? headers[n] : BigInt(n))
        expect(answer, `validators after block ${n}`).toEqual(expected[n])
        expect(provider.cachedTallies).toBeLessThanOrEqual(4 + 3)
      }
      for (let n = 1; n < headers.length; n += 37) {
        expect(await provider.validatorsAt(BigInt(n))).toEqual(expected[n - 1])
      }
    })
  }

  it('follows imports without reading headers', async () => {
    const epochLength = 25
    const headers = generateChain(7, 300, epochLength)
    const expected = naiveValidatorsAfter(headers, epochLength)
    const { stats, getHeader } = reader(headers)
    const provider = new ValidatorProvider({ epochLength, recentTallies: 2 }, { getHeader })
    for (const h of headers) {
      expect(provider.onBlockImported({ ...h, parentHash: h.parentHash! })).toBe(true)
      expect(await provider.validatorsAfter(h)).toEqual(expected[Number(h.number)])
      expect((await provider.tallyAfter(h)).validators()).toEqual(expected[Number(h.number)])
    }
    expect(stats.reads).toBe(0)
    expect(provider.cachedTallies).toBeLessThanOrEqual(2 + 64 + 1)
  })
})

describe('ValidatorProvider reads and cache', () => {
  const epochLength = 100
  const headers = generateChain(11, 350, epochLength)
  const expected = naiveValidatorsAfter(headers, epochLength)

  it('walks back no further than the last epoch block, then no further than a checkpoint', async () => {
    const { stats, getHeader } = reader(headers)
    const provider = new ValidatorProvider({ epochLength, checkpointInterval: 16 }, { getHeader })
    expect(await provider.validatorsAfter(349n)).toEqual(expected[349])
    expect(stats.reads).toBe(50) // blocks 349 down to the epoch block 300
    stats.reads = 0
    expect(await provider.validatorsAfter(340n)).toEqual(expected[340])
    expect(stats.reads).toBe(4) // 340 down to 337, whose parent is the checkpoint at 336
    stats.reads = 0
    expect(await provider.validatorsAfter(349n)).toEqual(expected[349])
    expect(stats.reads).toBe(1) // the header, to learn its hash; the tally is cached
    stats.reads = 0
    expect(await provider.validatorsAfter(headers[349])).toEqual(expected[349])
    expect(stats.reads).toBe(0)
  })

  it('keeps the imported head although history queries fill the cache', async () => {
    const { stats, getHeader } = reader(headers)
    const provider = new ValidatorProvider({ epochLength, recentTallies: 2, checkpoints: 1 }, { getHeader })
    for (const h of headers) provider.onBlockImported({ ...h, parentHash: h.parentHash! })
    for (const n of [10n, 120n, 230n, 260n]) await provider.validatorsAfter(n)
    expect(provider.cachedTallies).toBeLessThanOrEqual(4)
    stats.reads = 0
    expect(await provider.validatorsAfter(headers[349])).toEqual(expected[349])
    expect(stats.reads).toBe(0)
  })

  it('uses a cached parent named by parentHash without reading it', async () => {
    const { stats, getHeader } = reader(headers)
    const provider = new ValidatorProvider({ epochLength }, { getHeader })
    await provider.validatorsAfter(headers[200])
    stats.reads = 0
    expect(await provider.validatorsAfter(headers[201])).toEqual(expected[201])
    expect(stats.reads).toBe(0)
  })

  it('declines the fast path when the parent tally is unknown', () => {
    const provider = new ValidatorProvider({ epochLength }, reader(headers))
    expect(provider.onBlockImported({ ...headers[150], parentHash: headers[149].hash })).toBe(false)
    expect(provider.onBlockImported({ ...headers[200], parentHash: headers[199].hash })).toBe(true)
    expect(provider.onBlockImported({ ...headers[201], parentHash: headers[200].hash })).toBe(true)
  })

  it('reports unknown and non-canonical blocks', async () => {
    const provider = new ValidatorProvider({ epochLength }, reader(headers))
    await expect(provider.validatorsAfter(1000n)).rejects.toMatchObject({ code: 'UNKNOWN_BLOCK' })
    expect(await provider.validatorsAt(1000n)).toBeUndefined()
    const stranger = header(151, undefined, expected[150], expected[150][0], undefined, 9)
    stranger.parentHash = hashOf(150, 9)
    await expect(provider.validatorsAfter(stranger)).rejects.toBeInstanceOf(ValidatorsError)
    await expect(provider.validatorsAfter(stranger)).rejects.toMatchObject({ code: 'NOT_CANONICAL' })
  })

  it('answers the genesis validators, sorted, for block 0', async () => {
    const provider = new ValidatorProvider({ epochLength }, reader(headers))
    expect(await provider.validatorsAfter(0n)).toEqual([pool[0], pool[1], pool[2], pool[3]])
    expect(await provider.validatorsAt(0n)).toEqual([pool[0], pool[1], pool[2], pool[3]])
  })

  it('rejects nonsensical options', () => {
    expect(() => new ValidatorProvider({ epochLength: 0 }, reader(headers))).toThrow(RangeError)
    expect(() => new ValidatorProvider({ epochLength, recentTallies: 0 }, reader(headers))).toThrow(RangeError)
  })
})

describe('headerView', () => {
  it('takes the fields from an @ethereumjs header', () => {
    const validators = [address(0x10), address(0x20)]
    const h = makeHeader(extraDataFor(validators, { vote: { recipient: address(0x30), add: true } }), 5n)
    const view = headerView(h)
    expect(view.number).toBe(5n)
    expect(view.hash).toEqual(h.hash())
    expect(view.parentHash).toEqual(h.parentHash)
    expect(view.coinbase).toEqual(validators[0])
    expect(votingBlock(view)).toEqual({
      number: 5n,
      coinbase: validators[0],
      vote: { recipient: address(0x30), add: true },
    })
    expect(validatorsInHeader(view)).toEqual(validators)
  })
})
