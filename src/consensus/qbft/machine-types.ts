/** Types of the QBFT round state machine: what it is configured with, the events it takes and what it asks for. */
import type { Payload, QbftMessage, SignedPayload } from './messages.js'

/**
 * What the state machine needs to know about a block, which is otherwise opaque to it.
 *
 * `hash` is the digest PREPARE, COMMIT and ROUND_CHANGE messages reference. Besu uses the commit-seal hash of the
 * block at its own round (round included, seals excluded), so the digest changes with `withRound`; a scheme that
 * ignores the round works too, since re-proposals are always checked through `withRound`.
 */
export interface BlockInterface<B> {
  hash(block: B): Uint8Array
  number(block: B): bigint
  /** Round written in the block (QBFT extraData round). */
  round(block: B): number
  /** The block's proposer (QBFT: coinbase). */
  proposer(block: B): Uint8Array
  /** The same block with another round; the proposer is kept, as Besu does when re-proposing. */
  withRound(block: B, round: number): B
  /** Address that produced `seal` over `block` committed in `round`, or undefined when it does not recover. */
  commitSealSigner(block: B, round: number, seal: Uint8Array): Uint8Array | undefined
  /** RLP as carried in proposals and round changes. */
  encode(block: B): Uint8Array
  /** Inverse of encode; throws on malformed bytes. */
  decode(bytes: Uint8Array): B
}

/** This node's signing key, wrapped: deterministic, no I/O. Absent on a node that only observes. */
export interface MachineSigner<B> {
  signPayload<P extends Payload>(payload: P): SignedPayload<P>
  /** The commit seal over `block` committed in `round` (Besu QbftRound.createCommitSeal). */
  signCommitSeal(block: B, round: number): Uint8Array
}

export interface MachineConfig<B> {
  /** Number of the block being decided. */
  height: bigint
  /** Validators for this height, sorted ascending. */
  validators: readonly Uint8Array[]
  localAddress: Uint8Array
  /** Proposer of the parent block (its coinbase); undefined for the block after genesis. */
  previousProposer: Uint8Array | undefined
  /** Round 0 timeout; round r waits requestTimeoutMs * 2^r, capped. */
  requestTimeoutMs: number
  maxRoundTimeoutMs: number
  /** Rounds ahead of (and behind) the current one whose messages are kept (Besu futureMessagesMaxDistance). */
  roundWindow?: number
  blocks: BlockInterface<B>
  signer: MachineSigner<B> | undefined
}

export const DEFAULT_ROUND_WINDOW = 10

export type MachineEvent<B> =
  /** The block period after the parent has passed: round 0 starts. */
  | { type: 'blockTimerExpired' }
  | { type: 'roundTimerExpired'; round: number }
  /** A message for this height whose signatures the engine has checked (authors recovered). */
  | { type: 'message'; message: QbftMessage }
  /** The block the engine built in answer to a `buildBlock` output. */
  | { type: 'blockBuilt'; round: number; block: B }
  /** The engine's verdict on a block it was asked to validate. */
  | { type: 'blockValidated'; round: number; digest: Uint8Array; valid: boolean }
  /** A block at `height` or above was imported by other means (sync, gossip): this height is over. */
  | { type: 'newChainHead'; height: bigint }

export type DropReason =
  | 'unknownSigner'
  | 'wrongHeight'
  | 'oldRound'
  | 'futureRound'
  | 'duplicate'
  | 'equivocation'
  | 'invalidProposal'
  | 'invalidJustification'
  | 'invalidBlock'
  | 'invalidCommitSeal'

export const DROP_REASONS: readonly DropReason[] = [
  'unknownSigner',
  'wrongHeight',
  'oldRound',
  'futureRound',
  'duplicate',
  'equivocation',
  'invalidProposal',
  'invalidJustification',
  'invalidBlock',
  'invalidCommitSeal',
]

/** Prepared certificate as stored: the block at the round it was prepared in, and the quorum of PREPAREs. */
export interface LoggedPreparedCertificate {
  round: number
  block: Uint8Array
  prepares: SignedPayload<Extract<Payload, { type: 'PREPARE' }>>[]
}

/**
 * What this node has signed at this height that it must never contradict: the messages it sent in the latest
 * round it sent anything in, and its latest prepared certificate (a COMMIT it sent promises it). Plain data.
 */
export interface SignedLog {
  height: bigint
  round: number
  messages: QbftMessage[]
  prepared: LoggedPreparedCertificate | undefined
}

export type MachineOutput<B> =
  /** Store the log durably, and only then execute the broadcasts that follow. */
  | { type: 'persist'; log: SignedLog }
  | { type: 'broadcast'; message: QbftMessage }
  /** Build a block for this height to propose in `round`; answer with `blockBuilt`. */
  | { type: 'buildBlock'; round: number }
  /** Execute a proposed block; answer with `blockValidated`. */
  | { type: 'validateBlock'; round: number; digest: Uint8Array; block: B }
  /** (Re-)arm the single round timer; fire `roundTimerExpired(round)` after `ms`. */
  | { type: 'armRoundTimer'; round: number; ms: number }
  /** The height is decided: import `block` with these seals, committed in `round`. */
  | { type: 'commit'; block: B; round: number; digest: Uint8Array; seals: Uint8Array[] }
  | { type: 'dropped'; reason: DropReason; message: QbftMessage }
