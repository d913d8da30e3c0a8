/**
 * geth's debug_ namespace: consensus encodings of headers, blocks, receipts and transactions (headers and blocks in
 * the sealed form, extraData with round and committed seals, as Besu serves QBFT blocks), and transaction traces
 * with the struct logger, callTracer or prestateTracer (tracing.ts).
 */
import type { Block } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToHex, concatBytes, intToBytes } from '@ethereumjs/util'
import { encodeSealedBlock, rawWithExtraData, sealedExtraData } from '../consensus/qbft/index.js'
import type { MethodTable } from './dispatcher.js'
import { serverError } from './errors.js'
import { queryLimits, toCallRequest } from './eth.js'
import { logsBloom } from './format.js'
import type { RpcContext } from './options.js'
import { blockNumber, blockParam, callObject, hash, optional, required, withParams } from './params.js'
import { findBlock, stateBlock } from './resolve.js'
import {
  deadlineOf,
  type TraceConfig,
  Tracing,
  traceCallConfig,
  traceConfig,
  tracerJob,
  withTimeout,
} from './tracing.js'

export function debugMethods(ctx: RpcContext): MethodTable {
  const { chain, txpool } = ctx.deps
  const tracing = new Tracing(ctx)

  // geth answers a block trace with one entry per transaction: its hash and result, or the error of that one.
  async function traceBlock(block: Block, config: TraceConfig) {
    const jobs: ReturnType<typeof tracerJob>[] = []
    tracerJob(config) // Refuses an unknown tracer before any execution.
    await withTimeout(config, () =>
      tracing.traceAll(
        block,
        (i) => {
          jobs[i] = tracerJob(config)
          return jobs[i].tracer
        },
        deadlineOf(config),
      ),
    )
    return block.transactions.map((tx, i) => ({ txHash: bytesToHex(tx.hash()), result: jobs[i].result() }))
  }

  async function blockOf(param: Parameters<typeof findBlock>[1]): Promise<Block> {
    const block = await findBlock(ctx, param)
    if (block === undefined) throw serverError('block not found')
    return block
  }

  async function sealedRaw(block: Block): Promise<Uint8Array[]> {
    const seals = block.header.number === 0n ? undefined : await chain.getSeals(block.hash())
    return rawWithExtraData(block, sealedExtraData(block.header, seals)) as unknown as Uint8Array[]
  }

  return {
    debug_getRawHeader: withParams([required(blockParam)], async (param) => {
      const raw = await sealedRaw(await blockOf(param))
      return bytesToHex(RLP.encode(raw[0]))
    }),
    debug_getRawBlock: withParams([required(blockParam)], async (param) => {
      const block = await blockOf(param)
      // Genesis, and blocks of chains that are not QBFT, are stored as they are sealed.
      if (block.header.number === 0n || ctx.deps.spec.kind !== 'qbft') return bytesToHex(block.serialize())
      const seals = await chain.getSeals(block.hash())
      if (seals === undefined) throw serverError('block seals not found')
      return bytesToHex(encodeSealedBlock({ block, seals }))
    }),
    // EIP-2718 receipt encodings: type byte (typed transactions) + RLP([status, cumulativeGasUsed, bloom, logs]).
    debug_getRawReceipts: withParams([required(blockParam)], async (param) => {
      const block = await blockOf(param)
      const receipts = (await chain.getReceipts(block.hash())) ?? []
      return receipts.map((receipt, i) => {
        const body = RLP.encode([
          receipt.root ?? (receipt.status === 1 ? intToBytes(1) : new Uint8Array()),
          bigIntToUnpaddedBytes(receipt.cumulativeGasUsed),
          logsBloom(receipt.logs),
          receipt.logs.map(([address, topics, data]) => [address, topics, data]),
        ] as never)
        const type = block.transactions[i]?.type ?? 0
        return bytesToHex(type === 0 ? body : concatBytes(Uint8Array.of(type), body))
      })
    }),
    debug_traceTransaction: withParams([required(hash), optional(traceConfig)], async (txHash, config) => {
      const job = tracerJob(config)
      const found = await tracing.locate(txHash)
      if (found === undefined) throw serverError('transaction not found')
      await withTimeout(config, () => tracing.traceTx(found.block, found.index, job.tracer, deadlineOf(config)))
      return job.result()
    }),
    debug_traceCall: withParams(
      [required(callObject), optional(blockParam), optional(traceCallConfig)],
      async (args, param, config) => {
        const job = tracerJob(config)
        const request = toCallRequest(ctx, args)
        const block = await stateBlock(ctx, param)
        const opts = {
          ...queryLimits(ctx),
          stateOverrides: config?.stateOverrides ?? undefined,
          blockOverrides: config?.blockOverrides ?? undefined,
        }
        await withTimeout(config, () =>
          ctx.deps.execution.traceCall(request, block, job.tracer, opts, deadlineOf(config)),
        )
        return job.result()
      },
    ),
    debug_traceBlockByNumber: withParams([required(blockNumber), optional(traceConfig)], async (number, config) => {
      const block = await findBlock(ctx, number)
      if (block === undefined) {
        throw serverError(number.kind === 'number' ? `block #${number.number} not found` : 'block not found')
      }
      return traceBlock(block, config)
    }),
    debug_traceBlockByHash: withParams([required(hash), optional(traceConfig)], async (blockHash, config) => {
      const block = await chain.getBlockByHash(blockHash)
      if (block === undefined) throw serverError(`block ${bytesToHex(blockHash)} not found`)
      return traceBlock(block, config)
    }),
    debug_getRawTransaction: withParams([required(hash)], async (txHash) => {
      const location = await chain.getTxLocation(txHash)
      if (location !== undefined) {
        const block = await chain.getBlockByNumber(location.blockNumber)
        const tx = block?.transactions[location.index]
        if (tx !== undefined) return bytesToHex(tx.serialize())
      }
      const pooled = txpool.get(txHash)
      return pooled === undefined ? '0x' : bytesToHex(pooled.serialize())
    }),
  }
}
