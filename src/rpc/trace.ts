/**
 * The trace_ namespace (Parity/OpenEthereum style, as Erigon, Nethermind and Besu serve it for graph-node, Blockscout
 * and Otterscan): call traces of blocks and transactions, and replays with stateDiff.
 */
import type { Block } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'
import { z } from 'zod'
import { CallRecorder, MultiTracer } from '../trace/call.js'
import { type ParityTrace, parityStateDiff, parityTraces } from '../trace/parity.js'
import { StateRecorder } from '../trace/prestate.js'
import type { MethodTable } from './dispatcher.js'
import { invalidParams } from './errors.js'
import { queryLimits, toCallRequest } from './eth.js'
import type { RpcContext } from './options.js'
import {
  blockNumber,
  blockParam,
  callObject,
  decoded,
  decodeUint64,
  hash,
  optional,
  required,
  withParams,
} from './params.js'
import { findBlock, stateBlock } from './resolve.js'
import { DEFAULT_TRACE_TIMEOUT_MS, Tracing, withTimeout } from './tracing.js'

const TRACE_TYPES = ['trace', 'stateDiff', 'vmTrace'] as const
const traceTypes = z.array(z.enum(TRACE_TYPES, { error: 'trace type must be one of trace, stateDiff, vmTrace' }), {
  error: 'trace types must be an array',
})

interface Replay {
  output: string
  stateDiff: unknown
  trace: ParityTrace[]
  vmTrace: null
  transactionHash?: string
}

/** A recorder pair for one replayed transaction, as asked by the trace types. */
function replayTracers(types: readonly string[]) {
  if (types.includes('vmTrace')) throw invalidParams('vmTrace is not supported; ask for trace and/or stateDiff')
  const calls = new CallRecorder()
  const state = types.includes('stateDiff') ? new StateRecorder() : undefined
  const tracer = state ? new MultiTracer([calls, state]) : calls
  const result = (): Replay => {
    const traced = calls.output()
    return {
      output: bytesToHex(traced.root.output),
      stateDiff: state ? parityStateDiff(state.output()) : null,
      trace: types.includes('trace') ? parityTraces(traced) : [],
      vmTrace: null,
    }
  }
  return { tracer, result }
}

export function traceMethods(ctx: RpcContext): MethodTable {
  const tracing = new Tracing(ctx)
  const deadline = () => Date.now() + DEFAULT_TRACE_TIMEOUT_MS

  async function blockTraces(block: Block): Promise<ParityTrace[]> {
    if (block.transactions.length === 0) return []
    const recorders = await withTimeout(undefined, () => tracing.traceAll(block, () => new CallRecorder(), deadline()))
    return recorders.flatMap((recorder, i) =>
      parityTraces(recorder.output(), {
        blockHash: block.hash(),
        blockNumber: block.header.number,
        transactionHash: block.transactions[i].hash(),
        transactionPosition: i,
      }),
    )
  }

  async function txTraces(txHash: Uint8Array): Promise<ParityTrace[] | null> {
    const found = await tracing.locate(txHash)
    if (found === undefined) return null
    const { block, index } = found
    const traced = await withTimeout(undefined, () => tracing.callTree(block, index, deadline()))
    return parityTraces(traced, {
      blockHash: block.hash(),
      blockNumber: block.header.number,
      transactionHash: txHash,
      transactionPosition: index,
    })
  }

  return {
    trace_block: withParams([required(blockNumber)], async (number) => {
      const block = await findBlock(ctx, number)
      return block === undefined ? null : blockTraces(block)
    }),
    trace_transaction: withParams([required(hash)], txTraces),
    trace_get: withParams([required(hash), required(z.array(decoded(decodeUint64)))], async (txHash, indices) => {
      const traces = await txTraces(txHash)
      const path = indices.map(Number).join(',')
      return traces?.find((t) => t.traceAddress.join(',') === path) ?? null
    }),
    trace_call: withParams(
      [required(callObject), required(traceTypes), optional(blockParam)],
      async (args, types, param) => {
        const { tracer, result } = replayTracers(types)
        const request = toCallRequest(ctx, args)
        const block = await stateBlock(ctx, param)
        await withTimeout(undefined, () =>
          ctx.deps.execution.traceCall(request, block, tracer, queryLimits(ctx), deadline()),
        )
        return result()
      },
    ),
    trace_replayTransaction: withParams([required(hash), required(traceTypes)], async (txHash, types) => {
      const { tracer, result } = replayTracers(types)
      const found = await tracing.locate(txHash)
      if (found === undefined) return null
      await withTimeout(undefined, () => tracing.traceTx(found.block, found.index, tracer, deadline()))
      return result()
    }),
    trace_replayBlockTransactions: withParams([required(blockNumber), required(traceTypes)], async (number, types) => {
      replayTracers(types)
      const block = await findBlock(ctx, number)
      if (block === undefined) return null
      if (block.transactions.length === 0) return []
      const replays: ReturnType<typeof replayTracers>[] = []
      await withTimeout(undefined, () =>
        tracing.traceAll(
          block,
          (i) => {
            replays[i] = replayTracers(types)
            return replays[i].tracer
          },
          deadline(),
        ),
      )
      return replays.map((r, i) => ({ ...r.result(), transactionHash: bytesToHex(block.transactions[i].hash()) }))
    }),
  }
}
