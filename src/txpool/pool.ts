import { Blob4844Tx, type TypedTransaction } from '@ethereumjs/tx'
import { type Address, bytesToHex } from '@ethereumjs/util'
import { effectiveTip, type PooledTx, SenderTxs } from './account.js'
import { TxPoolError } from './errors.js'
import { BinaryHeap } from './heap.js'
import type { AccountState, TxPoolDeps } from './interface.js'
import { FULL_RESYNC_INTERVAL_BLOCKS, type TxPoolOptions } from './options.js'
import { selectTransactions } from './selection.js'
import {
  checkEnvelope,
  checkGasAndFee,
  decodeTransaction,
  envelopeOfTx,
  errorMessage,
  type StatelessRules,
} from './validation.js'

/** The cheapest possible transaction (params.TxGas): below this much gas left, a block is full. */
const TX_GAS = 21_000n

interface EvictionCandidate {
  entry: PooledTx
  tip: bigint
}

/** Cheapest first; among equal tips the newest goes first, which favours a sender's highest nonces. */
function cheaper(a: EvictionCandidate, b: EvictionCandidate): boolean {
  return a.tip < b.tip || (a.tip === b.tip && a.entry.seq > b.entry.seq)
}

/** Told of every admitted transaction with the bytes it was admitted from (for a blob tx: with its sidecar). */
export type AddedListener = (tx: TypedTransaction, raw: Uint8Array) => void

/**
 * Pending/queued transaction pool with geth's admission rules. Per sender, a nonce-keyed list whose contiguous run
 * from the state nonce is pending; block building reads it through `selectForBlock`, block import prunes it.
 */
export class TxPool {
  /** Settles when the work `prioritize` runs is done; admissions wait for it. */
  private held: Promise<void> | undefined
  private readonly byHash = new Map<string, PooledTx>()
  private readonly accounts = new Map<string, SenderTxs>()
  private pendingTotal = 0
  private queuedTotal = 0
  private seq = 0
  private blocksSinceResync = 0
  /** Min-heap of every pooled tx by effective tip at `evictionBaseFee`; removed txs are skipped lazily. */
  private eviction: BinaryHeap<EvictionCandidate> = new BinaryHeap(cheaper)
  private evictionBaseFee = -1n
  private readonly addedListeners = new Set<AddedListener>()
  /** Transactions decoded by `prepareRaw`, by the keccak of their raw bytes, until their `addRaw` takes them. */
  private readonly prepared = new Map<string, TypedTransaction>()

  constructor(
    private readonly opts: TxPoolOptions,
    private readonly deps: TxPoolDeps,
  ) {}

  /**
   * Runs `work` with new admissions held back until it settles (the consensus engine builds and imports blocks
   * this way, so that a burst of submissions does not take the event loop from a block being built).
   */
  async prioritize<T>(work: () => Promise<T>): Promise<T> {
    const running = work()
    const settled = running.then(
      () => {},
      () => {},
    )
    this.held = settled
    try {
      return await running
    } finally {
      if (this.held === settled) this.held = undefined
    }
  }

  /** Decodes with the chain's Common and admits; returns the tx hash. */
  async addRaw(raw: Uint8Array): Promise<Uint8Array> {
    while (this.held !== undefined) await this.held
    const tx = this.takePrepared(raw) ?? this.decode(raw)
    // Blob transactions are sized without their sidecar (the blobs are not part of the transaction).
    return this.admit(tx, tx instanceof Blob4844Tx ? tx.serialize().length : raw.length, raw)
  }

