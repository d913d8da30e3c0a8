import { Block, type HeaderData } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { CLRequest, CLRequestType } from '@ethereumjs/util'
import { bytesToHex, equalsBytes, KECCAK256_RLP, toChecksumAddress, type WithdrawalData } from '@ethereumjs/util'
import {
  type BlockBuilder,
  buildBlock as createBuilder,
  encodeReceipt,
  type RunTxResult,
  type TxReceipt,
  type VM,
} from '@ethereumjs/vm'
import { keccak_256 as defaultKeccak } from '@noble/hashes/sha3.js'

import { TouchCollector, type TxTouches } from './touches.js'
import { TrieRootBuilder } from './trieRoot.js'

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
  /** Per included transaction: the addresses its messages touched and the contracts it created. */
  touches: TxTouches[]
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
  const builder = await openBuilder(vm, parent, headerData)
  const collector = new TouchCollector()
  collector.attach(vm)
  try {
    const { rejected, touches } = await addTransactions(
      builder,
      collector,
      txs,
      BigInt(headerData.gasLimit as bigint),
      limits,
    )
    const { block: assembled } = await builder.build()
    // The builder assembles the block from copies of the transactions; keep the originals, whose senders and hashes
    // are already known (the proposal's encoding, the import and the pool all ask for them again).
    const internals = builder as unknown as BuilderInternals
    const block = new Block(assembled.header, internals.transactions, [], assembled.withdrawals)
    return {
      block,
      receipts: builder.transactionReceipts,
      results: (builder as unknown as BuilderInternals).transactionResults,
      touches,
      rejected,
    }
  } catch (e) {
    await builder.revert()
    throw e
  } finally {
    collector.detach()
  }
}

/**
 * Executes `block` on its parent's state by building it again from its transactions with the same header inputs, and
 * checks that the result is the same block (every root, bloom, gas used: the hash covers them all). Any transaction
 * that fails makes the block invalid. Runs the code path the proposer ran, with its faster transaction and receipt
 * roots; the state is staged like a build, and the caller imports the block or resets.
 */
export async function replayBlock(vm: VM, parent: Block, block: Block): Promise<BuiltBlock> {
  if (block.uncleHeaders.length > 0) throw new Error('block has uncles')
  if ((block.withdrawals?.length ?? 0) > 0) throw new Error('block has withdrawals')
  const txErrors = block.getTransactionsValidationErrors()
  if (txErrors.length > 0) throw new Error(`invalid transactions: ${txErrors.join('; ')}`)
  const builder = await openBuilder(vm, parent, builderInputs(block))
  const collector = new TouchCollector()
  collector.attach(vm)
  try {
    const internals = builder as unknown as BuilderInternals
    const touches: TxTouches[] = []
    for (const [index, tx] of block.transactions.entries()) {
      const earlier = internals.transactions
      internals.transactions = []
      collector.begin()
      try {
        await builder.addTransaction(tx, { skipHardForkValidation: true })
        touches.push(collector.end())
      } catch (e) {
        throw new Error(
          `transaction ${index} (${bytesToHex(tx.hash())}): ${(e as Error).message.replace(/ \(block number=.*$/s, '')}`,
        )
      } finally {
        const added = internals.transactions
        internals.transactions = earlier
        earlier.push(...added)
      }
    }
    const { block: rebuilt } = await builder.build()
    if (!equalsBytes(rebuilt.hash(), block.hash()))
      throw new Error(`block differs when executed: ${headerDiff(rebuilt, block)}`)
    return {
      block: rebuilt,
      receipts: builder.transactionReceipts,
      results: internals.transactionResults,
      touches,
      rejected: [],
    }
  } catch (e) {
    await builder.revert()
    throw e
  } finally {
    collector.detach()
  }
}

const COMPARED_FIELDS = [
  'stateRoot',
  'receiptTrie',
  'transactionsTrie',
  'logsBloom',
  'gasUsed',
  'requestsHash',
  'blobGasUsed',
  'excessBlobGas',
  'baseFeePerGas',
] as const

/** Names the header fields in which the executed block differs from the received one. */
function headerDiff(executed: Block, received: Block): string {
  const ours = executed.header.toJSON() as Record<string, unknown>
  const theirs = received.header.toJSON() as Record<string, unknown>
  const diffs = COMPARED_FIELDS.filter((field) => ours[field] !== theirs[field]).map(
    (field) => `${field} got ${ours[field]}, want ${theirs[field]}`,
  )
  return diffs.length > 0 ? diffs.join(', ') : 'header hash'
}

/** The header fields a BlockBuilder takes to make `block` again (the rest it computes). */
export function builderInputs(block: Block): HeaderData {
  const { header } = block
  return {
    number: header.number,
    timestamp: header.timestamp,
    gasLimit: header.gasLimit,
    baseFeePerGas: header.baseFeePerGas,
    coinbase: header.coinbase,
    difficulty: header.difficulty,
    mixHash: header.mixHash,
    nonce: header.nonce,
    extraData: header.extraData,
    parentBeaconBlockRoot: header.parentBeaconBlockRoot,
  }
}

