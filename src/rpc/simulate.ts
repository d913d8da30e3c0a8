/**
 * eth_simulateV1: parameters and answer in geth's shapes; the engine is execution/simulate.ts.
 */
import { z } from 'zod'
import { expectedBaseFee } from '../chain/index.js'
import type { SimulateBlockInput, SimulatedBlock, SimulatedCall } from '../execution/index.js'
import type { MethodTable } from './dispatcher.js'
import { invalidParams } from './errors.js'
import { queryLimits, toCallRequest } from './eth.js'
import {
  data,
  formatBlock,
  formatLog,
  formatTransaction,
  inclusionOf,
  logBlockOf,
  quantity,
  type RpcLog,
} from './format.js'
import type { RpcContext } from './options.js'
import { blockOverrides, stateOverrides } from './overrideParams.js'
import { blockParam, callObject, optional, required, withParams } from './params.js'
import { stateBlock } from './resolve.js'

const simulateOptions = z.object(
  {
    blockStateCalls: z.array(
      z.object(
        {
          blockOverrides: blockOverrides.nullish(),
          stateOverrides: stateOverrides.nullish(),
          calls: z.array(callObject).nullish(),
        },
        { error: 'blockStateCalls entries must be objects' },
      ),
      { error: 'blockStateCalls must be an array' },
    ),
    traceTransfers: z.boolean().nullish(),
    validation: z.boolean().nullish(),
    returnFullTransactions: z.boolean().nullish(),
  },
  { error: 'json: cannot unmarshal non-object into Go value of type ethapi.simOpts' },
)

interface RpcCallResult {
  returnData: string
  logs: RpcLog[]
  gasUsed: string
  maxUsedGas: string
  status: string
  error?: { message: string; code: number; data?: string }
}

function renderCall(result: SimulatedCall, logs: RpcLog[]): RpcCallResult {
  const out: RpcCallResult = {
    returnData: data(result.returnData),
    logs,
    gasUsed: quantity(result.gasUsed),
    maxUsedGas: quantity(result.maxUsedGas),
    status: quantity(result.status),
  }
  if (result.error !== undefined) {
    out.error = { message: result.error.message, code: result.error.code }
    if (result.error.data !== undefined) out.error.data = data(result.error.data)
  }
  return out
}

/** A simulated block as geth renders it: the block's fields (sorted, as a Go map) with `calls` among them. */
function renderSimulatedBlock(simulated: SimulatedBlock, fullTransactions: boolean): Record<string, unknown> {
  const { block, senders } = simulated
  const transactions = fullTransactions
    ? block.transactions.map((tx, i) => formatTransaction(tx, senders[i], inclusionOf(block, i)))
    : block.transactions.map((tx) => data(tx.hash()))
  const fields: Record<string, unknown> = formatBlock(block, block.header.extraData, transactions)
  let logIndex = 0
  const at = logBlockOf(block)
  fields.calls = simulated.calls.map((call, txIndex) =>
    renderCall(
      call,
      call.logs.map((log, i) => formatLog(log, at, txIndex, call.logIndexes?.[i] ?? logIndex++)),
    ),
  )
  const sorted: Record<string, unknown> = {}
  for (const key of Object.keys(fields).sort()) sorted[key] = fields[key]
  return sorted
}

export function simulateMethods(ctx: RpcContext): MethodTable {
  const { execution, spec } = ctx.deps
  return {
    eth_simulateV1: withParams([required(simulateOptions), optional(blockParam)], async (opts, param) => {
      if (opts.blockStateCalls.length === 0) throw invalidParams('empty input')
      const base = await stateBlock(ctx, param)
      const blocks: SimulateBlockInput[] = opts.blockStateCalls.map((input) => ({
        blockOverrides: input.blockOverrides ?? undefined,
        stateOverrides: input.stateOverrides ?? undefined,
        calls: (input.calls ?? []).map((call) => toCallRequest(ctx, call)),
      }))
      const simulated = await execution.simulate(base, {
        ...queryLimits(ctx),
        blocks,
        validation: opts.validation === true,
        traceTransfers: opts.traceTransfers === true,
        nextBaseFee: (parent) => expectedBaseFee(spec, parent),
      })
      return simulated.map((block) => renderSimulatedBlock(block, opts.returnFullTransactions === true))
    }),
  }
}
