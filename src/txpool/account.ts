import type { TypedTransaction } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'

export interface PooledTx {
  readonly tx: TypedTransaction
  /** 0x-hex hash, the pool's key. */
  readonly hash: string
  readonly account: SenderTxs
  readonly nonce: bigint
  readonly gasLimit: bigint
  /** maxFeePerGas, or gasPrice. */
  readonly feeCap: bigint
  /** maxPriorityFeePerGas, or gasPrice. */
  readonly tipCap: bigint
  /** gasLimit * feeCap + value: the most the tx can take from the sender's balance. */
  readonly cost: bigint
  /** Arrival order, the tie-breaker between equal tips. */
  readonly seq: number
}

export function effectiveTip(feeCap: bigint, tipCap: bigint, baseFeePerGas: bigint): bigint {
  const headroom = feeCap - baseFeePerGas
  return tipCap < headroom ? tipCap : headroom
}

function compareNonces(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * One sender's pooled transactions, keyed by nonce. Every nonce is >= `stateNonce`; the contiguous run
 * [stateNonce, pendingEnd) is pending (executable now), the rest sits behind a gap and is queued.
 */
export class SenderTxs {
  readonly txs = new Map<bigint, PooledTx>()
  /** Sum of `cost` over all pooled txs (geth's "existing expenditure"). */
  totalCost = 0n
  pendingEnd: bigint

  constructor(
    readonly address: Address,
    /** Lowercase 0x-hex address. */
    readonly key: string,
    public stateNonce: bigint,
    public balance: bigint,
  ) {
    this.pendingEnd = stateNonce
  }

  get pendingCount(): number {
    return Number(this.pendingEnd - this.stateNonce)
  }

  get queuedCount(): number {
    return this.txs.size - this.pendingCount
  }

  /** Inserts `entry`, returning the same-nonce tx it replaces, if any. A filled gap promotes queued txs. */
  put(entry: PooledTx): PooledTx | undefined {
    const replaced = this.txs.get(entry.nonce)
    this.txs.set(entry.nonce, entry)
    this.totalCost += entry.cost - (replaced?.cost ?? 0n)
    if (replaced === undefined && entry.nonce === this.pendingEnd) this.extendPendingRun()
    return replaced
  }

  /** Removes the tx at `nonce`; its successors in the pending run become queued. */
  remove(nonce: bigint): PooledTx | undefined {
    const entry = this.txs.get(nonce)
    if (entry === undefined) return undefined
    this.txs.delete(nonce)
    this.totalCost -= entry.cost
    if (nonce < this.pendingEnd) this.pendingEnd = nonce
    return entry
  }

  /**
   * Applies a new account state: drops txs below the state nonce, txs above `maxGasLimit`, and txs the balance
   * no longer covers once their predecessors are paid for; re-derives pending and queued. Returns the dropped.
   */
  reset(stateNonce: bigint, balance: bigint, maxGasLimit: bigint): PooledTx[] {
    this.stateNonce = stateNonce
    this.balance = balance
    const dropped: PooledTx[] = []
    let spent = 0n
    for (const nonce of [...this.txs.keys()].sort(compareNonces)) {
      const entry = this.txs.get(nonce) as PooledTx
      if (nonce < stateNonce || entry.gasLimit > maxGasLimit || spent + entry.cost > balance) {
        this.txs.delete(nonce)
        this.totalCost -= entry.cost
        dropped.push(entry)
      } else {
        spent += entry.cost
      }
    }
    this.pendingEnd = stateNonce
    this.extendPendingRun()
    return dropped
  }

  /** Pending txs in nonce order. */
  pending(): PooledTx[] {
    const out: PooledTx[] = []
    for (let nonce = this.stateNonce; nonce < this.pendingEnd; nonce++) out.push(this.txs.get(nonce) as PooledTx)
    return out
  }

  /** Queued txs in nonce order. */
  queued(): PooledTx[] {
    const out: PooledTx[] = []
    for (const [nonce, entry] of this.txs) if (nonce >= this.pendingEnd) out.push(entry)
    return out.sort((a, b) => compareNonces(a.nonce, b.nonce))
  }

  private extendPendingRun(): void {
    let nonce = this.pendingEnd
    while (this.txs.has(nonce)) nonce++
    this.pendingEnd = nonce
  }
}