  /**
   * Decodes a batch of raw transactions ahead of their `addRaw` calls (a JSON-RPC batch, a gossiped batch) and
   * recovers their senders together, off the event loop where the node can. Nothing is admitted here: the calls that
   * follow take the decoded transactions instead of decoding again. Bytes that do not decode are left for `addRaw`
   * to refuse. Returns the release of whatever the calls did not take.
   */
  async prepareRaw(raws: readonly Uint8Array[]): Promise<() => void> {
    const keys: string[] = []
    const txs: TypedTransaction[] = []
    for (const raw of raws) {
      const key = this.preparedKey(raw)
      if (key === undefined || this.prepared.has(key)) continue
      let tx: TypedTransaction
      try {
        tx = this.decode(raw)
      } catch {
        continue
      }
      this.prepared.set(key, tx)
      keys.push(key)
      txs.push(tx)
    }
    if (txs.length > 0) await this.deps.recoverSenders?.(txs)
    return () => {
      for (const key of keys) this.prepared.delete(key)
    }
  }

  private takePrepared(raw: Uint8Array): TypedTransaction | undefined {
    if (this.prepared.size === 0) return undefined
    const key = this.preparedKey(raw)
    const tx = key === undefined ? undefined : this.prepared.get(key)
    if (key !== undefined) this.prepared.delete(key)
    return tx
  }

  /** Raw transactions are matched by the keccak of their bytes (the hash, for all but blob transactions). */
  private preparedKey(raw: Uint8Array): string | undefined {
    const keccak = this.deps.common.customCrypto.keccak256
    return keccak === undefined ? undefined : bytesToHex(keccak(raw))
  }

  private decode(raw: Uint8Array): TypedTransaction {
    const tx = decodeTransaction(raw, this.rules())
    if (tx instanceof Blob4844Tx) return tx
    // The raw bytes are the transaction's encoding: hash them once instead of re-encoding the decoded fields, into the
    // cache @ethereumjs/tx's hash() reads for frozen transactions.
    const keccak = this.deps.common.customCrypto.keccak256
    const cache = (tx as unknown as { cache: { hash?: Uint8Array } }).cache
    if (keccak !== undefined && Object.isFrozen(tx) && cache.hash === undefined) cache.hash = keccak(raw)
    return tx
  }

  async add(tx: TypedTransaction): Promise<Uint8Array> {
    // Unsigned txs cannot be serialized; the envelope check reports them as invalid sender.
    const raw = tx.isSigned() ? tx.serialize() : new Uint8Array()
    return this.admit(tx, raw.length, raw)
  }

  /**
   * Calls `listener` with every transaction the pool accepts (pending filters, subscriptions, the journal); returns
   * an unsubscriber.
   */
  onAdded(listener: AddedListener): () => void {
    this.addedListeners.add(listener)
    return () => this.addedListeners.delete(listener)
  }

  get(hash: Uint8Array): TypedTransaction | undefined {
    return this.byHash.get(bytesToHex(hash))?.tx
  }

  has(hash: Uint8Array): boolean {
    return this.byHash.has(bytesToHex(hash))
  }

  /** Cached sender of a pooled tx; recovers (and @ethereumjs/tx caches) it for a tx not in the pool. */
  sender(tx: TypedTransaction): Address {
    return this.byHash.get(bytesToHex(tx.hash()))?.account.address ?? tx.getSenderAddress()
  }

  /** The nonce after the sender's contiguous pending run; the state nonce when nothing is pending. */
  async pendingNonce(address: Address): Promise<bigint> {
    const state = await this.deps.getAccount(address)
    const account = this.accounts.get(address.toString())
    if (account === undefined) return state.nonce
    this.syncAccount(account, state)
    return account.pendingEnd
  }

  /** Pending txs for a block, in the pool's order (`TxPoolOptions.order`); selection removes nothing. */
  selectForBlock(baseFeePerGas: bigint, gasLimit: bigint): TypedTransaction[] {
    return selectTransactions(this.accounts.values(), this.opts.order, baseFeePerGas, gasLimit, TX_GAS)
  }

