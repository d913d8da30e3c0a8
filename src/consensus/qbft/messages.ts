/**
 * QBFT wire messages in Besu's RLP layouts (QbftV1, `istanbul/100`). Every payload is signed over
 * keccak(RLP([code, payload])) and travels as SignedData = RLP([payload, signature]). The block inside a
 * proposal or round change is opaque RLP here; the caller decodes it.
 *
 * On our wire a message is its code byte followed by the Besu body, as devp2p frames it.
 */
import { type NestedUint8Array, RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToHex, intToUnpaddedBytes } from '@ethereumjs/util'
import type { Crypto } from '../../crypto/index.js'
import { MAX_ROUND, SEAL_LENGTH } from './constants.js'
import { QbftError } from './errors.js'

export const MESSAGE_CODE = { PROPOSAL: 0x12, PREPARE: 0x13, COMMIT: 0x14, ROUND_CHANGE: 0x15 } as const
export type MessageType = keyof typeof MESSAGE_CODE

export type MessageCrypto = Pick<Crypto, 'keccak256' | 'sign' | 'recoverAddress' | 'privateKeyToAddress'>
export type MessageVerifier = Pick<Crypto, 'keccak256' | 'recoverAddress'>

const DIGEST_LENGTH = 32
const SIGNATURE_LENGTH = 65
/** Heights are Java longs in Besu (`readLongScalar`). */
const MAX_HEIGHT = (1n << 63n) - 1n

export interface ProposalPayload {
  type: 'PROPOSAL'
  height: bigint
  round: number
  /** RLP of the proposed block, opaque to this layer. */
  block: Uint8Array
  /** Besu >= 26.1 appends an RLP-null block access list; kept so the signed bytes re-encode identically. */
  blockAccessListField?: boolean
}

export interface PreparePayload {
  type: 'PREPARE'
  height: bigint
  round: number
  digest: Uint8Array
}

export interface CommitPayload {
  type: 'COMMIT'
  height: bigint
  round: number
  digest: Uint8Array
  commitSeal: Uint8Array
}

export interface PreparedRoundMetadata {
  round: number
  digest: Uint8Array
}

export interface RoundChangePayload {
  type: 'ROUND_CHANGE'
  height: bigint
  /** The round this node asks to move to. */
  round: number
  prepared: PreparedRoundMetadata | undefined
}

export type Payload = ProposalPayload | PreparePayload | CommitPayload | RoundChangePayload

export interface SignedPayload<P extends Payload = Payload> {
  payload: P
  /** 65 bytes r‖s‖v, v ∈ {0, 1}. */
  signature: Uint8Array
  /** 20-byte address recovered from (or, when signing, of) the signature. */
  author: Uint8Array
}

export interface ProposalMessage {
  type: 'PROPOSAL'
  signed: SignedPayload<ProposalPayload>
  roundChanges: SignedPayload<RoundChangePayload>[]
  prepares: SignedPayload<PreparePayload>[]
}

export interface PrepareMessage {
  type: 'PREPARE'
  signed: SignedPayload<PreparePayload>
}

export interface CommitMessage {
  type: 'COMMIT'
  signed: SignedPayload<CommitPayload>
}

export interface RoundChangeMessage {
  type: 'ROUND_CHANGE'
  signed: SignedPayload<RoundChangePayload>
  /** RLP of the block the sender prepared, at the round it was prepared in. */
  preparedBlock: Uint8Array | undefined
  prepares: SignedPayload<PreparePayload>[]
}

export type QbftMessage = ProposalMessage | PrepareMessage | CommitMessage | RoundChangeMessage

/** A message before its own payload is signed; justifications inside it are already signed by their authors. */
export type UnsignedMessage =
  | (Omit<ProposalMessage, 'signed'> & { payload: ProposalPayload })
  | (Omit<PrepareMessage, 'signed'> & { payload: PreparePayload })
  | (Omit<CommitMessage, 'signed'> & { payload: CommitPayload })
  | (Omit<RoundChangeMessage, 'signed'> & { payload: RoundChangePayload })

type RlpItem = Uint8Array | NestedUint8Array

function invalid(message: string, data?: Record<string, unknown>): QbftError {
  return new QbftError('INVALID_MESSAGE', message, data)
}

