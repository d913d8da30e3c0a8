/**
 * The validator set for every block, derived from header votes the way Besu's BlockValidatorProvider and
 * VoteTallyCache do: the tally after a block is its parent's tally plus the block's vote, and an epoch block
 * restarts from the validators its own extraData lists (which header validation made equal to the set after its
 * parent). Headers come through an injected reader; tallies are cached by block hash.
 */
import { bytesToHex, equalsBytes, type PrefixedHexString } from '@ethereumjs/util'
import { decodeExtraData } from './extraData.js'
import { sortValidators } from './proposer.js'
import { isEpochBlock, VoteTally, type VotingBlock } from './votes.js'

/** The header fields the provider reads; extraData in its stored (hashing) form. */
export interface QbftHeaderView {
  number: bigint
  hash: Uint8Array
  /** Optional: when given, finds a cached parent tally without a read and is checked against the parent read. */
  parentHash?: Uint8Array
  coinbase: Uint8Array
  extraData: Uint8Array
}

/** Reads the canonical header at `number`, or undefined when the chain has none. */
export type HeaderReader = (number: bigint) => Promise<QbftHeaderView | undefined>

/** Structural view of an @ethereumjs/block BlockHeader, so this module needs no dependency on it. */
export interface EthereumHeaderLike {
  number: bigint
  parentHash: Uint8Array
  coinbase: { bytes: Uint8Array }
  extraData: Uint8Array
  hash(): Uint8Array
}

export function headerView(header: EthereumHeaderLike): QbftHeaderView & { parentHash: Uint8Array } {
  return {
    number: header.number,
    hash: header.hash(),
    parentHash: header.parentHash,
    coinbase: header.coinbase.bytes,
    extraData: header.extraData,
  }
}

/** The validators a header lists (the set that decided that block), ascending. */
export function validatorsInHeader(header: Pick<QbftHeaderView, 'extraData'>): Uint8Array[] {
  return sortValidators(decodeExtraData(header.extraData).validators)
}

/** The number, proposer and vote of a header. */
export function votingBlock(header: QbftHeaderView): VotingBlock {
  return { number: header.number, coinbase: header.coinbase, vote: decodeExtraData(header.extraData).vote }
}

export interface ValidatorProviderOptions {
  /** Genesis `epochlength`; blocks at multiples of it discard outstanding votes. */
  epochLength: number
  /** Tallies kept for the most recently computed or imported blocks. */
  recentTallies: number
  /** A replay leaves a checkpoint tally at every multiple of this, so a later query replays at most this many. */
  checkpointInterval: number
  /** Checkpoint tallies kept. */
  checkpoints: number
}

export const defaultValidatorProviderOptions: Omit<ValidatorProviderOptions, 'epochLength'> = {
  recentTallies: 128,
  checkpointInterval: 1024,
  checkpoints: 64,
}

export type ValidatorsErrorCode = 'UNKNOWN_BLOCK' | 'NOT_CANONICAL'

export class ValidatorsError extends Error {
  readonly code: ValidatorsErrorCode
  readonly data: Record<string, unknown> | undefined

  constructor(code: ValidatorsErrorCode, message: string, data?: Record<string, unknown>) {
    super(message)
    this.name = 'ValidatorsError'
    this.code = code
    this.data = data
  }
}

/** Insertion-ordered map evicting the least recently used entry beyond `capacity`. */
class BoundedCache<V> {
  private readonly entries = new Map<PrefixedHexString, V>()

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size
  }

  get(key: PrefixedHexString): V | undefined {
    const value = this.entries.get(key)
    if (value !== undefined) {
      this.entries.delete(key)
      this.entries.set(key, value)
    }
    return value
  }

  set(key: PrefixedHexString, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as PrefixedHexString)
  }
}

export interface ValidatorProviderDeps {
  getHeader: HeaderReader
}

/**
 * Answers "which validators decide block n + 1" (`validatorsAfter(n)`) for any canonical block. Imports keep the
 * head's tally current in O(1) (`onBlockImported`); a cold query walks back to the nearest cached tally or epoch
 * block, at most `epochLength` headers once, at most `checkpointInterval` after that. Cached tallies are never
 * handed out: callers get fresh arrays or copies.
 */
export class ValidatorProvider {
  private readonly opts: ValidatorProviderOptions
  private readonly recent: BoundedCache<VoteTally>
  private readonly checkpoints: BoundedCache<VoteTally>
  /** The last imported block's tally, kept apart so history queries cannot evict it. */
  private head: { hash: PrefixedHexString; tally: VoteTally } | undefined