  /** Removes the block's txs, then re-reads the affected senders (all senders every few blocks) and prunes. */
  async onBlockImported(includedTxs: TypedTransaction[]): Promise<void> {
    const affected = new Map<string, SenderTxs>()
    for (const tx of includedTxs) {
      const entry = this.byHash.get(bytesToHex(tx.hash()))
      if (entry !== undefined) {
        affected.set(entry.account.key, entry.account)
        this.removeEntry(entry)
        continue
      }
      if (this.accounts.size === 0) continue
      // Included from elsewhere: the same sender+nonce may be pooled under another hash. Block import has
      // already recovered the sender, which @ethereumjs/tx caches on the tx object.
      let key: string
      try {
        key = tx.getSenderAddress().toString()
      } catch {
        continue
      }
      const account = this.accounts.get(key)
      if (account !== undefined) affected.set(key, account)
    }
    if (++this.blocksSinceResync >= FULL_RESYNC_INTERVAL_BLOCKS) {
      this.blocksSinceResync = 0
      for (const account of this.accounts.values()) affected.set(account.key, account)
    }
    const accounts = [...affected.values()].filter((account) => account.txs.size > 0)
    const states = await Promise.all(accounts.map((account) => this.deps.getAccount(account.address)))
    for (let i = 0; i < accounts.length; i++) {
      // The sender may have been emptied and re-created while the state was being read.
      const account = this.accounts.get(accounts[i].key)
      // An overlapping call may already have applied a later state: nonces only move forward.
      if (account !== undefined && states[i].nonce >= account.stateNonce) this.resetAccount(account, states[i])
    }
  }

  /** Every pooled tx, pending and queued, in arrival order (the journal is rewritten from it). */
  transactionsInArrivalOrder(): TypedTransaction[] {
    // A Map iterates in insertion order, and an entry is inserted into `byHash` once, when it arrives.
    const txs: TypedTransaction[] = []
    for (const entry of this.byHash.values()) txs.push(entry.tx)
    return txs
  }

  stats(): { pending: number; queued: number } {
    return { pending: this.pendingTotal, queued: this.queuedTotal }
  }

  content(): { pending: Map<string, TypedTransaction[]>; queued: Map<string, TypedTransaction[]> } {
    const pending = new Map<string, TypedTransaction[]>()
    const queued = new Map<string, TypedTransaction[]>()
    const txsOf = (entries: PooledTx[]) => entries.map((entry) => entry.tx)
    for (const account of this.accounts.values()) {
      if (account.pendingCount > 0) pending.set(account.key, txsOf(account.pending()))
      if (account.queuedCount > 0) queued.set(account.key, txsOf(account.queued()))
    }
    return { pending, queued }
  }

  private rules(): StatelessRules {
    return {
      common: this.deps.common,
      maxTxBytes: this.opts.maxTxBytes,
      blockGasLimit: this.deps.head().gasLimit,
      acceptBlobs: this.deps.acceptBlobs ?? false,
    }
  }