// ---------------------------------------------------------------- encoding

function checkLength(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw invalid(`${what} must be ${length} bytes`, { what, length: bytes?.length })
  }
}

function checkRound(round: number, what = 'round'): void {
  if (!Number.isSafeInteger(round) || round < 0 || round > MAX_ROUND) throw invalid(`${what} out of range`, { round })
}

/** A block is an RLP list; it is embedded as an item, not as a byte string. */
function blockItem(block: Uint8Array): NestedUint8Array {
  let item: RlpItem
  try {
    item = RLP.decode(block)
  } catch (err) {
    throw invalid('block is not valid RLP', { reason: (err as Error).message })
  }
  if (!Array.isArray(item) || item.length === 0) throw invalid('block must be a non-empty RLP list')
  return item
}

function payloadItem(p: Payload): NestedUint8Array {
  if (p.height < 0n || p.height > MAX_HEIGHT) throw invalid('height out of range', { height: p.height.toString() })
  checkRound(p.round)
  const head = [bigIntToUnpaddedBytes(p.height), intToUnpaddedBytes(p.round)]
  switch (p.type) {
    case 'PROPOSAL':
      return p.blockAccessListField ? [...head, blockItem(p.block), new Uint8Array(0)] : [...head, blockItem(p.block)]
    case 'PREPARE':
      checkLength(p.digest, DIGEST_LENGTH, 'digest')
      return [...head, p.digest]
    case 'COMMIT':
      checkLength(p.digest, DIGEST_LENGTH, 'digest')
      checkLength(p.commitSeal, SEAL_LENGTH, 'commit seal')
      return [...head, p.digest, p.commitSeal]
    case 'ROUND_CHANGE': {
      if (p.prepared === undefined) return [...head, []]
      checkRound(p.prepared.round, 'prepared round')
      checkLength(p.prepared.digest, DIGEST_LENGTH, 'prepared digest')
      return [...head, [intToUnpaddedBytes(p.prepared.round), p.prepared.digest]]
    }
  }
}

/** RLP of the payload alone. */
export function encodePayload(p: Payload): Uint8Array {
  return RLP.encode(payloadItem(p))
}

function signingHash(p: Payload, keccak256: (data: Uint8Array) => Uint8Array): Uint8Array {
  return keccak256(RLP.encode([intToUnpaddedBytes(MESSAGE_CODE[p.type]), payloadItem(p)]))
}

/** Besu `QbftPayload.hashForSignature`: keccak(RLP([messageCode, payload])). */
export function payloadSigningHash(p: Payload, crypto: Pick<Crypto, 'keccak256'>): Uint8Array {
  return signingHash(p, crypto.keccak256)
}

export function signPayload<P extends Payload>(
  payload: P,
  privateKey: Uint8Array,
  crypto: MessageCrypto,
): SignedPayload<P> {
  const signature = crypto.sign(signingHash(payload, crypto.keccak256), privateKey)
  return { payload, signature, author: crypto.privateKeyToAddress(privateKey) }
}

function signedItem(s: SignedPayload): NestedUint8Array {
  checkLength(s.signature, SIGNATURE_LENGTH, 'signature')
  return [payloadItem(s.payload), s.signature]
}

/** RLP of a SignedData, as Besu embeds it in justifications. */
export function encodeSignedPayload(s: SignedPayload): Uint8Array {
  return RLP.encode(signedItem(s))
}

export function signMessage(unsigned: UnsignedMessage, privateKey: Uint8Array, crypto: MessageCrypto): QbftMessage {
  const { payload, ...rest } = unsigned
  return { ...rest, signed: signPayload(payload, privateKey, crypto) } as QbftMessage
}

/** The Besu message body (what follows the message code on devp2p). */
export function encodeMessageBody(m: QbftMessage): Uint8Array {
  switch (m.type) {
    case 'PROPOSAL':
      return RLP.encode([signedItem(m.signed), [m.roundChanges.map(signedItem), m.prepares.map(signedItem)]])
    case 'PREPARE':
    case 'COMMIT':
      return RLP.encode(signedItem(m.signed))
    case 'ROUND_CHANGE':
      return RLP.encode([
        signedItem(m.signed),
        m.preparedBlock === undefined ? [] : blockItem(m.preparedBlock),
        m.prepares.map(signedItem),
      ])
  }
}

