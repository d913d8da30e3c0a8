import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { QbftError } from '../../../../src/consensus/qbft/errors.js'
import {
  type CommitPayload,
  classifyMessageHeight,
  decodeMessage,
  decodeMessageBody,
  encodeMessage,
  encodeMessageBody,
  encodeSignedMessage,
  MESSAGE_CODE,
  type PreparePayload,
  type ProposalPayload,
  payloadSigningHash,
  type QbftMessage,
  type RoundChangePayload,
  signMessage,
  signPayload,
  type UnsignedMessage,
} from '../../../../src/consensus/qbft/messages.js'
import { crypto, makeValidators } from './helpers.js'

const [alice, bob, carol] = makeValidators(3)
const digest = hexToBytes(`0x${'ab'.repeat(32)}`)
const otherDigest = hexToBytes(`0x${'cd'.repeat(32)}`)
/** Any RLP list stands for a block at this layer. */
const block = RLP.encode([Uint8Array.of(1), Uint8Array.of(2, 3), [Uint8Array.of(4)]])

const prepare = (height = 7n, round = 2, d = digest): PreparePayload => ({ type: 'PREPARE', height, round, digest: d })
const commit: CommitPayload = { type: 'COMMIT', height: 7n, round: 2, digest, commitSeal: new Uint8Array(65).fill(9) }
const roundChange = (prepared?: { round: number; digest: Uint8Array }): RoundChangePayload => ({
  type: 'ROUND_CHANGE',
  height: 7n,
  round: 3,
  prepared,
})
const proposal: ProposalPayload = { type: 'PROPOSAL', height: 7n, round: 3, block }

const unsignedOfEachType: UnsignedMessage[] = [
  {
    type: 'PROPOSAL',
    payload: proposal,
    roundChanges: [signPayload(roundChange({ round: 2, digest }), bob.privateKey, crypto)],
    prepares: [signPayload(prepare(), bob.privateKey, crypto), signPayload(prepare(), carol.privateKey, crypto)],
  },
  { type: 'PREPARE', payload: prepare() },
  { type: 'COMMIT', payload: commit },
  {
    type: 'ROUND_CHANGE',
    payload: roundChange({ round: 2, digest }),
    preparedBlock: block,
    prepares: [signPayload(prepare(), carol.privateKey, crypto)],
  },
  { type: 'ROUND_CHANGE', payload: roundChange(), preparedBlock: undefined, prepares: [] },
]

function expectInvalid(fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(QbftError)
    expect((err as QbftError).code).toBe('INVALID_MESSAGE')
    return
  }
  throw new Error('expected INVALID_MESSAGE')
}

