import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes, type PrefixedHexString } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { QbftError } from '../../../../src/consensus/qbft/errors.js'
import {
  commitSealExtraData,
  decodeExtraData,
  encodeExtraData,
  genesisExtraData,
  hashingExtraData,
  type QbftExtraData,
} from '../../../../src/consensus/qbft/extraData.js'
import { address, extraDataFor } from './helpers.js'

function seal(r: number, s: number, v: number): Uint8Array {
  const out = new Uint8Array(65)
  out[31] = r
  out[63] = s
  out[64] = v
  return out
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(QbftError)
    expect((err as QbftError).code).toBe(code)
    return
  }
  throw new Error(`expected QbftError ${code}, nothing was thrown`)
}

const ZERO_VANITY_HEX = '00'.repeat(32)

// Besu QbftExtraDataCodecTest.RAW_HEX_ENCODING_STRING: vanity 0x01..0x20, validators 0x…01 and 0x…02,
// ADD vote for 0x…01, round 0xFEDCBA, seals (r=1, s=10, v=0) and (r=10, s=1, v=0).
const BESU_CODEC_VECTOR: PrefixedHexString = `0x${
  'f8f0a00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20ea940000000000000000' +
  '000000000000000000000001940000000000000000000000000000000000000002d7940000000000000000' +
  '00000000000000000000000181ff83fedcbaf886b841000000000000000000000000000000000000000000' +
  '0000000000000000000001000000000000000000000000000000000000000000000000000000000000000a' +
  '00b841000000000000000000000000000000000000000000000000000000000000000a0000000000000000' +
  '00000000000000000000000000000000000000000000000100'
}`

// A published QBFT (GoQuorum) genesis extraData with 4 validators, listed unsorted.
const PUBLISHED_GENESIS_VECTOR: PrefixedHexString = `0x${
  'f87aa00000000000000000000000000000000000000000000000000000000000000000f85494bac71bb015b84916f1455' +
  '49a873a980b9720c11094ae2620ccf5b852e2208c82810e40a834b128cf6e94bcb5bf13ce033a21459397d12a9e7b46066a02e394' +
  '52351cad346ab2f1599b494bf8f4c6ea44c77563c080c0'
}`

describe('encodeExtraData / decodeExtraData', () => {
  it('matches the Besu codec test vector byte for byte in both directions', () => {
    const vanity = Uint8Array.from({ length: 32 }, (_, i) => i + 1)
    const expected: QbftExtraData = {
      vanity,
      validators: [address(1), address(2)],
      vote: { recipient: address(1), add: true },
      round: 0xfedcba,
      committedSeals: [seal(1, 10, 0), seal(10, 1, 0)],
    }
    expect(bytesToHex(encodeExtraData(expected))).toBe(BESU_CODEC_VECTOR)
    expect(decodeExtraData(hexToBytes(BESU_CODEC_VECTOR))).toEqual(expected)
  })

  it('decodes a published genesis extraData and re-encodes it unchanged', () => {
    const decoded = decodeExtraData(hexToBytes(PUBLISHED_GENESIS_VECTOR))
    expect(decoded.vanity).toEqual(new Uint8Array(32))
    expect(decoded.validators.map(bytesToHex)).toEqual([
      '0xbac71bb015b84916f145549a873a980b9720c110',
      '0xae2620ccf5b852e2208c82810e40a834b128cf6e',
      '0xbcb5bf13ce033a21459397d12a9e7b46066a02e3',
      '0x52351cad346ab2f1599b494bf8f4c6ea44c77563',
    ])
    expect(decoded.vote).toBeUndefined()
    expect(decoded.round).toBe(0)
    expect(decoded.committedSeals).toEqual([])
    expect(bytesToHex(encodeExtraData(decoded))).toBe(PUBLISHED_GENESIS_VECTOR)
  })

  it('round-trips every vote kind, large rounds and seals', () => {
    const cases: QbftExtraData[] = [
      extraDataFor([]),
      extraDataFor([address(1), address(2), address(3)], { vote: { recipient: address(9), add: true }, round: 1 }),
      extraDataFor([address(1)], { vote: { recipient: address(1), add: false }, round: 0x7fffffff }),
      extraDataFor([address(4)], { round: 255, committedSeals: [seal(1, 2, 1), seal(3, 4, 0), seal(5, 6, 1)] }),
    ]
    for (const extra of cases) expect(decodeExtraData(encodeExtraData(extra))).toEqual(extra)
  })

  it('writes no vote as an empty list, ADD as 0xff, DROP as empty bytes and round 0 as 0x80', () => {
    const none = bytesToHex(encodeExtraData(extraDataFor([])))
    expect(none).toBe(`0xe5a0${ZERO_VANITY_HEX}c0c080c0`)
    const add = bytesToHex(encodeExtraData(extraDataFor([], { vote: { recipient: address(7), add: true } })))
    expect(add).toContain(`d794${'00'.repeat(19)}0781ff80c0`)
    const drop = bytesToHex(encodeExtraData(extraDataFor([], { vote: { recipient: address(7), add: false } })))
    expect(drop).toContain(`d694${'00'.repeat(19)}078080c0`)
  })

  it('accepts a DROP vote written as the literal byte 0x00', () => {
    const raw = RLP.encode([new Uint8Array(32), [], [address(5), Uint8Array.of(0)], new Uint8Array(0), []])
    expect(decodeExtraData(raw).vote).toEqual({ recipient: address(5), add: false })
  })
})

