/**
 * Inside one round (Besu QbftRound + RoundState, Dafny UponProposal/UponPrepare/UponCommit): propose, PREPARE an
 * accepted proposal, COMMIT once prepared, and recognise a quorum of COMMITs.
 */
import { equalsBytes } from '@ethereumjs/util'
import { drop, hasSent, type StepContext, send, writableRound } from './machine-context.js'
import { addressKey, isLocalValidator, quorumSize } from './machine-state.js'
import type { CommitMessage, PrepareMessage, ProposalMessage } from './messages.js'

/** Signs and sends a proposal for the current round, then PREPAREs it: in QBFT the proposer prepares too. */
export function propose<B>(
  c: StepContext<B>,
  block: B,
  roundChanges: ProposalMessage['roundChanges'],
  prepares: ProposalMessage['prepares'],
): void {
  const { config, round } = c.s
  if (config.signer === undefined || c.s.rounds.get(round)?.proposal !== undefined || hasSent(c, 'PROPOSAL', round)) {
    return
  }
  const payload = { type: 'PROPOSAL' as const, height: config.height, round, block: config.blocks.encode(block) }
  const message: ProposalMessage = {
    type: 'PROPOSAL',
    signed: config.signer.signPayload(payload),
    roundChanges,
    prepares,
  }
  send(c, message)
  writableRound(c, round).proposal = { message, block, digest: config.blocks.hash(block), status: 'valid' }
  proposalAccepted(c)
}

/** The current round's proposal became valid: PREPARE it, then act on what the stored messages already allow. */
export function proposalAccepted<B>(c: StepContext<B>): void {
  const proposal = c.s.rounds.get(c.s.round)?.proposal
  if (proposal === undefined || proposal.status !== 'valid') return
  sendPrepare(c, proposal.digest)
  checkPrepared(c)
  checkCommitted(c, c.s.round)
}

/** One PREPARE per round, ever: a restored log that already holds one keeps this node bound to it. */
function sendPrepare<B>(c: StepContext<B>, digest: Uint8Array): void {
  const { config, round } = c.s
  if (!isLocalValidator(c.s) || config.signer === undefined || hasSent(c, 'PREPARE', round)) return
  const payload = { type: 'PREPARE' as const, height: config.height, round, digest }
  const message: PrepareMessage = { type: 'PREPARE', signed: config.signer.signPayload(payload) }
  send(c, message)
  writableRound(c, round).prepares.set(addressKey(config.localAddress), message.signed)
}

/** Prepared (valid proposal + quorum PREPAREs for its digest): COMMIT with a commit seal, once per round. */
export function checkPrepared<B>(c: StepContext<B>): void {
  const { config, round } = c.s
  const rd = c.s.rounds.get(round)
  const proposal = rd?.proposal
  if (rd === undefined || proposal === undefined || proposal.status !== 'valid') return
  if (!isLocalValidator(c.s) || config.signer === undefined || hasSent(c, 'COMMIT', round)) return
  const prepares = [...rd.prepares.values()].filter((p) => equalsBytes(p.payload.digest, proposal.digest))
  if (prepares.length < quorumSize(c.s)) return
  // Dafny UponPrepare: lastPreparedBlock/Round; the COMMIT below promises this certificate to later rounds.
  c.s.latestPrepared = { round, block: proposal.block, digest: proposal.digest, prepares }
  const commitSeal = config.signer.signCommitSeal(proposal.block, round)
  const payload = { type: 'COMMIT' as const, height: config.height, round, digest: proposal.digest, commitSeal }
  const message: CommitMessage = { type: 'COMMIT', signed: config.signer.signPayload(payload) }
  send(c, message)
  const me = addressKey(config.localAddress)
  const writable = writableRound(c, round)
  writable.commits.set(me, message.signed)
  writable.sealsChecked.add(me)
  checkCommitted(c, round)
}

/**
 * Committed: a known proposal of `round` and a quorum of COMMITs for its digest whose seals recover to their
 * authors. Any round works, not only the current one: such a block carries a quorum of valid seals. Ends the height.
 */
export function checkCommitted<B>(c: StepContext<B>, round: number): void {
  const { blocks, validators } = c.s.config
  const rd = c.s.rounds.get(round)
  const proposal = rd?.proposal
  if (rd === undefined || proposal === undefined || c.s.finished) return
  const matching = [...rd.commits.entries()].filter(([, s]) => equalsBytes(s.payload.digest, proposal.digest))
  if (matching.length < quorumSize(c.s)) return
  const unchecked = matching.filter(([key]) => !rd.sealsChecked.has(key))
  if (unchecked.length > 0) {
    const writable = writableRound(c, round)
    for (const [key, signed] of unchecked) {
      const signer = blocks.commitSealSigner(proposal.block, round, signed.payload.commitSeal)
      if (signer !== undefined && equalsBytes(signer, signed.author)) {
        writable.sealsChecked.add(key)
      } else {
        writable.commits.delete(key)
        drop(c, 'invalidCommitSeal', { type: 'COMMIT', signed })
      }
    }
  }
  const checked = c.s.rounds.get(round)!
  const seals: Uint8Array[] = []
  for (const validator of validators) {
    const commit = checked.commits.get(addressKey(validator))
    if (commit === undefined || !checked.sealsChecked.has(addressKey(validator))) continue
    if (equalsBytes(commit.payload.digest, proposal.digest)) seals.push(commit.payload.commitSeal)
  }
  if (seals.length < quorumSize(c.s)) return
  c.s.finished = true
  c.s.awaitingBlock = undefined
  c.out.push({ type: 'commit', block: proposal.block, round, digest: proposal.digest, seals })
}
