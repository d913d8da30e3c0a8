/**
 * Otterscan's ots_ namespace (API level 8, as Erigon, reth and anvil serve it) and erigon_getHeaderByNumber: block
 * details with fees, paginated block transactions, internal operations and call trees from traces, revert data, and
 * address history from the chain's indexes. Otterscan waits forever on an error, so a block or transaction that does
 * not exist answers null.
 */
import type { Block } from '@ethereumjs/block'
import { Address, bigIntToHex, bytesToHex } from '@ethereumjs/util'
import type { TxPosition } from '../indexes/index.js'
import type { CallFrame } from '../trace/call.js'
import type { MethodTable } from './dispatcher.js'
import {
  addressHex,
  data,
  effectiveGasPrice,
  formatReceipt,
  formatReceipts,
  formatTransaction,
  inclusionOf,
  quantity,
  type RpcReceipt,
  type RpcTransaction,
} from './format.js'
import type { RpcContext } from './options.js'
import {
  address,
  type BlockNumberParam,
  blockParam,
  decodeBlockNumber,
  decoded,
  decodeUint64,
  hash,
  ParamError,
  required,
  withParams,
} from './params.js'
import { blockSenders, findBlock, renderBlock } from './resolve.js'
import { DEFAULT_TRACE_TIMEOUT_MS, Tracing, withTimeout } from './tracing.js'

/** The API level Otterscan checks for (ots_getApiLevel). */
export const OTS_API_LEVEL = 8

/** Otterscan sends block numbers and counts as JSON numbers (Erigon takes both forms): accept those and hex. */
function plainOrHex(value: unknown): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new ParamError(`invalid number ${value}`)
    return BigInt(value)
  }
  return decodeUint64(value)
}
const count = decoded(plainOrHex)
const blockNumber = decoded(
  (value): BlockNumberParam =>
    typeof value === 'number' ? { kind: 'number', number: plainOrHex(value) } : decodeBlockNumber(value),
)

/** Largest page of an address search; a page still ends with a whole block. */
const MAX_SEARCH_PAGE = 1000
/** More transactions than a block can hold (30M gas / 21,000): the rest of a page's last block. */
const BLOCK_TX_BOUND = 5000
const LAST_INDEX = 0xffffffff

/** Largest page ots_getBlockTransactions serves. */
const MAX_PAGE_SIZE = 1000

enum OperationType {
  Transfer = 0,
  SelfDestruct = 1,
  Create = 2,
  Create2 = 3,
}

interface InternalOperation {
  type: OperationType
  from: string
  to: string
  value: string
}

interface OtsTrace {
  type: string
  depth: number
  from: string
  to: string
  value: string | null
  input: string
  output: string
}

const hexAddress = (bytes: Uint8Array | undefined) => new Address(bytes ?? new Uint8Array(20)).toString()

/** Internal ETH transfers, creations and self-destructs below the transaction's own call, in execution order. */
function internalOperations(root: CallFrame): InternalOperation[] {
  const out: InternalOperation[] = []
  const walk = (frame: CallFrame) => {
    for (const child of frame.calls) {
      const value = child.value ?? 0n
      const op = (type: OperationType) =>
        out.push({ type, from: hexAddress(child.from), to: hexAddress(child.to), value: bigIntToHex(value) })
      if (child.type === 'CALL' && value > 0n) op(OperationType.Transfer)
      else if (child.type === 'SELFDESTRUCT') op(OperationType.SelfDestruct)
      else if (child.type === 'CREATE') op(OperationType.Create)
      else if (child.type === 'CREATE2') op(OperationType.Create2)
      walk(child)
    }
  }
  walk(root)
  return out
}

/** Every frame of the call tree, depth first, as ots_traceTransaction lists them. */
function otsTrace(root: CallFrame): OtsTrace[] {
  const out: OtsTrace[] = []
  const walk = (frame: CallFrame, depth: number) => {
    const carriesValue = frame.type !== 'STATICCALL' && frame.type !== 'DELEGATECALL'
    out.push({
      type: frame.type,
      depth,
      from: hexAddress(frame.from),
      to: hexAddress(frame.to),
      value: carriesValue ? bigIntToHex(frame.value ?? 0n) : null,
      input: bytesToHex(frame.input),
      output: bytesToHex(frame.output),
    })
    for (const child of frame.calls) walk(child, depth + 1)
  }
  walk(root, 0)
  return out
}

