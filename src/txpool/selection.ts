import type { TypedTransaction } from '@ethereumjs/tx'
import { effectiveTip, type PooledTx, type SenderTxs } from './account.js'
import { BinaryHeap } from './heap.js'
import type { TxPoolOrder } from './options.js'

interface SenderCursor {
  account: SenderTxs
  entry: PooledTx
  /** Effective tip of `entry` in price order; 0 for every sender in arrival order. */
  tip: bigint
  /** Arrival rank: `entry`'s seq in price order; in arrival order the latest seq of `entry` and its predecessors. */
  arrival: number
}

function higherPriority(a: SenderCursor, b: SenderCursor): boolean {
  return a.tip > b.tip || (a.tip === b.tip && a.arrival < b.arrival)
}

/**
 * A heap over senders keyed by each sender's next pending tx; within a sender strictly by nonce. A sender whose next
 * tx cannot pay the base fee or does not fit the remaining gas is dropped, since its later nonces cannot be included
 * without it; selection stops when less than `minTxGas` is left.
 *
 * - 'price' is geth's TransactionsByPriceAndNonce: the next tx's effective tip, earlier arrival winning ties.
 * - 'fifo' takes txs in arrival order across senders. A tx can only follow its lower nonces, so it ranks at the latest
 *   arrival among itself and its sender's pending predecessors: a nonce 1 that arrived before its nonce 0 goes in
 *   right after that nonce 0, at nonce 0's place in the line.
 */
export function selectTransactions(
  accounts: Iterable<SenderTxs>,
  order: TxPoolOrder,
  baseFeePerGas: bigint,
  gasLimit: bigint,
  minTxGas: bigint,
): TypedTransaction[] {
  const byPrice = order === 'price'
  const cursors: SenderCursor[] = []
  for (const account of accounts) {
    if (account.pendingEnd === account.stateNonce) continue
    const entry = account.txs.get(account.stateNonce) as PooledTx
    if (entry.feeCap < baseFeePerGas) continue
    const tip = byPrice ? effectiveTip(entry.feeCap, entry.tipCap, baseFeePerGas) : 0n
    cursors.push({ account, entry, tip, arrival: entry.seq })
  }
  const heap = new BinaryHeap(higherPriority, cursors)
  const selected: TypedTransaction[] = []
  let gasLeft = gasLimit
  while (gasLeft >= minTxGas) {
    const cursor = heap.peek()
    if (cursor === undefined) break
    const { account, entry } = cursor
    if (entry.gasLimit > gasLeft) {
      heap.pop()
      continue
    }
    selected.push(entry.tx)
    gasLeft -= entry.gasLimit
    const nextNonce = entry.nonce + 1n
    const next = nextNonce < account.pendingEnd ? account.txs.get(nextNonce) : undefined
    if (next === undefined || next.feeCap < baseFeePerGas) {
      heap.pop()
      continue
    }
    heap.replaceTop(
      byPrice
        ? { account, entry: next, tip: effectiveTip(next.feeCap, next.tipCap, baseFeePerGas), arrival: next.seq }
        : { account, entry: next, tip: 0n, arrival: Math.max(cursor.arrival, next.seq) },
    )
  }
  return selected
}
