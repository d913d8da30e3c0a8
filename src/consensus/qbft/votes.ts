/**
 * Validator voting in block-header mode, as Besu's VoteTally / VoteTallyUpdater / VoteProposer
 * (consensus/common/.../validator/blockbased): each block may carry one vote, authored by its proposer (coinbase).
 */
import { bytesToHex, hexToBytes, type PrefixedHexString } from '@ethereumjs/util'
import { ADDRESS_LENGTH } from './constants.js'
import { QbftError } from './errors.js'
import type { QbftVote } from './extraData.js'
import { compareAddresses } from './proposer.js'

/** The fields of a header that voting reads. */
export interface VotingBlock {
  number: bigint
  /** The proposer, who authors the block's vote. */
  coinbase: Uint8Array
  vote: QbftVote | undefined
}

/** Outstanding (not yet decided) votes for one recipient. */
export interface PendingVotesFor {
  recipient: Uint8Array
  /** Validators that voted to add `recipient`, ascending. */
  add: Uint8Array[]
  /** Validators that voted to drop `recipient`, ascending. */
  drop: Uint8Array[]
}

/** Votes needed to pass a change: more than half of `validatorCount` (Besu `validatorLimit = n / 2 + 1`). */
export function voteThreshold(validatorCount: number): number {
  return Math.floor(validatorCount / 2) + 1
}

/** Besu's EpochManager (start block 0): block 0 and every multiple of the epoch length. */
export function isEpochBlock(number: bigint, epochLength: number): boolean {
  if (!Number.isSafeInteger(epochLength) || epochLength <= 0) throw new RangeError(`bad epoch length ${epochLength}`)
  return number % BigInt(epochLength) === 0n
}

/** The epoch block at or before `number`. */
export function lastEpochBlock(number: bigint, epochLength: number): bigint {
  return number - (number % BigInt(epochLength))
}

const key = (address: Uint8Array): PrefixedHexString => bytesToHex(address)

function checkAddress(address: Uint8Array, what: string): void {
  if (address.length !== ADDRESS_LENGTH) {
    throw new QbftError('INVALID_VALIDATORS', `${what} must be a ${ADDRESS_LENGTH}-byte address`, {
      length: address.length,
    })
  }
}

function sortedAddresses(keys: Iterable<PrefixedHexString>): Uint8Array[] {
  return [...keys].map((k) => hexToBytes(k)).sort(compareAddresses)
}

/**
 * The validator set plus the outstanding votes, after some block. Semantics follow Besu exactly, because every
 * header lists the set this tally produces and peers reject a header whose list differs:
 * - a vote records its author in the recipient's add (or drop) set and withdraws the author's opposite vote;
 * - ADD for a current validator and DROP for a non-validator are recorded too (Besu's VoteProposer casts them to
 *   withdraw an earlier opposite vote), they just cannot change the set;
 * - after recording, if the add (then the drop) set of that recipient reaches `voteThreshold(n)`, the change
 *   applies and every vote for the recipient is discarded; a dropped validator's own votes are discarded too.
 *   Only the voted-on recipient is re-checked, so a set that reached the threshold because `n` shrank waits
 *   for the next vote about that recipient, as in Besu.
 * - a vote whose author is not a current validator is ignored. Besu does not check this, but header validation
 *   requires the coinbase to be a validator after the parent, so it only matters for a vote in a genesis block.
 */
export class VoteTally {
  private readonly members: Set<PrefixedHexString>
  private readonly addVotes: Map<PrefixedHexString, Set<PrefixedHexString>>
  private readonly dropVotes: Map<PrefixedHexString, Set<PrefixedHexString>>
  private sorted: Uint8Array[] | undefined

  constructor(validators: readonly Uint8Array[]) {
    for (const v of validators) checkAddress(v, 'validator')
    this.members = new Set(validators.map(key))
    this.addVotes = new Map()
    this.dropVotes = new Map()
  }

  copy(): VoteTally {
    const copy = new VoteTally([])
    for (const m of this.members) copy.members.add(m)
    for (const [recipient, authors] of this.addVotes) copy.addVotes.set(recipient, new Set(authors))
    for (const [recipient, authors] of this.dropVotes) copy.dropVotes.set(recipient, new Set(authors))
    copy.sorted = this.sorted
    return copy
  }

  /**
   * Moves the tally past `block` (Besu VoteTallyUpdater.updateForBlock): in the last block of an epoch (the next
   * block is an epoch block) all outstanding votes are discarded and that block's own vote is not counted;
   * otherwise the block's vote, if any, is counted.
   */
  applyBlock(block: VotingBlock, epochLength: number): void {
    if (isEpochBlock(block.number + 1n, epochLength)) {
      this.discardPendingVotes()
      return
    }
    if (block.vote !== undefined) this.addVote(block.coinbase, block.vote)
  }

