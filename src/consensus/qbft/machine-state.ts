/** State of the QBFT round state machine for one height, its creation (fresh or from a SignedLog) and readers. */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import {
  DEFAULT_ROUND_WINDOW,
  DROP_REASONS,
  type DropReason,
  type MachineConfig,
  type SignedLog,
} from './machine-types.js'
import type {
  CommitPayload,
  PreparePayload,
  ProposalMessage,
  QbftMessage,
  RoundChangeMessage,
  RoundChangePayload,
  SignedPayload,
} from './messages.js'
import { containsAddress, selectProposer } from './proposer.js'
import { faultTolerance, quorum } from './quorum.js'

export interface ProposalRecord<B> {
  message: ProposalMessage
  block: B
  digest: Uint8Array
  /**
   * 'pending': the engine is executing it; 'valid': executed (or built here), PREPARE may follow;
   * 'unchecked': kept only to recognise a quorum of COMMITs (observers, past rounds) — import re-executes it.
   */
  status: 'pending' | 'valid' | 'unchecked'
}

export interface RoundChangeRecord<B> {
  message: RoundChangeMessage
  preparedBlock: B | undefined
}

/** Messages of one round, at most one of each kind per author (keys: author hex). */
export interface RoundData<B> {
  proposal: ProposalRecord<B> | undefined
  prepares: ReadonlyMap<string, SignedPayload<PreparePayload>>
  commits: ReadonlyMap<string, SignedPayload<CommitPayload>>
  /** Authors whose COMMIT seal has been checked against the proposal. */
  sealsChecked: ReadonlySet<string>
  /** ROUND_CHANGEs targeting this round. */
  roundChanges: ReadonlyMap<string, RoundChangeRecord<B>>
}

export interface PreparedCertificate<B> {
  round: number
  block: B
  digest: Uint8Array
  prepares: SignedPayload<PreparePayload>[]
}

export interface MachineState<B> {
  readonly config: Readonly<MachineConfig<B>> & { roundWindow: number }
  /** Current round; before `started`, the round the node will start in. */
  readonly round: number
  readonly started: boolean
  /** Set once the height is decided here or imported otherwise; every later event is ignored. */
  readonly finished: boolean
  readonly rounds: ReadonlyMap<number, RoundData<B>>
  readonly latestPrepared: PreparedCertificate<B> | undefined
  /** A `buildBlock` is outstanding for this round, to be proposed with these round changes. */
  readonly awaitingBlock: { round: number; roundChanges: SignedPayload<RoundChangePayload>[] } | undefined
  /** Messages signed in `log.round`, the latest round this node sent anything in (-1: none). */
  readonly log: { readonly round: number; readonly messages: readonly QbftMessage[] }
  /** Re-broadcast the restored log when the first round starts. */
  readonly resumeLog: boolean
  readonly dropped: Readonly<Record<DropReason, number>>
}

/** The same shape without `readonly`, used by the step functions on their private copy. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] }
export type MutableRoundData<B> = {
  proposal: ProposalRecord<B> | undefined
  prepares: Map<string, SignedPayload<PreparePayload>>
  commits: Map<string, SignedPayload<CommitPayload>>
  sealsChecked: Set<string>
  roundChanges: Map<string, RoundChangeRecord<B>>
}

export const addressKey = (address: Uint8Array): string => bytesToHex(address)

export function emptyRound<B>(): MutableRoundData<B> {
  return {
    proposal: undefined,
    prepares: new Map(),
    commits: new Map(),
    sealsChecked: new Set(),
    roundChanges: new Map(),
  }
}

export function cloneRound<B>(rd: RoundData<B>): MutableRoundData<B> {
  return {
    proposal: rd.proposal,
    prepares: new Map(rd.prepares),
    commits: new Map(rd.commits),
    sealsChecked: new Set(rd.sealsChecked),
    roundChanges: new Map(rd.roundChanges),
  }
}

function zeroCounters(): Record<DropReason, number> {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>
}

/**
 * A machine for `config.height`, not yet started (the `blockTimerExpired` event starts round 0). With `log` — what
 * this node signed at this height before a restart — it resumes in the logged round, bound by what it sent.
 */
export function createMachine<B>(config: MachineConfig<B>, log?: SignedLog): MachineState<B> {
  // Throws QbftError('INVALID_VALIDATORS') for an empty, unsorted or repeating set.
  selectProposer(config.validators, config.previousProposer, 0)
  const resolved = { ...config, roundWindow: config.roundWindow ?? DEFAULT_ROUND_WINDOW }
  const state: Mutable<MachineState<B>> = {
    config: resolved,
    round: 0,
    started: false,
    finished: false,
    rounds: new Map(),
    latestPrepared: undefined,
    awaitingBlock: undefined,
    log: { round: -1, messages: [] },
    resumeLog: false,
    dropped: zeroCounters(),
  }
  if (log === undefined || log.height !== config.height) return state
  restore(state, log)
  return state
}

