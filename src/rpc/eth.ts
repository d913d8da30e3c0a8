/**
 * The eth_ namespace: chain and state reads, calls, transactions, blocks and receipts. Fees are in fees.ts,
 * logs in logs.ts.
 */

import type { Block } from '@ethereumjs/block'
import { Address, bigIntToUnpaddedBytes, bytesToBigInt, equalsBytes, setLengthLeft } from '@ethereumjs/util'
import { z } from 'zod'
import { expectedBaseFee } from '../chain/index.js'
import { type CallLimits, type CallRequest, Deadline } from '../execution/index.js'
import type { MethodTable } from './dispatcher.js'
import { invalidParams, serverError } from './errors.js'
import { feeMethods } from './fees.js'
import {
  addressHex,
  data,
  formatReceipt,
  formatReceipts,
  formatTransaction,
  inclusionOf,
  quantity,
  type RpcAccessListEntry,
  type RpcReceipt,
  type RpcTransaction,
} from './format.js'
import { createLogReader, logMethods } from './logs.js'
import type { RpcContext } from './options.js'
import { blockOverrides, stateOverrides } from './overrideParams.js'
import {
  address,
  type BlockParam,
  blockNumber,
  blockParam,
  bool,
  type CallObject,
  callObject,
  data as dataParam,
  decodeAddress,
  decodeStorageKey,
  hash,
  optional,
  required,
  string,
  uint64,
  withParams,
} from './params.js'
import { blockSenders, findBlock, renderBlock, stateBlock } from './resolve.js'
import { simulateMethods } from './simulate.js'

/** The limits of one call-like request from the RPC options: the gas cap and a deadline starting now. */
export function queryLimits(ctx: RpcContext): CallLimits {
  return { gasCap: ctx.opts.gasCap, deadline: Deadline.after(ctx.opts.evmTimeoutMs) }
}

/** geth's TransactionArgs checks, then the execution layer's CallRequest. */
export function toCallRequest(ctx: RpcContext, args: CallObject): CallRequest {
  const { chainId } = ctx.deps.spec
  if (args.data !== undefined && args.input !== undefined && !equalsBytes(args.data, args.input)) {
    throw serverError('both "data" and "input" are set and not equal. Please use "input" to pass transaction call data')
  }
  if (args.gasPrice !== undefined && (args.maxFeePerGas !== undefined || args.maxPriorityFeePerGas !== undefined)) {
    throw serverError('both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified')
  }
  if (
    args.maxFeePerGas !== undefined &&
    args.maxPriorityFeePerGas !== undefined &&
    args.maxFeePerGas < args.maxPriorityFeePerGas
  ) {
    throw serverError(`maxFeePerGas (${args.maxFeePerGas}) < maxPriorityFeePerGas (${args.maxPriorityFeePerGas})`)
  }
  if (args.chainId !== undefined && args.chainId !== chainId) {
    throw serverError(`chainId does not match node's (have=${args.chainId}, want=${chainId})`)
  }
  const request: CallRequest = {}
  if (args.from !== undefined) request.from = new Address(args.from)
  if (args.to !== undefined) request.to = new Address(args.to)
  if (args.gas !== undefined) request.gas = args.gas
  if (args.gasPrice !== undefined) request.gasPrice = args.gasPrice
  if (args.maxFeePerGas !== undefined) request.maxFeePerGas = args.maxFeePerGas
  if (args.maxPriorityFeePerGas !== undefined) request.maxPriorityFeePerGas = args.maxPriorityFeePerGas
  if (args.value !== undefined) request.value = args.value
  if (args.nonce !== undefined) request.nonce = args.nonce
  const input = args.input ?? args.data
  if (input !== undefined) request.data = input
  if (args.accessList) request.accessList = args.accessList.map((e) => [e.address, e.storageKeys ?? []])
  if (args.blobVersionedHashes) request.blobVersionedHashes = args.blobVersionedHashes
  if (args.maxFeePerBlobGas !== undefined) request.maxFeePerBlobGas = args.maxFeePerBlobGas
  if (args.authorizationList) {
    request.authorizationList = args.authorizationList.map((auth) => [
      bigIntToUnpaddedBytes(auth.chainId),
      auth.address,
      bigIntToUnpaddedBytes(auth.nonce),
      bigIntToUnpaddedBytes(auth.yParity),
      bigIntToUnpaddedBytes(auth.r),
      bigIntToUnpaddedBytes(auth.s),
    ])
  }
  return request
}