/** Wire bytes of a signed message: code byte ‖ Besu body. */
export function encodeSignedMessage(m: QbftMessage): Uint8Array {
  const body = encodeMessageBody(m)
  const out = new Uint8Array(body.length + 1)
  out[0] = MESSAGE_CODE[m.type]
  out.set(body, 1)
  return out
}

/** Signs `unsigned` with `privateKey` and returns its wire bytes. */
export function encodeMessage(unsigned: UnsignedMessage, privateKey: Uint8Array, crypto: MessageCrypto): Uint8Array {
  return encodeSignedMessage(signMessage(unsigned, privateKey, crypto))
}

// ---------------------------------------------------------------- decoding

function asBytes(item: RlpItem | undefined, what: string): Uint8Array {
  if (!(item instanceof Uint8Array)) throw invalid(`${what} must be a byte string`, { what })
  return item
}

function asList(item: RlpItem | undefined, what: string, lengths?: number[]): RlpItem[] {
  if (!Array.isArray(item)) throw invalid(`${what} must be a list`, { what })
  if (lengths !== undefined && !lengths.includes(item.length)) {
    throw invalid(`${what} must have ${lengths.join(' or ')} items`, { what, items: item.length })
  }
  return item
}

function asFixed(item: RlpItem | undefined, length: number, what: string): Uint8Array {
  const bytes = asBytes(item, what)
  if (bytes.length !== length) throw invalid(`${what} must be ${length} bytes`, { what, length: bytes.length })
  return bytes
}

function asScalar(item: RlpItem | undefined, maxBytes: number, what: string): bigint {
  const bytes = asBytes(item, what)
  if (bytes.length > maxBytes) throw invalid(`${what} longer than ${maxBytes} bytes`, { what, length: bytes.length })
  if (bytes.length > 0 && bytes[0] === 0)
    throw invalid(`${what} has leading zero bytes`, { what, value: bytesToHex(bytes) })
  let value = 0n
  for (const b of bytes) value = (value << 8n) | BigInt(b)
  return value
}

function asHeight(item: RlpItem | undefined): bigint {
  const height = asScalar(item, 8, 'height')
  if (height > MAX_HEIGHT) throw invalid('height out of range', { height: height.toString() })
  return height
}

function asRound(item: RlpItem | undefined, what = 'round'): number {
  const round = Number(asScalar(item, 4, what))
  if (round > MAX_ROUND) throw invalid(`${what} out of range`, { round })
  return round
}

function decodePayload(type: MessageType, item: RlpItem | undefined): Payload {
  switch (type) {
    case 'PROPOSAL': {
      const f = asList(item, 'proposal payload', [3, 4])
      const block = asList(f[2], 'proposed block')
      if (block.length === 0) throw invalid('proposed block must be a non-empty list')
      if (f.length === 4 && asBytes(f[3], 'block access list').length !== 0) {
        throw invalid('proposals carrying a block access list are not supported')
      }
      const payload: ProposalPayload = { type, height: asHeight(f[0]), round: asRound(f[1]), block: RLP.encode(block) }
      if (f.length === 4) payload.blockAccessListField = true
      return payload
    }
    case 'PREPARE': {
      const f = asList(item, 'prepare payload', [3])
      return { type, height: asHeight(f[0]), round: asRound(f[1]), digest: asFixed(f[2], DIGEST_LENGTH, 'digest') }
    }
    case 'COMMIT': {
      const f = asList(item, 'commit payload', [4])
      return {
        type,
        height: asHeight(f[0]),
        round: asRound(f[1]),
        digest: asFixed(f[2], DIGEST_LENGTH, 'digest'),
        commitSeal: asFixed(f[3], SEAL_LENGTH, 'commit seal'),
      }
    }
    case 'ROUND_CHANGE': {
      const f = asList(item, 'round change payload', [3])
      const m = asList(f[2], 'prepared round metadata', [0, 2])
      const prepared =
        m.length === 0
          ? undefined
          : { round: asRound(m[0], 'prepared round'), digest: asFixed(m[1], DIGEST_LENGTH, 'prepared digest') }
      return { type, height: asHeight(f[0]), round: asRound(f[1]), prepared }
    }
  }
}

