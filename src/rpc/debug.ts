/**
 * The raw-data part of geth's debug_ namespace: consensus encodings of headers, blocks, receipts and transactions.
 * Headers and blocks are the sealed form (extraData with round and committed seals), as Besu serves QBFT blocks.
 */
import type { Block } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToHex, concatBytes, intToBytes } from '@ethereumjs/util'
import { encodeSealedBlock, rawWithExtraData, sealedExtraData } from '../consensus/qbft/index.js'
import type { MethodTable } from './dispatcher.js'
import { serverError } from './errors.js'
import { logsBloom } from './format.js'
import type { RpcContext } from './options.js'
import { blockParam, hash, required, withParams } from './params.js'
import { findBlock } from './resolve.js'

export function debugMethods(ctx: RpcContext): MethodTable {
  const { chain, txpool } = ctx.deps

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
      if (block.header.number === 0n) return bytesToHex(block.serialize())
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
          receipt.status === 1 ? intToBytes(1) : new Uint8Array(),
          bigIntToUnpaddedBytes(receipt.cumulativeGasUsed),
          logsBloom(receipt.logs),
          receipt.logs.map(([address, topics, data]) => [address, topics, data]),
        ] as never)
        const type = block.transactions[i]?.type ?? 0
        return bytesToHex(type === 0 ? body : concatBytes(Uint8Array.of(type), body))
      })
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
