/**
 * QBFT header extraData codec, byte-compatible with Besu's QbftExtraDataCodec (and GoQuorum's QBFTExtra):
 * RLP([vanity, [validators], vote, round, [committedSeals]]).
 */
import { type NestedUint8Array, RLP } from '@ethereumjs/rlp'
import { bytesToHex, intToUnpaddedBytes } from '@ethereumjs/util'
import { ADDRESS_LENGTH, EXTRA_VANITY_LENGTH, MAX_ROUND, SEAL_LENGTH } from './constants.js'
import { QbftError } from './errors.js'
import { sortValidators } from './proposer.js'

export interface QbftVote {
  /** 20-byte address of the validator voted on. */
  recipient: Uint8Array
  /** true = vote to add, false = vote to drop. */
  add: boolean
}

export interface QbftExtraData {
  /** 32 bytes. */
  vanity: Uint8Array
  /** 20-byte addresses, ascending for Besu-produced blocks (ordering is checked by header validation, not here). */
  validators: Uint8Array[]
  vote: QbftVote | undefined
  round: number
  /** 65-byte r‖s‖v signatures. */
  committedSeals: Uint8Array[]
}

const VOTE_ADD_BYTE = 0xff
const VOTE_DROP_BYTE = 0x00

type RlpItem = Uint8Array | NestedUint8Array

function invalid(message: string, data?: Record<string, unknown>): QbftError {
  return new QbftError('INVALID_EXTRA_DATA', message, data)
}

function checkRound(round: number): void {
  if (!Number.isSafeInteger(round) || round < 0 || round > MAX_ROUND) throw invalid('round out of range', { round })
}

function checkLength(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length !== length) throw invalid(`${what} must be ${length} bytes`, { what, length: bytes.length })
}

export function encodeExtraData(e: QbftExtraData): Uint8Array {
  checkLength(e.vanity, EXTRA_VANITY_LENGTH, 'vanity')
  for (const v of e.validators) checkLength(v, ADDRESS_LENGTH, 'validator')
  for (const s of e.committedSeals) checkLength(s, SEAL_LENGTH, 'committed seal')
  checkRound(e.round)
  let vote: RlpItem = []
  if (e.vote !== undefined) {
    checkLength(e.vote.recipient, ADDRESS_LENGTH, 'vote recipient')
    // Besu writes DROP as RLP empty bytes (writeNull), not as a 0x00 byte.
    vote = [e.vote.recipient, e.vote.add ? Uint8Array.of(VOTE_ADD_BYTE) : new Uint8Array(0)]
  }
  return RLP.encode([e.vanity, e.validators, vote, intToUnpaddedBytes(e.round), e.committedSeals])
}

function asBytes(item: RlpItem | undefined, what: string): Uint8Array {
  if (!(item instanceof Uint8Array)) throw invalid(`${what} must be a byte string`, { what })
  return item
}

function asList(item: RlpItem | undefined, what: string): RlpItem[] {
  if (!Array.isArray(item)) throw invalid(`${what} must be a list`, { what })
  return item
}

function asFixedBytes(item: RlpItem | undefined, length: number, what: string): Uint8Array {
  const bytes = asBytes(item, what)
  checkLength(bytes, length, what)
  return bytes
}

function decodeVote(item: RlpItem | undefined): QbftVote | undefined {
  const fields = asList(item, 'vote')
  if (fields.length === 0) return undefined
  if (fields.length !== 2) throw invalid('vote must be empty or [recipient, type]', { items: fields.length })
  const recipient = asFixedBytes(fields[0], ADDRESS_LENGTH, 'vote recipient')
  const type = asBytes(fields[1], 'vote type')
  // Besu accepts DROP both as empty bytes (what it writes) and as the literal byte 0x00.
  if (type.length === 0 || (type.length === 1 && type[0] === VOTE_DROP_BYTE)) return { recipient, add: false }
  if (type.length === 1 && type[0] === VOTE_ADD_BYTE) return { recipient, add: true }
  throw invalid('vote type must be 0xff (add) or empty/0x00 (drop)', { type: bytesToHex(type) })
}

function decodeRound(item: RlpItem | undefined): number {
  const bytes = asBytes(item, 'round')
  if (bytes.length > 4) throw invalid('round longer than 4 bytes', { length: bytes.length })
  if (bytes.length > 0 && bytes[0] === 0) throw invalid('round has leading zero bytes', { round: bytesToHex(bytes) })
  let round = 0
  for (const b of bytes) round = round * 256 + b
  checkRound(round)
  return round
}

/** Strict decoder: any deviation from the canonical layout throws QbftError('INVALID_EXTRA_DATA'). */
export function decodeExtraData(bytes: Uint8Array): QbftExtraData {
  let decoded: RlpItem
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw invalid('extraData is not valid RLP', { reason: (err as Error).message })
  }
  const fields = asList(decoded, 'extraData')
  if (fields.length !== 5) throw invalid('extraData must be a 5-item list', { items: fields.length })
  return {
    vanity: asFixedBytes(fields[0], EXTRA_VANITY_LENGTH, 'vanity'),
    validators: asList(fields[1], 'validators').map((v) => asFixedBytes(v, ADDRESS_LENGTH, 'validator')),
    vote: decodeVote(fields[2]),
    round: decodeRound(fields[3]),
    committedSeals: asList(fields[4], 'committed seals').map((s) => asFixedBytes(s, SEAL_LENGTH, 'committed seal')),
  }
}

/** The extraData hashed for the on-chain block hash: round 0 and no seals, so the hash is stable across rounds. */
export function hashingExtraData(e: QbftExtraData): QbftExtraData {
  return { vanity: e.vanity, validators: e.validators, vote: e.vote, round: 0, committedSeals: [] }
}

/** The extraData a committer signs: the round is included, the seals are not. */
export function commitSealExtraData(e: QbftExtraData, round: number): QbftExtraData {
  return { vanity: e.vanity, validators: e.validators, vote: e.vote, round, committedSeals: [] }
}

export function genesisExtraData(validators: Uint8Array[]): QbftExtraData {
  return {
    vanity: new Uint8Array(EXTRA_VANITY_LENGTH),
    validators: sortValidators(validators),
    vote: undefined,
    round: 0,
    committedSeals: [],
  }
}