describe('QBFT message codec', () => {
  it.each(unsignedOfEachType.map((m) => [m.type, m] as const))('round-trips a signed %s', (_type, unsigned) => {
    const wire = encodeMessage(unsigned, alice.privateKey, crypto)
    expect(wire[0]).toBe(MESSAGE_CODE[unsigned.type])
    const decoded = decodeMessage(wire, crypto)
    expect(decoded.type).toBe(unsigned.type)
    expect(decoded.signed.payload).toEqual(unsigned.payload)
    expect(decoded.signed.author).toEqual(alice.address)
    expect(encodeSignedMessage(decoded)).toEqual(wire)
  })

  it('recovers the author of every justification inside a proposal and a round change', () => {
    const [withProposal, , , withRoundChange] = unsignedOfEachType
    const p = decodeMessage(encodeMessage(withProposal, alice.privateKey, crypto), crypto)
    if (p.type !== 'PROPOSAL') throw new Error('type')
    expect(p.roundChanges.map((r) => r.author)).toEqual([bob.address])
    expect(p.prepares.map((r) => r.author)).toEqual([bob.address, carol.address])
    const rc = decodeMessage(encodeMessage(withRoundChange, alice.privateKey, crypto), crypto)
    if (rc.type !== 'ROUND_CHANGE') throw new Error('type')
    expect(rc.preparedBlock).toEqual(block)
    expect(rc.prepares[0].author).toEqual(carol.address)
  })

  it('signs keccak(RLP([code, payload])) for each message type', () => {
    for (const unsigned of unsignedOfEachType) {
      const signed = signMessage(unsigned, bob.privateKey, crypto)
      const hash = payloadSigningHash(signed.signed.payload, crypto)
      const code = Uint8Array.of(MESSAGE_CODE[unsigned.type])
      expect(crypto.recoverAddress(hash, signed.signed.signature)).toEqual(bob.address)
      // The hash is over the RLP list [code, payload-as-list], not over the payload bytes alone.
      const body = RLP.decode(encodeMessageBody(signed)) as unknown[]
      const signedData = (unsigned.type === 'PREPARE' || unsigned.type === 'COMMIT' ? body : body[0]) as unknown[]
      expect(hash).toEqual(crypto.keccak256(RLP.encode([code, signedData[0] as Uint8Array[]])))
    }
  })

  it('writes PREPARE exactly as Besu: SignedData [[height, round, digest], signature]', () => {
    const signed = signMessage({ type: 'PREPARE', payload: prepare(256n, 0) }, alice.privateKey, crypto)
    const expected = RLP.encode([[hexToBytes('0x0100'), new Uint8Array(0), digest], signed.signed.signature])
    expect(encodeMessageBody(signed)).toEqual(expected)
  })

  it('writes an unprepared ROUND_CHANGE with empty lists for the metadata and the block', () => {
    const signed = signMessage(unsignedOfEachType[4], alice.privateKey, crypto)
    const expected = RLP.encode([[[Uint8Array.of(7), Uint8Array.of(3), []], signed.signed.signature], [], []])
    expect(encodeMessageBody(signed)).toEqual(expected)
  })

  it('writes prepared metadata as [preparedRound, preparedDigest]', () => {
    const p = roundChange({ round: 2, digest })
    const signed = signPayload(p, alice.privateKey, crypto)
    const body = RLP.decode(encodeMessageBody({ type: 'ROUND_CHANGE', signed, preparedBlock: block, prepares: [] }))
    const payload = (body as Uint8Array[][][])[0][0] as unknown as [Uint8Array, Uint8Array, Uint8Array[]]
    expect(payload[2]).toEqual([Uint8Array.of(2), digest])
  })

  it('accepts the RLP-null block access list of Besu >= 26.1 and re-encodes it identically', () => {
    const p = { ...proposal, blockAccessListField: true }
    const wire = encodeMessage(
      { type: 'PROPOSAL', payload: p, roundChanges: [], prepares: [] },
      alice.privateKey,
      crypto,
    )
    const decoded = decodeMessage(wire, crypto)
    expect(decoded.signed.author).toEqual(alice.address)
    expect((decoded.signed.payload as ProposalPayload).blockAccessListField).toBe(true)
    expect(encodeSignedMessage(decoded)).toEqual(wire)

    const rc = signMessage(unsignedOfEachType[3], alice.privateKey, crypto) as Extract<
      QbftMessage,
      { type: 'ROUND_CHANGE' }
    >
    const items = RLP.decode(encodeMessageBody(rc)) as Uint8Array[]
    const withNull = RLP.encode([items[0], items[1], new Uint8Array(0), items[2]])
    const decodedRc = decodeMessageBody('ROUND_CHANGE', withNull, crypto)
    expect(decodedRc).toEqual(rc)
    expect(encodeMessageBody(decodedRc)).toEqual(encodeMessageBody(rc))
  })

  it('rejects a block access list that is not null', () => {
    const signed = signPayload(proposal, alice.privateKey, crypto)
    const withBal = RLP.encode([
      [[Uint8Array.of(7), Uint8Array.of(3), RLP.decode(block) as Uint8Array[], [Uint8Array.of(1)]], signed.signature],
      [[], []],
    ])
    expectInvalid(() => decodeMessageBody('PROPOSAL', withBal, crypto))
  })

  it('binds the signature to the message type and content', () => {
    const wire = encodeMessage({ type: 'PREPARE', payload: prepare() }, alice.privateKey, crypto)
    const tampered = wire.slice()
    tampered[tampered.length - 70] ^= 1 // inside the digest
    expect(decodeMessage(tampered, crypto).signed.author).not.toEqual(alice.address)
    // Same payload bytes under another code hash differently.
    const prepareBody = wire.subarray(1)
    const asCommitHash = crypto.keccak256(
      RLP.encode([Uint8Array.of(MESSAGE_CODE.COMMIT), (RLP.decode(prepareBody) as Uint8Array[][])[0]]),
    )
    const signature = (RLP.decode(prepareBody) as Uint8Array[])[1]
    expect(crypto.recoverAddress(asCommitHash, signature)).not.toEqual(alice.address)
  })

  it.each([
    ['an unknown code', concatBytes(Uint8Array.of(0x16), RLP.encode([]))],
    ['an empty message', Uint8Array.of(0x13)],
    ['bytes that are not RLP', hexToBytes('0x13f8')],
    [
      'a payload with a missing field',
      concatBytes(Uint8Array.of(0x13), RLP.encode([[Uint8Array.of(1), Uint8Array.of(1)], new Uint8Array(65)])),
    ],
    [
      'a short digest',
      concatBytes(
        Uint8Array.of(0x13),
        RLP.encode([[Uint8Array.of(1), Uint8Array.of(1), new Uint8Array(31)], new Uint8Array(65)]),
      ),
    ],
    [
      'a height with a leading zero',
      concatBytes(
        Uint8Array.of(0x13),
        RLP.encode([[Uint8Array.of(0, 1), Uint8Array.of(1), digest], new Uint8Array(65)]),
      ),
    ],
    [
      'a round beyond a Java int',
      concatBytes(
        Uint8Array.of(0x13),
        RLP.encode([[Uint8Array.of(1), hexToBytes('0x80000000'), digest], new Uint8Array(65)]),
      ),
    ],
    [
      'a 64-byte signature',
      concatBytes(Uint8Array.of(0x13), RLP.encode([[Uint8Array.of(1), Uint8Array.of(1), digest], new Uint8Array(64)])),
    ],
    [
      'a signature that recovers nothing',
      concatBytes(Uint8Array.of(0x13), RLP.encode([[Uint8Array.of(1), Uint8Array.of(1), digest], new Uint8Array(65)])),
    ],
    [
      'a proposal whose block is a byte string',
      concatBytes(
        Uint8Array.of(0x12),
        RLP.encode([
          [[Uint8Array.of(1), Uint8Array.of(1), Uint8Array.of(5)], new Uint8Array(65)],
          [[], []],
        ]),
      ),
    ],
    [
      'prepared metadata with one field',
      concatBytes(
        Uint8Array.of(0x15),
        RLP.encode([[[Uint8Array.of(1), Uint8Array.of(1), [Uint8Array.of(1)]], new Uint8Array(65)], [], []]),
      ),
    ],
    [
      'trailing bytes',
      concatBytes(encodeMessage({ type: 'PREPARE', payload: prepare() }, alice.privateKey, crypto), Uint8Array.of(0)),
    ],
  ])('rejects %s with INVALID_MESSAGE', (_what, bytes) => {
    expectInvalid(() => decodeMessage(bytes, crypto))
  })

  it('refuses to encode out-of-range fields', () => {
    expectInvalid(() => encodeMessage({ type: 'PREPARE', payload: prepare(7n, -1) }, alice.privateKey, crypto))
    expectInvalid(() =>
      encodeMessage({ type: 'PREPARE', payload: prepare(7n, 1, new Uint8Array(3)) }, alice.privateKey, crypto),
    )
    expectInvalid(() =>
      encodeMessage(
        { type: 'PROPOSAL', payload: { ...proposal, block: Uint8Array.of(5) }, roundChanges: [], prepares: [] },
        alice.privateKey,
        crypto,
      ),
    )
  })

  it('classifies messages by height for the engine to buffer or drop', () => {
    const m = signMessage({ type: 'PREPARE', payload: prepare(7n, 0, otherDigest) }, alice.privateKey, crypto)
    expect([6n, 7n, 8n].map((h) => classifyMessageHeight(m, h))).toEqual(['future', 'current', 'past'])
    expect(bytesToHex(m.signed.author)).toBe(bytesToHex(alice.address))
  })
})
