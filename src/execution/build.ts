import type { Block, HeaderData } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import {
  type BlockBuilder,
  buildBlock as createBuilder,
  type RunTxResult,
  type TxReceipt,
  type VM,
} from '@ethereumjs/vm'

export interface RejectedTx {
  tx: TypedTransaction
  reason: string
  /** True when the tx failed validation (bad nonce, cannot pay); false when it only did not fit this block. */
  invalid: boolean
}

export interface BuiltBlock {
  block: Block
  receipts: TxReceipt[]
  results: RunTxResult[]
  rejected: RejectedTx[]
}

/** BlockBuilder fields read or swapped here (private in its typings). */
interface BuilderInternals {
  transactions: TypedTransaction[]
  transactionResults: RunTxResult[]
}

const GAS_FOR_CHEAPEST_TX = 21_000n

/**
 * Builds a block from `txs` in order on the VM's current state, skipping transactions that fail validation.
 * @ethereumjs's BlockBuilder re-creates a block holding every earlier transaction for each added one (O(n²));
 * handing it an empty list during `addTransaction` keeps the cost per transaction constant, same block.
 */
export async function buildBlock(
  vm: VM,
  parent: Block,
  headerData: HeaderData,
  txs: Iterable<TypedTransaction>,
  limits: { deadline?: number },
): Promise<BuiltBlock> {
  const builder = await createBuilder(vm, {
    parentBlock: parent,
    headerData,
    blockOpts: { putBlockIntoBlockchain: false, setHardfork: true },
  })
  try {
    const rejected = await addTransactions(builder, txs, BigInt(headerData.gasLimit as bigint), limits)
    const { block } = await builder.build()
    return {
      block,
      receipts: builder.transactionReceipts,
      results: (builder as unknown as BuilderInternals).transactionResults,
      rejected,
    }
  } catch (e) {
    await builder.revert()
    throw e
  }
}

async function addTransactions(
  builder: BlockBuilder,
  txs: Iterable<TypedTransaction>,
  gasLimit: bigint,
  limits: { deadline?: number },
): Promise<RejectedTx[]> {
  const internals = builder as unknown as BuilderInternals
  const rejected: RejectedTx[] = []
  for (const tx of txs) {
    if (limits.deadline !== undefined && Date.now() > limits.deadline) break
    if (gasLimit - builder.gasUsed < GAS_FOR_CHEAPEST_TX) break
    if (tx.gasLimit > gasLimit - builder.gasUsed) {
      rejected.push({ tx, reason: 'block gas limit reached', invalid: false })
      continue
    }
    const earlier = internals.transactions
    internals.transactions = []
    try {
      await builder.addTransaction(tx, { skipHardForkValidation: true })
    } catch (e) {
      rejected.push({ tx, reason: (e as Error).message.replace(/ \(block number=.*$/s, ''), invalid: true })
    } finally {
      const added = internals.transactions
      internals.transactions = earlier
      earlier.push(...added)
    }
  }
  return rejected
}
