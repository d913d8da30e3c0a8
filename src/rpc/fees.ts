/**
 * Fee suggestions: eth_gasPrice, eth_maxPriorityFeePerGas and eth_feeHistory.
 *
 * Suggested tip (geth's gas price oracle, simplified): from each of the last 20 blocks take the 3 lowest effective
 * tips, and answer the 60th percentile of those samples, capped at 500 gwei. It is never below `gasPriceFloor` on
 * chains that charge fees; on gas-free chains (baseFeeMode 'zero') the floor is 0, so the suggestion is 0 until
 * transactions there actually pay tips. Without any sample the suggestion is the floor.
 */
import type { Block } from '@ethereumjs/block'
import { z } from 'zod'
import { expectedBaseFee } from '../chain/index.js'
import type { MethodTable } from './dispatcher.js'
import { serverError } from './errors.js'
import { effectiveTip, type Hex, quantity } from './format.js'
import type { RpcContext } from './options.js'
import { blockNumber, decoded, optional, ParamError, required, withParams } from './params.js'
import { blockNumberOf } from './resolve.js'

const GWEI = 1_000_000_000n
export const TIP_SAMPLE_BLOCKS = 20
export const TIP_SAMPLES_PER_BLOCK = 3
export const TIP_PERCENTILE = 60
export const MAX_SUGGESTED_TIP = 500n * GWEI
/** geth's FeeHistory limits: blocks per query and reward percentiles per query. */
export const MAX_FEE_HISTORY_BLOCKS = 1024
export const MAX_REWARD_PERCENTILES = 100

/** The 60th percentile of the samples' lowest tips, clamped to [floor, 500 gwei]. */
export function suggestTip(samples: bigint[], floor: bigint): bigint {
  let tip = floor
  if (samples.length > 0) {
    const sorted = [...samples].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    const percentile = sorted[Math.floor(((sorted.length - 1) * TIP_PERCENTILE) / 100)]
    if (percentile > tip) tip = percentile
  }
  return tip > MAX_SUGGESTED_TIP ? MAX_SUGGESTED_TIP : tip
}

/** The lowest few effective tips paid in a block. */
export function blockTipSamples(block: Block): bigint[] {
  const baseFee = block.header.baseFeePerGas
  return block.transactions
    .map((tx) => effectiveTip(tx, baseFee))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, TIP_SAMPLES_PER_BLOCK)
}

/**
 * One row of eth_feeHistory's rewards: for each percentile, the tip of the transaction at which the cumulative gas
 * (transactions ordered by tip) reaches that share of the block's gas used, as geth computes it.
 */
export function blockRewards(block: Block, gasUsedPerTx: bigint[], percentiles: number[]): bigint[] {
  const txs = block.transactions
  if (txs.length === 0) return percentiles.map(() => 0n)
  const baseFee = block.header.baseFeePerGas
  const sorted = txs
    .map((tx, i) => ({ tip: effectiveTip(tx, baseFee), gasUsed: gasUsedPerTx[i] ?? 0n }))
    .sort((a, b) => (a.tip < b.tip ? -1 : a.tip > b.tip ? 1 : 0))
  const gasUsed = Number(block.header.gasUsed)
  let index = 0
  let sum = sorted[0].gasUsed
  return percentiles.map((p) => {
    const threshold = BigInt(Math.floor((gasUsed * p) / 100))
    while (sum < threshold && index < sorted.length - 1) {
      index++
      sum += sorted[index].gasUsed
    }
    return sorted[index].tip
  })
}

/** geth's math.HexOrDecimal64: "0x10", "16" or 16. */
function decodeBlockCount(value: unknown): number {
  const text = typeof value === 'number' ? String(value) : value
  if (typeof text !== 'string')
    throw new ParamError('json: cannot unmarshal non-string into Go value of type math.HexOrDecimal64')
  const valid = /^0[xX][0-9a-fA-F]{1,16}$/.test(text) || /^[0-9]{1,20}$/.test(text)
  const count = valid ? BigInt(text) : -1n
  if (count < 0n || count >= 1n << 64n) throw new ParamError(`invalid hex or decimal integer ${JSON.stringify(text)}`)
  return count > BigInt(MAX_FEE_HISTORY_BLOCKS) ? MAX_FEE_HISTORY_BLOCKS : Number(count)
}

const percentiles = z.array(z.number({ error: 'reward percentiles must be numbers' }), {
  error: 'reward percentiles must be an array of numbers',
})

/** Go's %f. */
const goFloat = (value: number): string => value.toFixed(6)

function checkPercentiles(values: number[]): void {
  if (values.length > MAX_REWARD_PERCENTILES) {
    throw serverError(`invalid reward percentile: over the query limit ${MAX_REWARD_PERCENTILES}`)
  }
  values.forEach((p, i) => {
    if (p < 0 || p > 100) throw serverError(`invalid reward percentile: ${goFloat(p)}`)
    if (i > 0 && p <= values[i - 1]) {
      throw serverError(`invalid reward percentile: #${i - 1}:${goFloat(values[i - 1])} >= #${i}:${goFloat(p)}`)
    }
  })
}

