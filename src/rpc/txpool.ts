/** The txpool_ namespace as geth answers it: status counts, full content, one sender's content, and a summary. */
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address, toChecksumAddress } from '@ethereumjs/util'
import type { MethodTable } from './dispatcher.js'
import { formatTransaction, quantity, type RpcTransaction } from './format.js'
import type { RpcContext } from './options.js'
import { address, required, withParams } from './params.js'

type ByNonce<T> = Record<string, T>

/** geth's one-line summary: "0xTo: VALUE wei + GAS gas × PRICE wei" (the fee cap for EIP-1559 transactions). */
function summary(tx: TypedTransaction): string {
  const to = tx.to === undefined ? 'contract creation' : toChecksumAddress(tx.to.toString())
  const price = 'maxFeePerGas' in tx ? tx.maxFeePerGas : (tx as { gasPrice: bigint }).gasPrice
  return `${to}: ${tx.value} wei + ${tx.gasLimit} gas × ${price} wei`
}

export function txpoolMethods(ctx: RpcContext): MethodTable {
  const { txpool } = ctx.deps

  /** Both sections of the pool, each sender (checksummed) mapping decimal nonces to `render(tx)`. */
  function sections<T>(render: (tx: TypedTransaction) => T) {
    const { pending, queued } = txpool.content()
    const section = (bySender: Map<string, TypedTransaction[]>) => {
      const out: Record<string, ByNonce<T>> = {}
      for (const [sender, txs] of bySender) {
        const entries: ByNonce<T> = {}
        for (const tx of txs) entries[tx.nonce.toString()] = render(tx)
        out[toChecksumAddress(sender)] = entries
      }
      return out
    }
    return { pending: section(pending), queued: section(queued) }
  }
  const full = (tx: TypedTransaction): RpcTransaction => formatTransaction(tx, txpool.sender(tx))

  return {
    txpool_status: withParams([], () => {
      const { pending, queued } = txpool.stats()
      return { pending: quantity(pending), queued: quantity(queued) }
    }),
    txpool_content: withParams([], () => sections(full)),
    txpool_inspect: withParams([], () => sections(summary)),
    txpool_contentFrom: withParams([required(address)], (from) => {
      const key = new Address(from).toString()
      const { pending, queued } = sections(full)
      const pick = (section: Record<string, ByNonce<RpcTransaction>>) => section[toChecksumAddress(key)] ?? {}
      return { pending: pick(pending), queued: pick(queued) }
    }),
  }
}