  /** Counts one vote by `author` (see the class comment for the rules). */
  addVote(author: Uint8Array, vote: QbftVote): void {
    checkAddress(vote.recipient, 'vote recipient')
    const authorKey = key(author)
    if (!this.members.has(authorKey)) return
    const recipient = key(vote.recipient)
    const adds = this.votesIn(this.addVotes, recipient)
    const drops = this.votesIn(this.dropVotes, recipient)
    if (vote.add) {
      adds.add(authorKey)
      drops.delete(authorKey)
    } else {
      drops.add(authorKey)
      adds.delete(authorKey)
    }
    const threshold = voteThreshold(this.members.size)
    if (adds.size >= threshold) {
      this.members.add(recipient)
      this.sorted = undefined
      this.discardVotesFor(recipient)
    }
    if (drops.size >= threshold) {
      this.members.delete(recipient)
      this.sorted = undefined
      this.discardVotesFor(recipient)
      for (const authors of this.addVotes.values()) authors.delete(recipient)
      for (const authors of this.dropVotes.values()) authors.delete(recipient)
    }
  }

  /** Epoch reset: forgets every outstanding vote (both kinds; Besu < 26.1 forgot only ADD votes, #9870). */
  discardPendingVotes(): void {
    this.addVotes.clear()
    this.dropVotes.clear()
  }

  /** The validators, ascending; a fresh array each call. */
  validators(): Uint8Array[] {
    this.sorted ??= sortedAddresses(this.members)
    return this.sorted.map((v) => v.slice())
  }

  get size(): number {
    return this.members.size
  }

  isValidator(address: Uint8Array): boolean {
    return this.members.has(key(address))
  }

  /** Whether `author` has an outstanding vote of kind `add` for `recipient`. */
  hasVoted(author: Uint8Array, recipient: Uint8Array, add: boolean): boolean {
    return (add ? this.addVotes : this.dropVotes).get(key(recipient))?.has(key(author)) ?? false
  }

  /** Outstanding votes per recipient, recipients ascending; recipients without votes are left out. */
  pendingVotes(): PendingVotesFor[] {
    const recipients = new Set([...this.addVotes.keys(), ...this.dropVotes.keys()])
    const out: PendingVotesFor[] = []
    for (const recipient of recipients) {
      const add = sortedAddresses(this.addVotes.get(recipient) ?? [])
      const drop = sortedAddresses(this.dropVotes.get(recipient) ?? [])
      if (add.length > 0 || drop.length > 0) out.push({ recipient: hexToBytes(recipient), add, drop })
    }
    return out.sort((a, b) => compareAddresses(a.recipient, b.recipient))
  }

  private votesIn(
    votes: Map<PrefixedHexString, Set<PrefixedHexString>>,
    recipient: PrefixedHexString,
  ): Set<PrefixedHexString> {
    let authors = votes.get(recipient)
    if (authors === undefined) {
      authors = new Set()
      votes.set(recipient, authors)
    }
    return authors
  }

  private discardVotesFor(recipient: PrefixedHexString): void {
    this.addVotes.delete(recipient)
    this.dropVotes.delete(recipient)
  }
}

/**
 * This node's own vote proposals (qbft_proposeValidatorVote / qbft_discardValidatorVote / qbft_getPendingVotes),
 * as Besu's VoteProposer. Proposals are not consensus state: they survive epochs and are re-cast after one.
 */
export class VoteProposer {
  private readonly proposals = new Map<PrefixedHexString, boolean>()
  private position = 0

  /** Queues (or replaces) the wish to add (`add = true`) or drop `address`. */
  propose(address: Uint8Array, add: boolean): void {
    checkAddress(address, 'vote recipient')
    this.proposals.set(key(address), add)
  }

  /** Forgets the proposal for `address`; votes already in blocks stay counted until the next epoch. */
  discard(address: Uint8Array): void {
    this.proposals.delete(key(address))
  }

  /** address (lower-case hex) → true for add, false for drop. */
  pending(): Map<PrefixedHexString, boolean> {
    return new Map(this.proposals)
  }

  /**
   * The vote to put in a block this node proposes on top of the block whose tally is `tally`, or undefined.
   * Like Besu, only proposals whose vote would change something qualify: DROP a validator (or withdraw our ADD),
   * ADD a non-validator (or withdraw our DROP), never one our vote is already counted for. Qualifying proposals
   * take turns block by block. (Besu iterates a hash map, so its order is arbitrary; ours is insertion order.)
   */
  nextVote(tally: VoteTally, localAddress: Uint8Array): QbftVote | undefined {
    const candidates: QbftVote[] = []
    for (const [address, add] of this.proposals) {
      const recipient = hexToBytes(address)
      if (this.wouldChange(tally, localAddress, recipient, add)) candidates.push({ recipient, add })
    }
    if (candidates.length === 0) return undefined
    const vote = candidates[this.position % candidates.length]
    this.position = (this.position + 1) % Number.MAX_SAFE_INTEGER
    return vote
  }

  private wouldChange(tally: VoteTally, local: Uint8Array, recipient: Uint8Array, add: boolean): boolean {
    const votedAdd = tally.hasVoted(local, recipient, true)
    const votedDrop = tally.hasVoted(local, recipient, false)
    const isValidator = tally.isValidator(recipient)
    return add ? (!isValidator && !votedAdd) || votedDrop : (isValidator && !votedDrop) || votedAdd
  }
}
