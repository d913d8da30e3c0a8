/**
 * Justification predicates of QBFT, after the Dafny spec (`validRoundChange`, `isHighestPrepared`,
 * `isProposalJustification`, `validSignedPrepareForHeightRoundAndDigest`) and Besu's ProposalValidator and
 * RoundChangeMessageValidator. Pure: authors are already recovered; block execution is the engine's business.
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { BlockInterface } from './machine-types.js'
import type {
  PreparePayload,
  ProposalMessage,
  RoundChangeMessage,
  RoundChangePayload,
  SignedPayload,
} from './messages.js'
import { containsAddress } from './proposer.js'
import { quorum } from './quorum.js'

export type Verdict = { ok: true } | { ok: false; reason: string }

const OK: Verdict = { ok: true }
const fail = (reason: string): Verdict => ({ ok: false, reason })

export interface JustificationContext<B> {
  height: bigint
  validators: readonly Uint8Array[]
  blocks: Pick<BlockInterface<B>, 'hash' | 'number' | 'round' | 'proposer' | 'withRound'>
}

function hasDuplicateAuthors(list: readonly SignedPayload[]): boolean {
  const seen = new Set<string>()
  for (const s of list) {
    const key = bytesToHex(s.author)
    if (seen.has(key)) return true
    seen.add(key)
  }
  return false
}

/** Dafny `validSignedPrepareForHeightRoundAndDigest`. */
export function isValidPrepare(
  prepare: SignedPayload<PreparePayload>,
  height: bigint,
  round: number,
  digest: Uint8Array,
  validators: readonly Uint8Array[],
): boolean {
  const p = prepare.payload
  return (
    p.height === height &&
    p.round === round &&
    equalsBytes(p.digest, digest) &&
    containsAddress(validators, prepare.author)
  )
}

/** Dafny `validRoundChange`: right height and target round, prepared round (if any) below it, from a validator. */
export function isValidRoundChangePayload(
  roundChange: SignedPayload<RoundChangePayload>,
  height: bigint,
  round: number,
  validators: readonly Uint8Array[],
): boolean {
  const p = roundChange.payload
  if (p.height !== height || p.round !== round) return false
  if (p.prepared !== undefined && p.prepared.round >= round) return false
  return containsAddress(validators, roundChange.author)
}

/** Dafny `isHighestPrepared`: `roundChange` is prepared and no member of `all` is prepared in a later round. */
export function isHighestPrepared(
  roundChange: SignedPayload<RoundChangePayload>,
  all: readonly SignedPayload<RoundChangePayload>[],
): boolean {
  const prepared = roundChange.payload.prepared
  if (prepared === undefined) return false
  return all.every((m) => m.payload.prepared === undefined || m.payload.prepared.round <= prepared.round)
}

/** A quorum of PREPAREs from distinct validators for (height, round, digest). */
export function checkPrepareCertificate(
  prepares: readonly SignedPayload<PreparePayload>[],
  height: bigint,
  round: number,
  digest: Uint8Array,
  validators: readonly Uint8Array[],
): Verdict {
  if (hasDuplicateAuthors(prepares)) return fail('prepares from the same author')
  if (prepares.length < quorum(validators.length)) return fail('fewer prepares than a quorum')
  if (!prepares.every((p) => isValidPrepare(p, height, round, digest, validators))) {
    return fail('a prepare does not match the prepared round and digest')
  }
  return OK
}

/**
 * A ROUND_CHANGE as Besu's RoundChangeMessageValidator accepts it (block execution aside): a valid payload, and
 * either no prepared data at all, or the prepared block (hashing to the prepared digest at the prepared round)
 * with a quorum of matching PREPAREs.
 */
export function checkRoundChange<B>(
  message: RoundChangeMessage,
  preparedBlock: B | undefined,
  ctx: JustificationContext<B>,
): Verdict {
  const { payload } = message.signed
  if (!isValidRoundChangePayload(message.signed, ctx.height, payload.round, ctx.validators)) {
    return fail('round change payload is not valid for this height')
  }
  const prepared = payload.prepared
  if (preparedBlock === undefined) return prepared === undefined ? OK : fail('prepared round without its block')
  if (prepared === undefined) return fail('prepared block without prepared round')
  const { blocks } = ctx
  if (blocks.number(preparedBlock) !== ctx.height) return fail('prepared block is for another height')
  if (blocks.round(preparedBlock) !== prepared.round) return fail('prepared block is not at the prepared round')
  if (!equalsBytes(blocks.hash(preparedBlock), prepared.digest))
    return fail('prepared block does not hash to the digest')
  return checkPrepareCertificate(message.prepares, ctx.height, prepared.round, prepared.digest, ctx.validators)
}

/**
 * Dafny `isProposalJustification` for a received proposal, with Besu's extra checks (no duplicate authors, no
 * prepares when nobody prepared). `proposer` is the leader of the proposal's round; execution of the block is
 * checked separately.
 */
export function checkProposal<B>(
  message: ProposalMessage,
  block: B,
  proposer: Uint8Array,
  ctx: JustificationContext<B>,
): Verdict {
  const { payload, author } = message.signed
  const { blocks, height, validators } = ctx
  const round = payload.round
  if (payload.height !== height) return fail('proposal is for another height')
  if (!equalsBytes(author, proposer)) return fail('proposal not signed by the round leader')
  if (blocks.number(block) !== height) return fail('block number differs from the height')
  if (blocks.round(block) !== round) return fail('block round differs from the proposal round')
  if (round === 0) {
    if (message.roundChanges.length > 0 || message.prepares.length > 0)
      return fail('round 0 proposal carries justification')
    return equalsBytes(blocks.proposer(block), author) ? OK : fail('block proposer is not the message author')
  }
  const roundChanges = message.roundChanges
  if (hasDuplicateAuthors(roundChanges)) return fail('round changes from the same author')
  if (roundChanges.length < quorum(validators.length)) return fail('fewer round changes than a quorum')
  if (!roundChanges.every((rc) => isValidRoundChangePayload(rc, height, round, validators))) {
    return fail('a round change does not target this round')
  }
  const highest = roundChanges.filter((rc) => isHighestPrepared(rc, roundChanges))
  if (highest.length === 0) {
    if (message.prepares.length > 0) return fail('prepares attached although no round change is prepared')
    return equalsBytes(blocks.proposer(block), author) ? OK : fail('block proposer is not the message author')
  }
  // The prepared block was hashed at its prepared round; the proposal carries it at the new one.
  const preparedRound = highest[0].payload.prepared!.round
  const atPreparedRound = blocks.hash(blocks.withRound(block, preparedRound))
  for (const rc of highest) {
    const digest = rc.payload.prepared!.digest
    if (!equalsBytes(digest, atPreparedRound)) continue
    const prepares = checkPrepareCertificate(message.prepares, height, preparedRound, digest, validators)
    if (prepares.ok) return OK
    return fail(`prepare certificate: ${prepares.reason}`)
  }
  return fail('block is not the highest prepared block')
}
