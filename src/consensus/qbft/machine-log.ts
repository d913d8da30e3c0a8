/**
 * Storage form of the SignedLog (what this node signed at the current height): RLP of
 * [height, round + 1, [message...], [] | [preparedRound, preparedBlock, [prepare...]]], messages in wire form.
 */
import { type NestedUint8Array, RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt, bytesToInt, intToUnpaddedBytes } from '@ethereumjs/util'
import { QbftError } from './errors.js'
import type { SignedLog } from './machine-types.js'
import {
  decodeMessage,
  encodeSignedMessage,
  type MessageVerifier,
  type PreparePayload,
  type SignedPayload,
} from './messages.js'

export function encodeSignedLog(log: SignedLog): Uint8Array {
  const prepared = log.prepared
  return RLP.encode([
    bigIntToUnpaddedBytes(log.height),
    intToUnpaddedBytes(log.round + 1),
    log.messages.map(encodeSignedMessage),
    prepared === undefined
      ? []
      : [
          intToUnpaddedBytes(prepared.round),
          prepared.block,
          prepared.prepares.map((signed) => encodeSignedMessage({ type: 'PREPARE', signed })),
        ],
  ])
}

function invalid(reason: string): QbftError {
  return new QbftError('INVALID_MESSAGE', `stored QBFT log: ${reason}`)
}

function bytes(item: Uint8Array | NestedUint8Array | undefined, what: string): Uint8Array {
  if (!(item instanceof Uint8Array)) throw invalid(`${what} must be a byte string`)
  return item
}

function list(item: Uint8Array | NestedUint8Array | undefined, what: string): (Uint8Array | NestedUint8Array)[] {
  if (!Array.isArray(item)) throw invalid(`${what} must be a list`)
  return item
}

/** Inverse of encodeSignedLog; authors are recovered again, as for messages off the wire. */
export function decodeSignedLog(encoded: Uint8Array, crypto: MessageVerifier): SignedLog {
  let fields: (Uint8Array | NestedUint8Array)[]
  try {
    fields = list(RLP.decode(encoded), 'log')
  } catch (err) {
    if (err instanceof QbftError) throw err
    throw invalid(`not valid RLP (${(err as Error).message})`)
  }
  if (fields.length !== 4) throw invalid('expected 4 fields')
  const prepared = list(fields[3], 'prepared certificate')
  if (prepared.length !== 0 && prepared.length !== 3) throw invalid('prepared certificate must have 3 fields')
  return {
    height: bytesToBigInt(bytes(fields[0], 'height')),
    round: bytesToInt(bytes(fields[1], 'round')) - 1,
    messages: list(fields[2], 'messages').map((m) => decodeMessage(bytes(m, 'message'), crypto)),
    prepared:
      prepared.length === 0
        ? undefined
        : {
            round: bytesToInt(bytes(prepared[0], 'prepared round')),
            block: bytes(prepared[1], 'prepared block'),
            prepares: list(prepared[2], 'prepares').map((p) => {
              const message = decodeMessage(bytes(p, 'prepare'), crypto)
              if (message.type !== 'PREPARE') throw invalid('prepared certificate holds a non-PREPARE')
              return message.signed as SignedPayload<PreparePayload>
            }),
          },
  }
}