/** A BlockBuilder on `parent` whose transaction and receipt roots come from TrieRootBuilder. */
async function openBuilder(
  vm: VM,
  parent: Block,
  headerData: HeaderData,
  withdrawals?: WithdrawalData[],
): Promise<BlockBuilder> {
  const builder = await createBuilder(vm, {
    parentBlock: parent,
    headerData,
    withdrawals,
    blockOpts: { putBlockIntoBlockchain: false, setHardfork: true },
  })
  const internals = builder as unknown as BuilderInternals
  const roots = new TrieRootBuilder(vm.common.customCrypto.keccak256 ?? defaultKeccak)
  builder.transactionsTrie = async () => roots.orderedRoot(internals.transactions.map((tx) => tx.serialize()))
  builder.receiptTrie = async () =>
    internals.transactionResults.length === 0
      ? KECCAK256_RLP
      : roots.orderedRoot(
          internals.transactionResults.map((result, i) =>
            encodeReceipt(result.receipt, internals.transactions[i].type),
          ),
        )
  return builder
}

async function addTransactions(
  builder: BlockBuilder,
  collector: TouchCollector,
  txs: Iterable<TypedTransaction>,
  gasLimit: bigint,
  limits: { deadline?: number; strict?: boolean; preCheck?: (tx: TypedTransaction) => Promise<void> },
): Promise<{ rejected: RejectedTx[]; touches: TxTouches[] }> {
  const internals = builder as unknown as BuilderInternals
  const rejected: RejectedTx[] = []
  const touches: TxTouches[] = []
  for (const tx of txs) {
    if (limits.deadline !== undefined && Date.now() > limits.deadline) break
    if (limits.strict !== true && gasLimit - builder.gasUsed < GAS_FOR_CHEAPEST_TX) break
    await limits.preCheck?.(tx)
    if (tx.gasLimit > gasLimit - builder.gasUsed) {
      if (limits.strict === true) throw new Error(`gas limit reached`)
      rejected.push({ tx, reason: 'block gas limit reached', invalid: false })
      continue
    }
    const earlier = internals.transactions
    internals.transactions = []
    collector.begin()
    try {
      await builder.addTransaction(tx, { skipHardForkValidation: true })
      touches.push(collector.end())
    } catch (e) {
      const reason = (e as Error).message.replace(/ \(block number=.*$/s, '')
      if (limits.strict === true) throw new Error(reason)
      rejected.push({ tx, reason, invalid: true })
    } finally {
      const added = internals.transactions
      internals.transactions = earlier
      earlier.push(...added)
    }
  }
  return { rejected, touches }
}

/** A block built for testing_buildBlockV1: not sealed, not stored, with what the Engine API's payload envelope carries. */
export interface BuiltPayload {
  block: Block
  /** Fees paid to the fee recipient (priority fees × gas). */
  blockValue: bigint
  /** EIP-7685 requests, each its type byte and data; only requests with data, as the Engine API lists them. */
  executionRequests: Uint8Array[]
}

/**
 * Builds a block on `parent` from `txs` on the VM's current state (the caller's throw-away copy). With `strict`, every
 * transaction must apply (the first that does not fails the build, with geth's wording for nonce errors); otherwise
 * those that do not are left out, as for a proposal from the pool.
 */
export async function buildPayload(
  vm: VM,
  parent: Block,
  headerData: HeaderData,
  withdrawals: WithdrawalData[] | undefined,
  txs: Iterable<TypedTransaction>,
  strict: boolean,
): Promise<BuiltPayload> {
  const builder = await openBuilder(vm, parent, headerData, withdrawals)
  const collector = new TouchCollector()
  try {
    await addTransactions(builder, collector, txs, BigInt(headerData.gasLimit as bigint), {
      strict,
      preCheck: strict ? (tx) => checkNonce(vm, tx) : undefined,
    })
    const { block: assembled, requests } = await builder.build()
    const internals = builder as unknown as BuilderInternals
    const block = new Block(assembled.header, internals.transactions, [], assembled.withdrawals)
    return {
      block,
      blockValue: builder.minerValue,
      executionRequests: (requests ?? [])
        .filter((r: CLRequest<CLRequestType>) => r.data.length > 0)
        .map((r) => r.bytes),
    }
  } catch (e) {
    await builder.revert()
    throw e
  }
}

/** geth's nonce check before a transaction applies, with its messages (execution-apis expects them). */
async function checkNonce(vm: VM, tx: TypedTransaction): Promise<void> {
  const sender = tx.getSenderAddress()
  const stateNonce = (await vm.stateManager.getAccount(sender))?.nonce ?? 0n
  const who = toChecksumAddress(sender.toString())
  if (tx.nonce < stateNonce) throw new Error(`nonce too low: address ${who}, tx: ${tx.nonce} state: ${stateNonce}`)
  if (tx.nonce > stateNonce) throw new Error(`nonce too high: address ${who}, tx: ${tx.nonce} state: ${stateNonce}`)
}