  constructor(
    opts: Pick<ValidatorProviderOptions, 'epochLength'> & Partial<ValidatorProviderOptions>,
    private readonly deps: ValidatorProviderDeps,
  ) {
    this.opts = { ...defaultValidatorProviderOptions, ...opts }
    isEpochBlock(0n, this.opts.epochLength) // validates the epoch length
    for (const name of ['recentTallies', 'checkpointInterval', 'checkpoints'] as const) {
      const value = this.opts[name]
      if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`)
    }
    this.recent = new BoundedCache(this.opts.recentTallies)
    this.checkpoints = new BoundedCache(this.opts.checkpoints)
  }

  /** Tallies held in memory (recent, checkpoints and the head); bounded by the options. */
  get cachedTallies(): number {
    return this.recent.size + this.checkpoints.size + (this.head === undefined ? 0 : 1)
  }

  /** The validators, ascending, that decide the block after `block` (a canonical number or a header). */
  async validatorsAfter(block: bigint | QbftHeaderView): Promise<Uint8Array[]> {
    return (await this.tally(block)).validators()
  }

  /** A private copy of the tally after `block` (validators and outstanding votes), e.g. for VoteProposer. */
  async tallyAfter(block: bigint | QbftHeaderView): Promise<VoteTally> {
    return (await this.tally(block)).copy()
  }

  /**
   * The validators listed in block `number`'s own extraData, ascending: the set that decided that block (the set
   * after its parent). This is what Besu's qbft_getValidatorsByBlockNumber / ...ByBlockHash return for a block
   * (ValidatorProvider.getValidatorsForBlock); for the tag "pending" Besu answers `validatorsAfter(head)` instead.
   * Undefined when the chain has no block `number`.
   */
  async validatorsAt(number: bigint): Promise<Uint8Array[] | undefined> {
    const header = await this.deps.getHeader(number)
    return header === undefined ? undefined : validatorsInHeader(header)
  }

  /**
   * Fast path for a block just added to the chain: derives its tally from the cached parent tally (or from its own
   * list at an epoch block) without reading headers. Returns false when the parent's tally is not cached; the next
   * query then computes it lazily.
   */
  onBlockImported(header: QbftHeaderView & { parentHash: Uint8Array }): boolean {
    const hash = bytesToHex(header.hash)
    let tally = this.cached(hash)
    if (tally === undefined) {
      const base = isEpochBlock(header.number, this.opts.epochLength)
        ? new VoteTally(decodeExtraData(header.extraData).validators)
        : this.cached(bytesToHex(header.parentHash))?.copy()
      if (base === undefined) return false
      base.applyBlock(votingBlock(header), this.opts.epochLength)
      tally = base
      this.store(header, tally)
    }
    this.head = { hash, tally }
    return true
  }

  private cached(hash: PrefixedHexString): VoteTally | undefined {
    if (this.head?.hash === hash) return this.head.tally
    return this.recent.get(hash) ?? this.checkpoints.get(hash)
  }

  private store(header: QbftHeaderView, tally: VoteTally): void {
    const hash = bytesToHex(header.hash)
    this.recent.set(hash, tally)
    if (header.number % BigInt(this.opts.checkpointInterval) === 0n) this.checkpoints.set(hash, tally)
  }

  private async read(number: bigint): Promise<QbftHeaderView> {
    const header = await this.deps.getHeader(number)
    if (header === undefined) throw new ValidatorsError('UNKNOWN_BLOCK', `no block ${number}`, { number })
    return header
  }

  /** The (shared, never mutated once cached) tally after `block`. */
  private async tally(block: bigint | QbftHeaderView): Promise<VoteTally> {
    const target = typeof block === 'bigint' ? await this.read(block) : block
    const hit = this.cached(bytesToHex(target.hash))
    if (hit !== undefined) return hit
    // Walk back to a block whose tally is known: a cached one, or an epoch block (its list + its vote).
    const newestFirst: QbftHeaderView[] = []
    let header = target
    let tally: VoteTally
    for (;;) {
      newestFirst.push(header)
      if (isEpochBlock(header.number, this.opts.epochLength)) {
        tally = new VoteTally(decodeExtraData(header.extraData).validators)
        break
      }
      const byParentHash = header.parentHash === undefined ? undefined : this.cached(bytesToHex(header.parentHash))
      if (byParentHash !== undefined) {
        tally = byParentHash.copy()
        break
      }
      const parent = await this.read(header.number - 1n)
      if (header.parentHash !== undefined && !equalsBytes(header.parentHash, parent.hash)) {
        throw new ValidatorsError('NOT_CANONICAL', `block ${header.number} does not extend the canonical chain`, {
          number: header.number,
          hash: bytesToHex(header.hash),
        })
      }
      const byParent = this.cached(bytesToHex(parent.hash))
      if (byParent !== undefined) {
        tally = byParent.copy()
        break
      }
      header = parent
    }
    // Replay oldest first; keep checkpoints on the way and the target at the end.
    for (let i = newestFirst.length - 1; i >= 0; i--) {
      const h = newestFirst[i]
      tally.applyBlock(votingBlock(h), this.opts.epochLength)
      if (i > 0 && h.number % BigInt(this.opts.checkpointInterval) === 0n) {
        this.checkpoints.set(bytesToHex(h.hash), tally.copy())
      }
    }
    this.store(target, tally)
    return tally
  }
}