function restore<B>(state: Mutable<MachineState<B>>, log: SignedLog): void {
  const { blocks, localAddress } = state.config
  const me = addressKey(localAddress)
  const rounds = state.rounds as Map<number, MutableRoundData<B>>
  const rd = emptyRound<B>()
  for (const m of log.messages) {
    if (m.signed.payload.round !== log.round || !equalsBytes(m.signed.author, localAddress)) continue
    switch (m.type) {
      case 'PROPOSAL': {
        const block = blocks.decode(m.signed.payload.block)
        rd.proposal = { message: m, block, digest: blocks.hash(block), status: 'valid' }
        break
      }
      case 'PREPARE':
        rd.prepares.set(me, m.signed)
        break
      case 'COMMIT':
        rd.commits.set(me, m.signed)
        rd.sealsChecked.add(me)
        break
      case 'ROUND_CHANGE':
        rd.roundChanges.set(me, {
          message: m,
          preparedBlock: m.preparedBlock === undefined ? undefined : blocks.decode(m.preparedBlock),
        })
        break
    }
  }
  if (log.round >= 0) {
    rounds.set(log.round, rd)
    state.round = log.round
  }
  state.log = { round: log.round, messages: log.messages.filter((m) => m.signed.payload.round === log.round) }
  state.resumeLog = log.round >= 0
  if (log.prepared !== undefined) {
    const block = blocks.decode(log.prepared.block)
    state.latestPrepared = {
      round: log.prepared.round,
      block,
      digest: blocks.hash(block),
      prepares: log.prepared.prepares,
    }
  }
}

/** What this node signed at this height and must not contradict; persist it before broadcasting. */
export function signedLog<B>(state: MachineState<B>): SignedLog {
  const prepared = state.latestPrepared
  return {
    height: state.config.height,
    round: state.log.round,
    messages: [...state.log.messages],
    prepared:
      prepared === undefined
        ? undefined
        : { round: prepared.round, block: state.config.blocks.encode(prepared.block), prepares: prepared.prepares },
  }
}

/** True when this node holds a key and is in this height's validator set. */
export function isLocalValidator<B>(state: MachineState<B>): boolean {
  return state.config.signer !== undefined && containsAddress(state.config.validators, state.config.localAddress)
}

export function proposerOf<B>(state: MachineState<B>, round: number): Uint8Array {
  return selectProposer(state.config.validators, state.config.previousProposer, round)
}

export function isLocalProposer<B>(state: MachineState<B>, round: number): boolean {
  return isLocalValidator(state) && equalsBytes(proposerOf(state, round), state.config.localAddress)
}

/** requestTimeoutMs * 2^round, capped at maxRoundTimeoutMs (Besu has no cap; operators asked for one). */
export function roundTimeoutMs(
  config: Pick<MachineConfig<unknown>, 'requestTimeoutMs' | 'maxRoundTimeoutMs'>,
  round: number,
): number {
  return Math.min(config.requestTimeoutMs * 2 ** Math.min(round, 52), config.maxRoundTimeoutMs)
}

export function quorumSize<B>(state: MachineState<B>): number {
  return quorum(state.config.validators.length)
}

/** f + 1: enough ROUND_CHANGEs to be sure one honest validator wants to move on. */
export function weakQuorumSize<B>(state: MachineState<B>): number {
  return faultTolerance(state.config.validators.length) + 1
}

export interface MachineStatus {
  height: bigint
  round: number
  started: boolean
  finished: boolean
  /** Leader of the current round. */
  proposer: Uint8Array
  quorum: number
  preparedRound: number | undefined
  /** Who asked for which round, from the current one up: the "round summary" operators need when a chain stalls. */
  roundChanges: { round: number; authors: Uint8Array[] }[]
  dropped: Readonly<Record<DropReason, number>>
}

/** A snapshot for RPC, metrics and logs. */
export function machineStatus<B>(state: MachineState<B>): MachineStatus {
  const roundChanges = [...state.rounds]
    .filter(([round, rd]) => round >= state.round && rd.roundChanges.size > 0)
    .sort(([a], [b]) => a - b)
    .map(([round, rd]) => ({ round, authors: [...rd.roundChanges.values()].map((r) => r.message.signed.author) }))
  return {
    height: state.config.height,
    round: state.round,
    started: state.started,
    finished: state.finished,
    proposer: proposerOf(state, state.round),
    quorum: quorumSize(state),
    preparedRound: state.latestPrepared?.round,
    roundChanges,
    dropped: state.dropped,
  }
}
