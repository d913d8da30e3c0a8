import type { TypedTransaction } from '@ethereumjs/tx'
import { effectiveTip, type PooledTx, type SenderTxs } from './account.js'
import { BinaryHeap } from './heap.js'

interface SenderCursor {
  account: SenderTxs
  entry: PooledTx
  tip: bigint
}

function higherPriority(a: SenderCursor, b: SenderCursor): boolean {
  return a.tip > b.tip || (a.tip === b.tip && a.entry.seq < b.entry.seq)
}

/**
 * geth's TransactionsByPriceAndNonce: a heap over senders keyed by the effective tip of each sender's next pending
 * tx (earlier arrival wins ties); within a sender strictly by nonce. A sender whose next tx cannot pay the base fee
 * or does not fit the remaining gas is dropped, since its later nonces cannot be included without it.
 */
export function selectByPriceAndNonce(
  accounts: Iterable<SenderTxs>,
  baseFeePerGas: bigint,
  gasLimit: bigint,
  minTxGas: bigint,
): TypedTransaction[] {
  const cursors: SenderCursor[] = []
  for (const account of accounts) {
    if (account.pendingEnd === account.stateNonce) continue
    const entry = account.txs.get(account.stateNonce) as PooledTx
    if (entry.feeCap < baseFeePerGas) continue
    cursors.push({ account, entry, tip: effectiveTip(entry.feeCap, entry.tipCap, baseFeePerGas) })
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
    heap.replaceTop({ account, entry: next, tip: effectiveTip(next.feeCap, next.tipCap, baseFeePerGas) })
  }
  return selected
}