function decodeSigned<P extends Payload>(
  type: P['type'],
  item: RlpItem | undefined,
  crypto: MessageVerifier,
): SignedPayload<P> {
  const f = asList(item, `signed ${type}`, [2])
  const payload = decodePayload(type, f[0]) as P
  const signature = asFixed(f[1], SIGNATURE_LENGTH, 'signature')
  let author: Uint8Array
  try {
    author = crypto.recoverAddress(signingHash(payload, crypto.keccak256), signature)
  } catch (err) {
    throw invalid('signature does not recover to an address', { type, reason: (err as Error).message })
  }
  return { payload, signature, author }
}

function decodeList<P extends Payload>(
  type: P['type'],
  item: RlpItem | undefined,
  crypto: MessageVerifier,
): SignedPayload<P>[] {
  return asList(item, `${type} list`).map((entry) => decodeSigned<P>(type, entry, crypto))
}

/** Decodes a Besu message body of the given type; recovers every author, including the justifications'. */
export function decodeMessageBody(type: MessageType, body: Uint8Array, crypto: MessageVerifier): QbftMessage {
  let item: RlpItem
  try {
    item = RLP.decode(body)
  } catch (err) {
    throw invalid('message is not valid RLP', { type, reason: (err as Error).message })
  }
  switch (type) {
    case 'PROPOSAL': {
      const f = asList(item, 'proposal', [2])
      const justification = asList(f[1], 'proposal justification', [2])
      return {
        type,
        signed: decodeSigned<ProposalPayload>(type, f[0], crypto),
        roundChanges: decodeList<RoundChangePayload>('ROUND_CHANGE', justification[0], crypto),
        prepares: decodeList<PreparePayload>('PREPARE', justification[1], crypto),
      }
    }
    case 'PREPARE':
      return { type, signed: decodeSigned<PreparePayload>(type, item, crypto) }
    case 'COMMIT':
      return { type, signed: decodeSigned<CommitPayload>(type, item, crypto) }
    case 'ROUND_CHANGE': {
      // Besu >= 26.1 inserts an RLP-null block access list before the prepares.
      const f = asList(item, 'round change', [3, 4])
      if (f.length === 4 && asBytes(f[2], 'block access list').length !== 0) {
        throw invalid('round changes carrying a block access list are not supported')
      }
      const block = asList(f[1], 'prepared block')
      return {
        type,
        signed: decodeSigned<RoundChangePayload>(type, f[0], crypto),
        preparedBlock: block.length === 0 ? undefined : RLP.encode(block),
        prepares: decodeList<PreparePayload>('PREPARE', f[f.length - 1], crypto),
      }
    }
  }
}

export function messageTypeOfCode(code: number): MessageType | undefined {
  for (const [type, value] of Object.entries(MESSAGE_CODE)) if (value === code) return type as MessageType
  return undefined
}

/** Decodes wire bytes (code byte ‖ body). Throws QbftError('INVALID_MESSAGE') on any malformed input. */
export function decodeMessage(bytes: Uint8Array, crypto: MessageVerifier): QbftMessage {
  if (bytes.length < 2) throw invalid('message too short', { length: bytes.length })
  const type = messageTypeOfCode(bytes[0])
  if (type === undefined) throw invalid('unknown message code', { code: bytes[0] })
  return decodeMessageBody(type, bytes.subarray(1), crypto)
}

// ---------------------------------------------------------------- accessors

export function messageHeight(m: QbftMessage): bigint {
  return m.signed.payload.height
}

export function messageRound(m: QbftMessage): number {
  return m.signed.payload.round
}

export function messageAuthor(m: QbftMessage): Uint8Array {
  return m.signed.author
}

/** Where a message belongs relative to the height being decided: the engine buffers 'future', drops 'past'. */
export function classifyMessageHeight(m: QbftMessage, height: bigint): 'past' | 'current' | 'future' {
  const h = messageHeight(m)
  return h < height ? 'past' : h === height ? 'current' : 'future'
}