/** A mined transaction by hash, with its block, or undefined. */
async function minedTx(ctx: RpcContext, txHash: Uint8Array): Promise<{ block: Block; index: number } | undefined> {
  const { chain } = ctx.deps
  const location = await chain.getTxLocation(txHash)
  if (location === undefined) return undefined
  const block = await chain.getBlockByNumber(location.blockNumber)
  const tx = block?.transactions[location.index]
  if (block === undefined || tx === undefined || !equalsBytes(tx.hash(), txHash)) return undefined
  return { block, index: location.index }
}

async function txAt(ctx: RpcContext, block: Block | undefined, index: bigint): Promise<RpcTransaction | null> {
  if (block === undefined || index >= BigInt(block.transactions.length)) return null
  const tx = block.transactions[Number(index)]
  const sender = await blockSenders(ctx, block)
  return formatTransaction(tx, sender(tx, Number(index)), inclusionOf(block, Number(index)))
}

/** How eth_getProof names a requested slot: as given if it was 32 bytes of hex, else as a quantity. */
function proofKey(asked: string, slot: Uint8Array): string {
  return /^0x[0-9a-fA-F]{64}$/.test(asked) ? asked : quantity(bytesToBigInt(slot))
}

/** Storage slots one eth_getProof or eth_getStorageValues call may ask for (geth's limit for the latter). */
const MAX_PROOF_SLOTS = 1024