export function otsMethods(ctx: RpcContext): MethodTable {
  const { chain, execution } = ctx.deps
  const tracing = new Tracing(ctx)
  const deadline = () => Date.now() + DEFAULT_TRACE_TIMEOUT_MS

  async function callTree(txHash: Uint8Array): Promise<CallFrame | undefined> {
    const found = await tracing.locate(txHash)
    if (found === undefined) return undefined
    const traced = await withTimeout(undefined, () => tracing.callTree(found.block, found.index, deadline()))
    return traced.root
  }

  async function receiptsOf(block: Block): Promise<RpcReceipt[]> {
    const stored = (await chain.getReceipts(block.hash())) ?? []
    return formatReceipts(block, stored, await blockSenders(ctx, block))
  }

  /** Sum of what senders paid for gas in `block` (base fee included). */
  function totalFees(block: Block, receipts: RpcReceipt[]): bigint {
    return block.transactions.reduce(
      (sum, tx, i) => sum + BigInt(receipts[i].gasUsed) * effectiveGasPrice(tx, block.header.baseFeePerGas),
      0n,
    )
  }

  async function blockDetails(block: Block | undefined) {
    if (block === undefined) return null
    const rendered = await renderBlock(ctx, block, false)
    const { transactions, ...rest } = rendered
    const receipts = await receiptsOf(block)
    return {
      block: { ...rest, logsBloom: null, transactionCount: transactions.length },
      // QBFT pays no block or uncle reward: nothing is issued.
      issuance: { blockReward: quantity(0), uncleReward: quantity(0), issuance: quantity(0) },
      totalFees: quantity(totalFees(block, receipts)),
    }
  }

  /** A block by number, read once per request. */
  function blockReader() {
    const blocks = new Map<bigint, Promise<Block | undefined>>()
    return (number: bigint) => {
      let block = blocks.get(number)
      if (block === undefined) {
        block = chain.getBlockByNumber(number)
        blocks.set(number, block)
      }
      return block
    }
  }

  /**
   * ots_searchTransactionsBefore/After (Erigon's semantics): transactions where `address` is sender, recipient,
   * created contract or any internal caller/callee, newest first; a page holds at least `pageSize` transactions if
   * there are that many, and always whole blocks. `blockNumber` 0 = from the head (before) or the genesis (after).
   */
  async function search(address: Uint8Array, direction: 'before' | 'after', blockNumber: bigint, pageSize: bigint) {
    const size = Number(pageSize < 1n ? 1n : pageSize > BigInt(MAX_SEARCH_PAGE) ? BigInt(MAX_SEARCH_PAGE) : pageSize)
    const { index } = chain
    const head = chain.head.header.number
    const from = (p: TxPosition) => (direction === 'before' ? { before: p } : { after: p })
    const start: TxPosition =
      direction === 'before'
        ? { blockNumber: blockNumber === 0n ? head + 1n : blockNumber, index: 0 }
        : { blockNumber, index: LAST_INDEX }
    const positions = await index.appearances(address, from(start), size)
    let last = positions.at(-1)
    if (last !== undefined && positions.length === size) {
      const rest = await index.appearances(address, from(last), BLOCK_TX_BOUND)
      const lastBlock = last.blockNumber
      positions.push(...rest.filter((p) => p.blockNumber === lastBlock))
      last = positions.at(-1)
    }
    const exhausted = last === undefined || (await index.appearances(address, from(last), 1)).length === 0
    if (direction === 'after') positions.reverse()
    const blockOf = blockReader()
    const receiptsOf = new Map<bigint, Promise<Awaited<ReturnType<typeof chain.getReceipts>>>>()
    const txs: RpcTransaction[] = []
    const receipts: (RpcReceipt & { timestamp: string })[] = []
    for (const p of positions) {
      const block = await blockOf(p.blockNumber)
      const tx = block?.transactions[p.index]
      if (block === undefined || tx === undefined) continue
      let stored = receiptsOf.get(p.blockNumber)
      if (stored === undefined) {
        stored = chain.getReceipts(block.hash())
        receiptsOf.set(p.blockNumber, stored)
      }
      const blockReceipts = await stored
      if (blockReceipts === undefined) continue
      const sender = (await blockSenders(ctx, block))(tx, p.index)
      txs.push(formatTransaction(tx, sender, inclusionOf(block, p.index)))
      receipts.push({
        ...formatReceipt(block, blockReceipts, p.index, sender),
        timestamp: quantity(block.header.timestamp),
      })
    }
    return direction === 'before'
      ? { txs, receipts, firstPage: blockNumber === 0n, lastPage: exhausted }
      : { txs, receipts, firstPage: exhausted, lastPage: blockNumber === 0n }
  }

  async function txAt(position: TxPosition | undefined) {
    if (position === undefined) return undefined
    return (await chain.getBlockByNumber(position.blockNumber))?.transactions[position.index]
  }

  return {
    ots_getApiLevel: withParams([], () => OTS_API_LEVEL),
    ots_searchTransactionsBefore: withParams(
      [required(address), required(count), required(count)],
      (addr, blockNumber, pageSize) => search(addr, 'before', blockNumber, pageSize),
    ),
    ots_searchTransactionsAfter: withParams(
      [required(address), required(count), required(count)],
      (addr, blockNumber, pageSize) => search(addr, 'after', blockNumber, pageSize),
    ),
    ots_getTransactionBySenderAndNonce: withParams([required(address), required(count)], async (sender, nonce) => {
      const tx = await txAt(await chain.index.txBySenderAndNonce(sender, nonce))
      return tx === undefined ? null : data(tx.hash())
    }),
    ots_getContractCreator: withParams([required(address)], async (contract) => {
      const creation = await chain.index.contractCreator(contract)
      const tx = await txAt(creation)
      return creation === undefined || tx === undefined
        ? null
        : { hash: data(tx.hash()), creator: addressHex(creation.creator) }
    }),
    ots_hasCode: withParams([required(address), required(blockParam)], async (addr, param) => {
      // A block that does not exist answers null (Otterscan waits forever on an error).
      const block = await findBlock(ctx, param)
      if (block === undefined) return null
      const state = await execution.stateAt(block.header.stateRoot)
      return (await state.getCode(new Address(addr))).length > 0
    }),
    ots_getInternalOperations: withParams([required(hash)], async (txHash) => {
      const root = await callTree(txHash)
      return root === undefined ? null : internalOperations(root)
    }),
    ots_traceTransaction: withParams([required(hash)], async (txHash) => {
      const root = await callTree(txHash)
      return root === undefined ? null : otsTrace(root)
    }),
    ots_getTransactionError: withParams([required(hash)], async (txHash) => {
      const found = await tracing.locate(txHash)
      if (found === undefined) return null
      const receipts = await chain.getReceipts(found.block.hash())
      if (receipts?.[found.index]?.status === 1) return '0x'
      const root = await callTree(txHash)
      return root === undefined ? null : data(root.output)
    }),
    ots_getBlockDetails: withParams([required(blockNumber)], async (number) =>
      blockDetails(await findBlock(ctx, number)),
    ),
    ots_getBlockDetailsByHash: withParams([required(hash)], async (blockHash) =>
      blockDetails(await chain.getBlockByHash(blockHash)),
    ),
    ots_getBlockTransactions: withParams(
      [required(blockNumber), required(count), required(count)],
      async (number, pageNumber, pageSize) => {
        const block = await findBlock(ctx, number)
        if (block === undefined) return null
        const size = Number(pageSize > BigInt(MAX_PAGE_SIZE) ? BigInt(MAX_PAGE_SIZE) : pageSize)
        const count = block.transactions.length
        // Page 0 is the last `size` transactions (Erigon's paging), in block order.
        const end = Math.max(0, count - Number(pageNumber) * size)
        const start = Math.max(0, end - size)
        const full = await renderBlock(ctx, block, true)
        // Only the selector of each transaction's input: whole calldata does not scale.
        const txs = (full.transactions as RpcTransaction[])
          .slice(start, end)
          .map((tx) => ({ ...tx, input: tx.input.slice(0, 10) }))
        const receipts = (await receiptsOf(block)).slice(start, end).map((r) => ({ ...r, logs: null, logsBloom: null }))
        const { logsBloom: _bloom, ...header } = full
        return { fullblock: { ...header, logsBloom: null, transactions: txs, transactionCount: count }, receipts }
      },
    ),
  }
}

/** The erigon_ method Otterscan reads headers with: a block without its transaction list. */
export function erigonMethods(ctx: RpcContext): MethodTable {
  return {
    erigon_getHeaderByNumber: withParams([required(blockNumber)], async (number) => {
      const block = await findBlock(ctx, number)
      if (block === undefined) return null
      const { transactions: _txs, ...header } = await renderBlock(ctx, block, false)
      return header
    }),
  }
}
