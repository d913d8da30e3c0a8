/**
 * From block parameters to blocks: state methods fail on an unknown block ("header not found"), block getters
 * answer null. Finality is immediate under QBFT, so 'safe', 'finalized' and 'pending' are the head.
 */
import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import { sealedExtraData } from '../consensus/qbft/index.js'
import { serverError } from './errors.js'
import { data, formatBlock, formatTransaction, inclusionOf, type RpcBlock } from './format.js'
import type { RpcContext } from './options.js'
import type { BlockNumberParam, BlockParam } from './params.js'

/** The block number a tag or number stands for (may be above the head). */
export function blockNumberOf(ctx: RpcContext, param: BlockNumberParam): bigint {
  if (param.kind === 'number') return param.number
  return param.tag === 'earliest' ? 0n : ctx.deps.chain.head.header.number
}

/** The block a parameter names, or undefined when there is none (yet). */
export async function findBlock(ctx: RpcContext, param: BlockParam): Promise<Block | undefined> {
  const { chain } = ctx.deps
  if (param.kind === 'hash') return chain.getBlockByHash(param.hash)
  if (param.kind === 'tag' && param.tag !== 'earliest') return chain.head
  return chain.getBlockByNumber(blockNumberOf(ctx, param))
}

/** The block whose state a method reads; geth's errors when there is none. Absent parameter = latest. */
export async function stateBlock(ctx: RpcContext, param: BlockParam | undefined): Promise<Block> {
  if (param === undefined) return ctx.deps.chain.head
  const block = await findBlock(ctx, param)
  if (block === undefined) throw serverError(param.kind === 'hash' ? 'header for hash not found' : 'header not found')
  return block
}

/** Sender of a transaction (cached by the pool, else recovered once per tx object). */
export function senderOf(ctx: RpcContext): (tx: TypedTransaction) => Address {
  const { txpool } = ctx.deps
  return (tx) => txpool.sender(tx)
}

/**
 * Senders of a block's transactions by index: as recorded at import (no signature recovered again), else as
 * `senderOf` finds them.
 */
export async function blockSenders(
  ctx: RpcContext,
  block: Block,
): Promise<(tx: TypedTransaction, index: number) => Address> {
  const recorded = block.transactions.length > 0 ? await ctx.deps.chain.getSenders(block.hash()) : undefined
  const fallback = senderOf(ctx)
  if (recorded === undefined || recorded.length !== block.transactions.length) return (tx) => fallback(tx)
  return (_tx, index) => new Address(recorded[index])
}

/** A block as eth_getBlockBy* answers it, with the full extraData (seals) and size. */
export async function renderBlock(ctx: RpcContext, block: Block, fullTransactions: boolean): Promise<RpcBlock> {
  const seals = await ctx.deps.chain.getSeals(block.hash())
  const transactions = fullTransactions
    ? await blockSenders(ctx, block).then((sender) =>
        block.transactions.map((tx, index) => formatTransaction(tx, sender(tx, index), inclusionOf(block, index))),
      )
    : block.transactions.map((tx) => data(tx.hash()))
  return formatBlock(block, sealedExtraData(block.header, seals), transactions)
}