  private async admit(tx: TypedTransaction, size: number, raw: Uint8Array): Promise<Uint8Array> {
    const head = this.deps.head()
    const envelope = envelopeOfTx(tx, size)
    checkEnvelope(envelope, this.rules())
    checkGasAndFee(tx, envelope.feeCap, head.baseFeePerGas)
    const hashBytes = tx.hash()
    const hash = bytesToHex(hashBytes)
    if (this.byHash.has(hash)) throw new TxPoolError('ALREADY_KNOWN')
    // The one ECDSA recovery per admitted tx; cheap checks above run first so junk never pays for it.
    let sender: Address
    try {
      sender = tx.getSenderAddress()
    } catch (err) {
      throw new TxPoolError('INVALID_SENDER', errorMessage(err))
    }
    const state = await this.readAccount(sender)
    // Another add() of the same tx may have completed while the account was being read.
    if (this.byHash.has(hash)) throw new TxPoolError('ALREADY_KNOWN')

    const key = sender.toString()
    let account = this.accounts.get(key)
    if (account !== undefined) this.syncAccount(account, state)
    account = this.accounts.get(key)
    const stateNonce = account?.stateNonce ?? state.nonce
    const balance = account?.balance ?? state.balance
    const nonce = tx.nonce
    if (nonce < stateNonce) {
      throw new TxPoolError('NONCE_TOO_LOW', `next nonce ${stateNonce}, tx nonce ${nonce}`, { stateNonce, nonce })
    }
    const cost = tx.gasLimit * envelope.feeCap + tx.value
    if (balance < cost) {
      throw new TxPoolError('INSUFFICIENT_FUNDS', `balance ${balance}, tx cost ${cost}, overshot ${cost - balance}`)
    }
    // geth's overdraft rule: everything the sender has pooled, with this tx in place of a replaced one, must fit.
    const replaced = account?.txs.get(nonce)
    const spent = account?.totalCost ?? 0n
    const need = spent - (replaced?.cost ?? 0n) + cost
    if (balance < need) {
      throw new TxPoolError(
        'INSUFFICIENT_FUNDS',
        `balance ${balance}, queued cost ${spent}, overshot ${need - balance}`,
      )
    }
    if (replaced !== undefined && !this.isPriceBump(replaced, envelope.feeCap, envelope.tipCap)) {
      throw new TxPoolError('REPLACEMENT_UNDERPRICED', `nonce ${nonce}`)
    }
    if (replaced === undefined) {
      const pendingEnd = account?.pendingEnd ?? stateNonce
      if (nonce > pendingEnd && (account?.queuedCount ?? 0) >= this.opts.maxQueuedPerAccount) {
        throw new TxPoolError('ACCOUNT_LIMIT', `${this.opts.maxQueuedPerAccount} queued transactions`)
      }
      if (this.byHash.size >= this.opts.maxSlots) this.makeRoom(key, nonce, envelope.feeCap, envelope.tipCap)
    }

    // Eviction cannot have emptied this sender (victims are other senders'), but re-read to be safe.
    account = this.accounts.get(key)
    if (account === undefined) {
      account = new SenderTxs(sender, key, stateNonce, balance)
      this.accounts.set(key, account)
    }
    const entry: PooledTx = {
      tx,
      hash,
      account,
      nonce,
      gasLimit: tx.gasLimit,
      feeCap: envelope.feeCap,
      tipCap: envelope.tipCap,
      cost,
      seq: this.seq++,
    }
    const target = account
    const previous = this.updateCounts(target, () => target.put(entry))
    if (previous !== undefined) this.byHash.delete(previous.hash)
    this.byHash.set(hash, entry)
    this.pushEvictionCandidate(entry)
    for (const listener of this.addedListeners) {
      try {
        listener(tx, raw)
      } catch {
        // A listener's failure is its own; admission stands.
      }
    }
    return hashBytes
  }

  /** Reads the account, again if a block landed meanwhile, so that a just-mined nonce is never admitted. */
  private async readAccount(address: Address): Promise<AccountState> {
    for (;;) {
      const headNumber = this.deps.head().number
      const state = await this.deps.getAccount(address)
      if (this.deps.head().number === headNumber) return state
    }
  }

  /** geth's rule: both caps strictly higher and at least priceBump % above the old ones. */
  private isPriceBump(old: PooledTx, feeCap: bigint, tipCap: bigint): boolean {
    if (feeCap <= old.feeCap || tipCap <= old.tipCap) return false
    const factor = BigInt(100 + this.opts.priceBumpPercent)
    return feeCap >= (old.feeCap * factor) / 100n && tipCap >= (old.tipCap * factor) / 100n
  }

