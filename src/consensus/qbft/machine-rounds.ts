/**
 * Moving between rounds (Besu QbftBlockHeightManager + RoundChangeManager, Dafny UponRoundTimeout/UponRoundChange):
 * start a round, send ROUND_CHANGE with the prepared certificate, follow a quorum (or f+1) of ROUND_CHANGEs, and
 * let the round's proposer propose a fresh block or re-propose the highest prepared one.
 */
import { hasSent, type StepContext, send, writableRound } from './machine-context.js'
import {
  addressKey,
  isLocalProposer,
  isLocalValidator,
  type MachineState,
  quorumSize,
  type RoundChangeRecord,
  roundTimeoutMs,
  weakQuorumSize,
} from './machine-state.js'
import { propose } from './machine-votes.js'
import type { RoundChangeMessage, RoundChangePayload } from './messages.js'

/** Enters `round`: arms its timer and forgets what earlier rounds can no longer use. */
export function startRound<B>(c: StepContext<B>, round: number): void {
  const { s } = c
  const window = s.config.roundWindow
  s.round = round
  s.started = true
  if (s.awaitingBlock !== undefined && s.awaitingBlock.round !== round) s.awaitingBlock = undefined
  for (const [r, rd] of [...s.rounds]) {
    if (r < round - window) {
      s.rounds.delete(r)
      c.touched.delete(r)
    } else if (r < round && (rd.roundChanges.size > 0 || rd.prepares.size > 0)) {
      // Past rounds only matter for a late quorum of COMMITs.
      const writable = writableRound(c, r)
      writable.roundChanges.clear()
      writable.prepares.clear()
    }
  }
  c.out.push({ type: 'armRoundTimer', round, ms: roundTimeoutMs(s.config, round) })
  if (s.resumeLog) {
    // After a restart, say again what was said in this round: identical messages contradict nothing.
    s.resumeLog = false
    if (s.log.round === round) for (const message of s.log.messages) c.out.push({ type: 'broadcast', message })
  }
}

/** Besu doRoundChange: move up to `round` and ask for it with a ROUND_CHANGE carrying the prepared certificate. */
export function changeRound<B>(c: StepContext<B>, round: number): void {
  const { s } = c
  if (s.started && round <= s.round) return
  startRound(c, round)
  const { signer, blocks, height, localAddress } = s.config
  if (!isLocalValidator(s) || signer === undefined || hasSent(c, 'ROUND_CHANGE', round)) return
  const prepared = s.latestPrepared
  const payload: RoundChangePayload = {
    type: 'ROUND_CHANGE',
    height,
    round,
    prepared: prepared === undefined ? undefined : { round: prepared.round, digest: prepared.digest },
  }
  const message: RoundChangeMessage = {
    type: 'ROUND_CHANGE',
    signed: signer.signPayload(payload),
    preparedBlock: prepared === undefined ? undefined : blocks.encode(prepared.block),
    prepares: prepared === undefined ? [] : prepared.prepares,
  }
  send(c, message)
  writableRound(c, round).roundChanges.set(addressKey(localAddress), { message, preparedBlock: prepared?.block })
}

/**
 * The round the stored ROUND_CHANGEs call for, if any: the highest later round with a quorum of them, else, when
 * f+1 validators ask for later rounds, the smallest of those (Besu early round change, Dafny UponRoundChange).
 */
export function roundChangeTarget<B>(s: MachineState<B>): number | undefined {
  const later = (r: number) => (s.started ? r > s.round : r >= s.round)
  let quorumRound: number | undefined
  let smallest: number | undefined
  const authors = new Set<string>()
  for (const [r, rd] of s.rounds) {
    if (!later(r) || rd.roundChanges.size === 0) continue
    if (rd.roundChanges.size >= quorumSize(s) && (quorumRound === undefined || r > quorumRound)) quorumRound = r
    if (smallest === undefined || r < smallest) smallest = r
    for (const author of rd.roundChanges.keys()) authors.add(author)
  }
  if (quorumRound !== undefined) return quorumRound
  return authors.size >= weakQuorumSize(s) ? smallest : undefined
}

/** Follows the stored ROUND_CHANGEs as far as they lead, then proposes if this node leads the round. */
export function roundChangeRules<B>(c: StepContext<B>): void {
  for (let target = roundChangeTarget(c.s); target !== undefined; target = roundChangeTarget(c.s)) {
    changeRound(c, target)
  }
  maybePropose(c)
}

/** The round change with the highest prepared round among those carrying a prepared block (RoundChangeArtifacts). */
export function bestPrepared<B>(records: readonly RoundChangeRecord<B>[]): RoundChangeRecord<B> | undefined {
  let best: RoundChangeRecord<B> | undefined
  for (const record of records) {
    const prepared = record.message.signed.payload.prepared
    if (prepared === undefined || record.preparedBlock === undefined) continue
    if (best === undefined || prepared.round > best.message.signed.payload.prepared!.round) best = record
  }
  return best
}

/**
 * The leader of the current round proposes once: in round 0 a fresh block; later, with a quorum of ROUND_CHANGEs
 * as justification, the highest prepared block at the new round, or a fresh block when none is prepared.
 */
export function maybePropose<B>(c: StepContext<B>): void {
  const { s } = c
  const round = s.round
  if (!s.started || s.finished || !isLocalProposer(s, round)) return
  const rd = s.rounds.get(round)
  if (rd?.proposal !== undefined || s.awaitingBlock?.round === round || hasSent(c, 'PROPOSAL', round)) return
  if (round === 0) {
    s.awaitingBlock = { round, roundChanges: [] }
    c.out.push({ type: 'buildBlock', round })
    return
  }
  const records = rd === undefined ? [] : [...rd.roundChanges.values()]
  if (records.length < quorumSize(s)) return
  const roundChanges = records.map((r) => r.message.signed)
  const best = bestPrepared(records)
  if (best !== undefined) {
    propose(c, s.config.blocks.withRound(best.preparedBlock!, round), roundChanges, best.message.prepares)
    return
  }
  s.awaitingBlock = { round, roundChanges }
  c.out.push({ type: 'buildBlock', round })
}
