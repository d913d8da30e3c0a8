/**
 * The QBFT round state machine for one height, as a pure function `step(state, event) -> {state, outputs}`:
 * Besu's QbftBlockHeightManager + QbftRound + RoundChangeManager, checked against the Dafny spec (node.dfy).
 * No I/O, clock or key inside: the engine executes the outputs in order and feeds back timer expiries, messages,
 * built and validated blocks. Round-change rules live in machine-rounds.ts.
 */
import { equalsBytes } from '@ethereumjs/util'
import { checkProposal, checkRoundChange } from './justification.js'
import { createContext, drop, justificationContext, type StepContext, writableRound } from './machine-context.js'
import { changeRound, roundChangeRules, startRound } from './machine-rounds.js'
import { addressKey, isLocalValidator, type MachineState, proposerOf, signedLog } from './machine-state.js'
import type { DropReason, MachineEvent, MachineOutput } from './machine-types.js'
import { checkCommitted, checkPrepared, proposalAccepted, propose } from './machine-votes.js'
import {
  type CommitMessage,
  encodePayload,
  type PrepareMessage,
  type ProposalMessage,
  type QbftMessage,
  type RoundChangeMessage,
} from './messages.js'
import { containsAddress } from './proposer.js'

export interface StepResult<B> {
  state: MachineState<B>
  outputs: MachineOutput<B>[]
}

/** Applies one event. `state` is never modified; outputs must be executed in order (see MachineOutput). */
export function step<B>(state: MachineState<B>, event: MachineEvent<B>): StepResult<B> {
  if (state.finished) return { state, outputs: [] }
  const c = createContext(state)
  switch (event.type) {
    case 'blockTimerExpired':
      // Besu: a proposal may have started round 0 before the timer fired; nothing to do then.
      if (!c.s.started) {
        startRound(c, c.s.round)
        roundChangeRules(c)
      }
      break
    case 'roundTimerExpired':
      if (c.s.started && event.round === c.s.round) {
        changeRound(c, c.s.round + 1)
        roundChangeRules(c)
      }
      break
    case 'message':
      onMessage(c, event.message)
      break
    case 'blockBuilt':
      onBlockBuilt(c, event.round, event.block)
      break
    case 'blockValidated':
      onBlockValidated(c, event.round, event.digest, event.valid)
      break
    case 'newChainHead':
      if (event.height >= c.s.config.height) c.s.finished = true
      break
  }
  return { state: c.s, outputs: withPersist(c) }
}

/** One persist of the final log, placed before the first broadcast of the step. */
function withPersist<B>(c: StepContext<B>): MachineOutput<B>[] {
  if (!c.logChanged) return c.out
  const persist: MachineOutput<B> = { type: 'persist', log: signedLog(c.s) }
  const first = c.out.findIndex((o) => o.type === 'broadcast')
  if (first === -1) return [...c.out, persist]
  return [...c.out.slice(0, first), persist, ...c.out.slice(first)]
}

function decodeBlock<B>(c: StepContext<B>, bytes: Uint8Array): B | undefined {
  try {
    return c.s.config.blocks.decode(bytes)
  } catch {
    return undefined
  }
}

function onMessage<B>(c: StepContext<B>, m: QbftMessage): void {
  const reason = admit(c, m)
  if (reason !== undefined) drop(c, reason, m)
}

/** Handles a message; returns why it was dropped, if it was. */
function admit<B>(c: StepContext<B>, m: QbftMessage): DropReason | undefined {
  const { config } = c.s
  if (!containsAddress(config.validators, m.signed.author)) return 'unknownSigner'
  if (m.signed.payload.height !== config.height) return 'wrongHeight'
  if (m.signed.payload.round > c.s.round + config.roundWindow) return 'futureRound'
  switch (m.type) {
    case 'PROPOSAL':
      return onProposal(c, m)
    case 'PREPARE':
      return onPrepare(c, m)
    case 'COMMIT':
      return onCommit(c, m)
    case 'ROUND_CHANGE':
      return onRoundChange(c, m)
  }
}

/** The digest this node already prepared in `round` (restored from its log), which binds it for that round. */
function lockedDigest<B>(c: StepContext<B>, round: number): Uint8Array | undefined {
  if (c.s.log.round !== round) return undefined
  for (const m of c.s.log.messages) if (m.type === 'PREPARE') return m.signed.payload.digest
  return undefined
}