export function ethMethods(ctx: RpcContext): MethodTable {
  const { spec, chain, execution, txpool, coinbase, log } = ctx.deps
  const stateAt = async (param: BlockParam | undefined) =>
    execution.stateAt((await stateBlock(ctx, param)).header.stateRoot)
  const byHash = (blockHash: Uint8Array) => findBlock(ctx, { kind: 'hash', hash: blockHash, requireCanonical: false })

  return {
    eth_chainId: withParams([], () => quantity(spec.chainId)),
    eth_blockNumber: withParams([], () => quantity(chain.head.header.number)),
    // false at the head; while sync/ catches up, geth's object with the range being imported.
    eth_syncing: withParams([], () => {
      const status = ctx.deps.syncStatus?.()
      if (status === undefined) return false
      return {
        startingBlock: quantity(status.startingBlock),
        currentBlock: quantity(status.currentBlock),
        highestBlock: quantity(status.highestBlock),
      }
    }),
    eth_accounts: withParams([], () => []),
    eth_coinbase: withParams([], () => {
      if (coinbase === undefined) throw serverError('etherbase must be explicitly specified')
      return addressHex(coinbase)
    }),

    eth_getBalance: withParams([required(address), optional(blockParam)], async (account, block) => {
      const state = await stateAt(block)
      return quantity((await state.getAccount(new Address(account)))?.balance ?? 0n)
    }),
    eth_getTransactionCount: withParams([required(address), optional(blockParam)], async (account, block) => {
      // Only nonces see the pending state: the sender's queued-up txs in the pool.
      if (block?.kind === 'tag' && block.tag === 'pending')
        return quantity(await txpool.pendingNonce(new Address(account)))
      const state = await stateAt(block)
      return quantity((await state.getAccount(new Address(account)))?.nonce ?? 0n)
    }),
    eth_getCode: withParams([required(address), optional(blockParam)], async (account, block) => {
      const state = await stateAt(block)
      return data(await state.getCode(new Address(account)))
    }),
    eth_getProof: withParams(
      [required(address), required(z.array(string)), optional(blockParam)],
      async (account, keys, block) => {
        if (keys.length > MAX_PROOF_SLOTS) throw invalidParams(`too many storage keys (at most ${MAX_PROOF_SLOTS})`)
        const slots = keys.map(decodeStorageKey)
        const proof = await (await stateAt(block)).getProof(new Address(account), slots)
        // An absent account has an empty storage trie: every slot is 0 with an empty proof, as geth answers.
        const storageProof =
          proof.storageProof.length === slots.length
            ? proof.storageProof
            : slots.map((slot) => ({ key: data(slot), value: '0x0', proof: [] }))
        // geth names each slot as asked when it was given as 32 bytes, otherwise as a quantity ("0x00" → "0x0").
        const named = storageProof.map((entry, i) => ({
          ...entry,
          key: proofKey(keys[i], slots[i]),
        }))
        return { ...proof, storageProof: named }
      },
    ),
    eth_getStorageValues: withParams(
      [required(z.record(z.string(), z.array(string))), optional(blockParam)],
      async (requests, block) => {
        const total = Object.values(requests).reduce((n, keys) => n + keys.length, 0)
        if (total === 0) throw invalidParams('empty request')
        if (total > MAX_PROOF_SLOTS) throw invalidParams(`too many slots (max ${MAX_PROOF_SLOTS})`)
        const state = await stateAt(block)
        const out: Record<string, string[]> = {}
        for (const [who, keys] of Object.entries(requests)) {
          const account = new Address(decodeAddress(who))
          out[account.toString()] = await Promise.all(
            keys.map(async (key) => data(setLengthLeft(await state.getStorage(account, decodeStorageKey(key)), 32))),
          )
        }
        return out
      },
    ),
    // QBFT chains refuse blob transactions, so their next block's blob base fee stays at its minimum; computed as geth does.
    // The base fee per gas of the next block (execution-apis).
    eth_baseFee: withParams([], () => quantity(expectedBaseFee(spec, chain.head.header))),
    eth_blobBaseFee: withParams([], () => {
      const head = chain.head.header
      if (head.excessBlobGas === undefined) throw serverError('blob fees are not active on this chain')
      return quantity(head.calcNextBlobGasPrice(spec.common))
    }),
    eth_getStorageAt: withParams(
      [required(address), required(string), optional(blockParam)],
      async (account, key, block) => {
        const slot = decodeStorageKey(key)
        const state = await stateAt(block)
        return data(setLengthLeft(await state.getStorage(new Address(account), slot), 32))
      },
    ),

    eth_call: withParams(
      [required(callObject), optional(blockParam), optional(stateOverrides), optional(blockOverrides)],
      async (args, block, state, header) => {
        const request = toCallRequest(ctx, args)
        const opts = { ...queryLimits(ctx), stateOverrides: state, blockOverrides: header }
        const result = await execution.call(request, await stateBlock(ctx, block), opts)
        return data(result.returnValue)
      },
    ),
    eth_estimateGas: withParams(
      [required(callObject), optional(blockParam), optional(stateOverrides), optional(blockOverrides)],
      async (args, block, state, header) => {
        const request = toCallRequest(ctx, args)
        const opts = { ...queryLimits(ctx), stateOverrides: state, blockOverrides: header }
        return quantity(await execution.estimateGas(request, await stateBlock(ctx, block), opts))
      },
    ),
    // geth answers {accessList, gasUsed} and adds `error` when the call fails with that list.
    eth_createAccessList: withParams(
      [required(callObject), optional(blockParam), optional(stateOverrides)],
      async (args, block, state) => {
        const request = toCallRequest(ctx, args)
        const opts = { ...queryLimits(ctx), stateOverrides: state }
        const result = await execution.createAccessList(request, await stateBlock(ctx, block), opts)
        const out: { accessList: RpcAccessListEntry[]; error?: string; gasUsed: string } = {
          accessList: result.accessList.map(([address, keys]) => ({
            address: data(address),
            storageKeys: keys.map(data),
          })),
          gasUsed: quantity(result.gasUsed),
        }
        if (result.error !== undefined) return { accessList: out.accessList, error: result.error, gasUsed: out.gasUsed }
        return out
      },
    ),
    ...simulateMethods(ctx),

    eth_sendRawTransaction: withParams([required(dataParam)], async (raw) => {
      const txHash = await txpool.addRaw(raw)
      ctx.deps.broadcastTransaction?.(raw)
      log.debug({ hash: data(txHash) }, 'transaction submitted')
      return data(txHash)
    }),
    eth_getTransactionByHash: withParams([required(hash)], async (txHash) => {
      const mined = await minedTx(ctx, txHash)
      if (mined !== undefined) return txAt(ctx, mined.block, BigInt(mined.index))
      const pooled = txpool.get(txHash)
      return pooled === undefined ? null : formatTransaction(pooled, txpool.sender(pooled))
    }),
    eth_getTransactionReceipt: withParams([required(hash)], async (txHash): Promise<RpcReceipt | null> => {
      const mined = await minedTx(ctx, txHash)
      if (mined === undefined) return null
      const receipts = await chain.getReceipts(mined.block.hash())
      if (receipts === undefined || receipts.length !== mined.block.transactions.length) return null
      const tx = mined.block.transactions[mined.index]
      return formatReceipt(mined.block, receipts, mined.index, (await blockSenders(ctx, mined.block))(tx, mined.index))
    }),

    eth_getBlockByNumber: withParams([required(blockNumber), required(bool)], async (number, full) => {
      const block = await findBlock(ctx, number)
      return block === undefined ? null : renderBlock(ctx, block, full)
    }),
    eth_getBlockByHash: withParams([required(hash), required(bool)], async (blockHash, full) => {
      const block = await byHash(blockHash)
      return block === undefined ? null : renderBlock(ctx, block, full)
    }),
    eth_getBlockTransactionCountByNumber: withParams([required(blockNumber)], async (number) => {
      const block = await findBlock(ctx, number)
      return block === undefined ? null : quantity(block.transactions.length)
    }),
    eth_getBlockTransactionCountByHash: withParams([required(hash)], async (blockHash) => {
      const block = await byHash(blockHash)
      return block === undefined ? null : quantity(block.transactions.length)
    }),
    eth_getTransactionByBlockNumberAndIndex: withParams(
      [required(blockNumber), required(uint64)],
      async (number, index) => txAt(ctx, await findBlock(ctx, number), index),
    ),
    eth_getTransactionByBlockHashAndIndex: withParams([required(hash), required(uint64)], async (blockHash, index) =>
      txAt(ctx, await byHash(blockHash), index),
    ),
    eth_getBlockReceipts: withParams([required(blockParam)], async (param) => {
      const block = await findBlock(ctx, param)
      if (block === undefined) return null
      const receipts = await chain.getReceipts(block.hash())
      if (receipts === undefined) return block.transactions.length === 0 ? [] : null
      return formatReceipts(block, receipts, await blockSenders(ctx, block))
    }),
    // QBFT blocks have no ommers.
    eth_getUncleCountByBlockNumber: withParams([required(blockNumber)], async (number) =>
      (await findBlock(ctx, number)) === undefined ? null : quantity(0),
    ),
    eth_getUncleCountByBlockHash: withParams([required(hash)], async (blockHash) =>
      (await byHash(blockHash)) === undefined ? null : quantity(0),
    ),
    eth_getUncleByBlockNumberAndIndex: withParams([required(blockNumber), required(uint64)], () => null),
    eth_getUncleByBlockHashAndIndex: withParams([required(hash), required(uint64)], () => null),

    ...feeMethods(ctx),
    ...logMethods(createLogReader(ctx)),
  }
}