export interface FeeHistory {
  oldestBlock: Hex
  reward?: Hex[][]
  baseFeePerGas: Hex[]
  gasUsedRatio: number[]
  baseFeePerBlobGas: Hex[]
  blobGasUsedRatio: number[]
}

/** Blob base fee of a block: the minimum (1 wei) while excess blob gas stays 0; 0 before Cancun, as geth. */
function blobBaseFee(block: Block): bigint {
  return block.header.excessBlobGas === undefined ? 0n : block.header.getBlobGasPrice()
}

export function feeMethods(ctx: RpcContext): MethodTable {
  const { spec, chain } = ctx.deps
  const floor = spec.baseFeeMode === 'zero' ? 0n : ctx.opts.gasPriceFloor
  let cached: { head: Block; tip: Promise<bigint> } | undefined

  const sampleTip = async (head: Block): Promise<bigint> => {
    const samples: bigint[] = []
    for (let i = 0n; i < BigInt(TIP_SAMPLE_BLOCKS) && head.header.number - i >= 0n; i++) {
      const block = i === 0n ? head : await chain.getBlockByNumber(head.header.number - i)
      if (block !== undefined) samples.push(...blockTipSamples(block))
    }
    return suggestTip(samples, floor)
  }
  /** Computed once per head block. */
  const currentTip = (): Promise<bigint> => {
    const head = chain.head
    if (cached?.head !== head) {
      const tip = sampleTip(head)
      cached = { head, tip }
      tip.catch(() => {
        if (cached?.tip === tip) cached = undefined
      })
    }
    return cached.tip
  }

  const feeHistory = async (
    count: number,
    newest: bigint,
    rewardPercentiles: number[] | undefined,
  ): Promise<FeeHistory> => {
    const head = chain.head
    if (newest > head.header.number) {
      throw serverError(`request beyond head block: requested ${newest}, head ${head.header.number}`)
    }
    const oldest = count === 0 ? newest + 1n : newest - BigInt(count) + 1n < 0n ? 0n : newest - BigInt(count) + 1n
    const result: FeeHistory = {
      oldestBlock: quantity(count === 0 ? 0n : oldest),
      baseFeePerGas: [],
      gasUsedRatio: [],
      baseFeePerBlobGas: [],
      blobGasUsedRatio: [],
    }
    if (count === 0) return result
    const rewards: Hex[][] = []
    let last: Block | undefined
    for (let number = oldest; number <= newest; number++) {
      const block = number === head.header.number ? head : await chain.getBlockByNumber(number)
      if (block === undefined) throw serverError(`block ${number} not found`)
      const { header } = block
      result.baseFeePerGas.push(quantity(header.baseFeePerGas ?? 0n))
      result.gasUsedRatio.push(header.gasLimit === 0n ? 0 : Number(header.gasUsed) / Number(header.gasLimit))
      result.baseFeePerBlobGas.push(quantity(blobBaseFee(block)))
      result.blobGasUsedRatio.push(0)
      if (rewardPercentiles !== undefined && rewardPercentiles.length > 0) {
        const receipts = (await chain.getReceipts(block.hash())) ?? []
        const gasUsed = receipts.map((r, i) => r.cumulativeGasUsed - (i === 0 ? 0n : receipts[i - 1].cumulativeGasUsed))
        rewards.push(blockRewards(block, gasUsed, rewardPercentiles).map(quantity))
      }
      last = block
    }
    // One more entry: the fees of the block after the newest.
    const lastHeader = (last as Block).header
    result.baseFeePerGas.push(quantity(expectedBaseFee(spec, lastHeader)))
    result.baseFeePerBlobGas.push(
      quantity(lastHeader.excessBlobGas === undefined ? 0n : lastHeader.calcNextBlobGasPrice(lastHeader.common)),
    )
    if (rewardPercentiles !== undefined && rewardPercentiles.length > 0) {
      const { oldestBlock, ...rest } = result
      return { oldestBlock, reward: rewards, ...rest }
    }
    return result
  }

  return {
    eth_maxPriorityFeePerGas: withParams([], async () => quantity(await currentTip())),
    // The base fee the next block must carry, plus the suggested tip.
    eth_gasPrice: withParams([], async () => quantity(expectedBaseFee(spec, chain.head.header) + (await currentTip()))),
    eth_feeHistory: withParams(
      [required(decoded(decodeBlockCount)), required(blockNumber), optional(percentiles)],
      async (count, newest, rewardPercentiles) => {
        if (rewardPercentiles !== undefined) checkPercentiles(rewardPercentiles)
        return feeHistory(count, blockNumberOf(ctx, newest), rewardPercentiles)
      },
    ),
  }
}