describe('genesisExtraData', () => {
  it('produces Besu genesis layout with sorted validators, empty vote, round 0x80 and empty seals', () => {
    const validators = [address(0x44), address(0x11), address(0x33), address(0x22)]
    const extra = genesisExtraData(validators)
    expect(extra.validators).toEqual([address(0x11), address(0x22), address(0x33), address(0x44)])
    expect(validators[0]).toEqual(address(0x44)) // input untouched
    const hex = bytesToHex(encodeExtraData(extra))
    const addresses = ['11', '22', '33', '44'].map((b) => `94${'00'.repeat(19)}${b}`).join('')
    expect(hex).toBe(`0xf87aa0${ZERO_VANITY_HEX}f854${addresses}c080c0`)
    expect(decodeExtraData(hexToBytes(hex))).toEqual(extra)
  })
})

describe('hashingExtraData / commitSealExtraData', () => {
  const extra = extraDataFor([address(1)], {
    vote: { recipient: address(2), add: true },
    round: 5,
    committedSeals: [seal(1, 1, 0)],
  })

  it('hashing form keeps vanity, validators and vote but zeroes the round and drops seals', () => {
    expect(hashingExtraData(extra)).toEqual({ ...extra, round: 0, committedSeals: [] })
  })

  it('commit seal form carries the given round and no seals', () => {
    expect(commitSealExtraData(extra, 3)).toEqual({ ...extra, round: 3, committedSeals: [] })
  })
})

describe('decodeExtraData rejects malformed input with INVALID_EXTRA_DATA', () => {
  const vanity = new Uint8Array(32)
  const empty = new Uint8Array(0)
  const malformed: Record<string, Uint8Array> = {
    'empty bytes': empty,
    'invalid RLP': hexToBytes('0xf87a00'),
    'trailing bytes': hexToBytes(`0xe5a0${ZERO_VANITY_HEX}c0c080c000`),
    'a byte string instead of a list': RLP.encode(vanity),
    '4 items': RLP.encode([vanity, [], [], empty]),
    '6 items': RLP.encode([vanity, [], [], empty, [], []]),
    'vanity of 31 bytes': RLP.encode([new Uint8Array(31), [], [], empty, []]),
    'vanity as a list': RLP.encode([[], [], [], empty, []]),
    'validators as bytes': RLP.encode([vanity, address(1), [], empty, []]),
    'validator of 19 bytes': RLP.encode([vanity, [new Uint8Array(19)], [], empty, []]),
    'validator of 32 bytes': RLP.encode([vanity, [new Uint8Array(32)], [], empty, []]),
    'vote as bytes (IBFT 2.0 null)': RLP.encode([vanity, [], empty, empty, []]),
    'vote with one item': RLP.encode([vanity, [], [address(1)], empty, []]),
    'vote with three items': RLP.encode([vanity, [], [address(1), Uint8Array.of(0xff), empty], empty, []]),
    'vote recipient of 21 bytes': RLP.encode([vanity, [], [new Uint8Array(21), Uint8Array.of(0xff)], empty, []]),
    'vote byte 0xaa': RLP.encode([vanity, [], [address(1), Uint8Array.of(0xaa)], empty, []]),
    'vote byte 0x01': RLP.encode([vanity, [], [address(1), Uint8Array.of(0x01)], empty, []]),
    'vote type of two bytes': RLP.encode([vanity, [], [address(1), Uint8Array.of(0xff, 0xff)], empty, []]),
    'round with a leading zero (IBFT 2.0 fixed width)': RLP.encode([vanity, [], [], Uint8Array.of(0, 0, 0, 1), []]),
    'round of 5 bytes': RLP.encode([vanity, [], [], Uint8Array.of(1, 0, 0, 0, 0), []]),
    'round above int32': RLP.encode([vanity, [], [], Uint8Array.of(0x80, 0, 0, 0), []]),
    'round as a list': RLP.encode([vanity, [], [], [], []]),
    'seals as bytes': RLP.encode([vanity, [], [], empty, empty]),
    'seal of 64 bytes': RLP.encode([vanity, [], [], empty, [new Uint8Array(64)]]),
    'seal of 66 bytes': RLP.encode([vanity, [], [], empty, [new Uint8Array(66)]]),
  }
  for (const [name, bytes] of Object.entries(malformed)) {
    it(name, () => expectCode(() => decodeExtraData(bytes), 'INVALID_EXTRA_DATA'))
  }
})

describe('encodeExtraData refuses values it could not decode', () => {
  it('rejects wrong lengths and out-of-range rounds', () => {
    expectCode(() => encodeExtraData(extraDataFor([new Uint8Array(19)])), 'INVALID_EXTRA_DATA')
    expectCode(() => encodeExtraData(extraDataFor([], { vanity: new Uint8Array(33) })), 'INVALID_EXTRA_DATA')
    expectCode(() => encodeExtraData(extraDataFor([], { committedSeals: [new Uint8Array(64)] })), 'INVALID_EXTRA_DATA')
    expectCode(() => encodeExtraData(extraDataFor([], { round: -1 })), 'INVALID_EXTRA_DATA')
    expectCode(() => encodeExtraData(extraDataFor([], { round: 1.5 })), 'INVALID_EXTRA_DATA')
    expectCode(() => encodeExtraData(extraDataFor([], { round: 2 ** 31 })), 'INVALID_EXTRA_DATA')
  })
})