function onProposal<B>(c: StepContext<B>, m: ProposalMessage): DropReason | undefined {
  const { round } = m.signed.payload
  const { config } = c.s
  if (round < c.s.round - config.roundWindow) return 'oldRound'
  const known = c.s.rounds.get(round)?.proposal
  if (known !== undefined) {
    const same = equalsBytes(known.message.signed.payload.block, m.signed.payload.block)
    return same ? 'duplicate' : 'equivocation'
  }
  if (!equalsBytes(m.signed.author, proposerOf(c.s, round))) return 'invalidProposal'
  const block = decodeBlock(c, m.signed.payload.block)
  if (block === undefined) return 'invalidProposal'
  if (!checkProposal(m, block, m.signed.author, justificationContext(c)).ok) return 'invalidJustification'
  const digest = config.blocks.hash(block)
  const locked = lockedDigest(c, round)
  if (locked !== undefined && !equalsBytes(locked, digest)) return 'equivocation'
  if (round < c.s.round) {
    // Too late to prepare, but a quorum of COMMITs for it may still arrive.
    writableRound(c, round).proposal = { message: m, block, digest, status: 'unchecked' }
    checkCommitted(c, round)
    return undefined
  }
  // A justified proposal for a later round moves this node there (Besu handleProposalPayload).
  if (round > c.s.round || !c.s.started) startRound(c, round)
  const validator = isLocalValidator(c.s)
  writableRound(c, round).proposal = { message: m, block, digest, status: validator ? 'pending' : 'unchecked' }
  if (validator) c.out.push({ type: 'validateBlock', round, digest, block })
  checkCommitted(c, round)
  return undefined
}

function onBlockValidated<B>(c: StepContext<B>, round: number, digest: Uint8Array, valid: boolean): void {
  const proposal = c.s.rounds.get(round)?.proposal
  if (proposal === undefined || proposal.status !== 'pending' || !equalsBytes(proposal.digest, digest)) return
  const rd = writableRound(c, round)
  if (!valid) {
    rd.proposal = undefined
    drop(c, 'invalidBlock', proposal.message)
    return
  }
  rd.proposal = { ...proposal, status: 'valid' }
  if (round === c.s.round) proposalAccepted(c)
}

function onBlockBuilt<B>(c: StepContext<B>, round: number, built: B): void {
  const awaiting = c.s.awaitingBlock
  if (awaiting === undefined || awaiting.round !== round || round !== c.s.round || !c.s.started) return
  c.s.awaitingBlock = undefined
  const { blocks, height } = c.s.config
  const block = blocks.round(built) === round ? built : blocks.withRound(built, round)
  if (blocks.number(block) !== height) return
  propose(c, block, awaiting.roundChanges, [])
}

function onPrepare<B>(c: StepContext<B>, m: PrepareMessage): DropReason | undefined {
  const { round, digest } = m.signed.payload
  if (round < c.s.round) return 'oldRound'
  const key = addressKey(m.signed.author)
  const existing = c.s.rounds.get(round)?.prepares.get(key)
  if (existing !== undefined) return equalsBytes(existing.payload.digest, digest) ? 'duplicate' : 'equivocation'
  writableRound(c, round).prepares.set(key, m.signed)
  if (round === c.s.round) checkPrepared(c)
  return undefined
}

function onCommit<B>(c: StepContext<B>, m: CommitMessage): DropReason | undefined {
  const { round, digest, commitSeal } = m.signed.payload
  if (round < c.s.round - c.s.config.roundWindow) return 'oldRound'
  const key = addressKey(m.signed.author)
  const existing = c.s.rounds.get(round)?.commits.get(key)
  if (existing !== undefined) {
    const same = equalsBytes(existing.payload.digest, digest) && equalsBytes(existing.payload.commitSeal, commitSeal)
    return same ? 'duplicate' : 'equivocation'
  }
  writableRound(c, round).commits.set(key, m.signed)
  checkCommitted(c, round)
  return undefined
}

function onRoundChange<B>(c: StepContext<B>, m: RoundChangeMessage): DropReason | undefined {
  const { round } = m.signed.payload
  if (round < c.s.round) return 'oldRound'
  const key = addressKey(m.signed.author)
  const existing = c.s.rounds.get(round)?.roundChanges.get(key)
  if (existing !== undefined) {
    const same = equalsBytes(encodePayload(existing.message.signed.payload), encodePayload(m.signed.payload))
    return same ? 'duplicate' : 'equivocation'
  }
  const preparedBlock = m.preparedBlock === undefined ? undefined : decodeBlock(c, m.preparedBlock)
  if (m.preparedBlock !== undefined && preparedBlock === undefined) return 'invalidJustification'
  if (!checkRoundChange(m, preparedBlock, justificationContext(c)).ok) return 'invalidJustification'
  writableRound(c, round).roundChanges.set(key, { message: m, preparedBlock })
  roundChangeRules(c)
  return undefined
}