  /**
   * Frees a slot for a new tx of `senderKey` at `nonce`, or throws POOL_FULL. Both rules rank pooled txs by effective
   * tip at the head's base fee, the newest first among equal tips (`cheaper`):
   * - price order (geth): the cheapest tx of another sender goes if the new tx pays a higher effective tip; that
   *   sender's later nonces stay, queued behind the gap;
   * - fifo order (Besu's sequenced pool, `AbstractPendingTransactionsSorter.evictLessPriorityTransactions`): the
   *   least-priority tx of the whole pool, the new one included, goes with all its sender's later nonces so that no
   *   gap is left. The new tx is the newest, so it is itself that tx unless it out-pays the cheapest: on a zero-fee
   *   chain a full pool keeps its oldest txs and refuses newcomers (Besu 23.10.2, PRs #6106 and #6146).
   */
  private makeRoom(senderKey: string, nonce: bigint, feeCap: bigint, tipCap: bigint): void {
    const baseFee = this.deps.head().baseFeePerGas
    if (baseFee !== this.evictionBaseFee) this.rebuildEviction(baseFee)
    const heap = this.eviction
    const fifo = this.opts.order === 'fifo'
    const ownTxs: EvictionCandidate[] = []
    let victim: EvictionCandidate | undefined
    for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
      if (this.byHash.get(top.entry.hash) !== top.entry) {
        heap.pop()
      } else if (!fifo && top.entry.account.key === senderKey) {
        ownTxs.push(heap.pop() as EvictionCandidate)
      } else {
        victim = top
        break
      }
    }
    for (const candidate of ownTxs) heap.push(candidate)
    const tip = effectiveTip(feeCap, tipCap, baseFee)
    // In fifo order, evicting one of the sender's own lower nonces would take the new tx with it.
    const ownLowerNonce = victim !== undefined && victim.entry.account.key === senderKey && victim.entry.nonce < nonce
    if (victim === undefined || victim.tip >= tip || ownLowerNonce) {
      throw new TxPoolError('POOL_FULL', `${this.opts.maxSlots} transactions`)
    }
    heap.pop()
    if (!fifo) {
      this.removeEntry(victim.entry)
      return
    }
    const { account } = victim.entry
    const later = [...account.txs.values()].filter((entry) => entry.nonce >= victim.entry.nonce)
    // Highest nonce first, as Besu, so that no step leaves a gap.
    later.sort((a, b) => (a.nonce < b.nonce ? 1 : -1))
    for (const entry of later) this.removeEntry(entry)
  }

  private pushEvictionCandidate(entry: PooledTx): void {
    if (this.eviction.size > 2 * this.byHash.size + 1024) {
      this.rebuildEviction(this.evictionBaseFee)
    } else {
      this.eviction.push({ entry, tip: effectiveTip(entry.feeCap, entry.tipCap, this.evictionBaseFee) })
    }
  }

  /** Re-keys the heap at a new base fee (effective tips change with it) and drops stale entries: O(n). */
  private rebuildEviction(baseFee: bigint): void {
    const candidates: EvictionCandidate[] = []
    for (const entry of this.byHash.values()) {
      candidates.push({ entry, tip: effectiveTip(entry.feeCap, entry.tipCap, baseFee) })
    }
    this.eviction = new BinaryHeap(cheaper, candidates)
    this.evictionBaseFee = baseFee
  }

  private removeEntry(entry: PooledTx): void {
    const account = entry.account
    if (account.txs.get(entry.nonce) !== entry) return
    this.updateCounts(account, () => account.remove(entry.nonce))
    this.byHash.delete(entry.hash)
  }

  /** Folds a fresh account read into a sender; stale reads (lower nonce than known) are ignored. */
  private syncAccount(account: SenderTxs, state: AccountState): void {
    if (state.nonce < account.stateNonce) return
    if (state.nonce === account.stateNonce && state.balance >= account.balance) {
      account.balance = state.balance
      return
    }
    this.resetAccount(account, state)
  }

  private resetAccount(account: SenderTxs, state: AccountState): void {
    const maxGasLimit = this.deps.head().gasLimit
    const dropped = this.updateCounts(account, () => account.reset(state.nonce, state.balance, maxGasLimit))
    for (const entry of dropped) this.byHash.delete(entry.hash)
  }

  /** Runs a mutation of one sender, keeping the pool-wide pending/queued counts and the sender map in step. */
  private updateCounts<T>(account: SenderTxs, mutate: () => T): T {
    const pending = account.pendingCount
    const queued = account.queuedCount
    const result = mutate()
    this.pendingTotal += account.pendingCount - pending
    this.queuedTotal += account.queuedCount - queued
    if (account.txs.size === 0 && this.accounts.get(account.key) === account) this.accounts.delete(account.key)
    return result
  }
}
