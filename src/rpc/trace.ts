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
import { ErrorCode, invalidParams, RpcError } from './errors.js'
import { queryLimits, toCallRequest } from './eth.js'
import type { RpcContext } from './options.js'
import {
  address,
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
import { blockNumberOf, findBlock, stateBlock } from './resolve.js'
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

/** trace_filter's filter object (OpenEthereum): block range, traced senders/recipients, paging. */
const traceFilter = z.object(
  {
    fromBlock: blockNumber.nullish(),
    toBlock: blockNumber.nullish(),
    fromAddress: z.array(address).nullish(),
    toAddress: z.array(address).nullish(),
    after: z.number().int().nonnegative().nullish(),
    count: z.number().int().positive().nullish(),
  },
  { error: 'trace filter must be an object' },
)

/** Most transactions one trace_filter may trace. */
const MAX_FILTER_TRACED_TXS = 10_000

/** The addresses a trace comes from and goes to, for trace_filter. */
function endpoints(trace: ParityTrace): [string | undefined, string | undefined] {
  const action = trace.action as Record<string, string | undefined>
  if (trace.type === 'suicide') return [action.address, action.refundAddress]
  if (trace.type === 'create') return [action.from, (trace.result as Record<string, string> | undefined)?.address]
  return [action.from, action.to]
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

  /**
   * trace_filter: traces in the block range whose sender is in `fromAddress` and recipient in `toAddress` (an empty
   * list matches any). With addresses, only the transactions the address index names are traced.
   */
  async function filterTraces(filter: z.output<typeof traceFilter>): Promise<ParityTrace[]> {
    const { chain } = ctx.deps
    const head = chain.head.header.number
    const from = filter.fromBlock ? blockNumberOf(ctx, filter.fromBlock) : 0n
    const requestedTo = filter.toBlock ? blockNumberOf(ctx, filter.toBlock) : head
    const to = requestedTo > head ? head : requestedTo
    if (from > to) return []
    if (to - from > BigInt(ctx.opts.maxLogBlockRange)) {
      throw new RpcError(
        ErrorCode.LimitExceeded,
        `block range too large: at most ${ctx.opts.maxLogBlockRange} blocks per trace_filter`,
      )
    }
    const hex = (list: Uint8Array[] | null | undefined) => new Set<string>((list ?? []).map((a) => bytesToHex(a)))
    const fromSet = hex(filter.fromAddress)
    const toSet = hex(filter.toAddress)
    // Every matching trace involves an address of the smaller non-empty list: its appearances name the candidates.
    const lists = [filter.fromAddress ?? [], filter.toAddress ?? []].filter((l) => l.length > 0)
    lists.sort((a, b) => a.length - b.length)
    let candidates: Map<bigint, Set<number>> | undefined
    if (lists.length > 0) {
      candidates = new Map()
      const start = { blockNumber: from === 0n ? 0n : from - 1n, index: 0xffffffff }
      for (const addr of lists[0]) {
        for (const p of await chain.index.appearances(addr, { after: start }, MAX_FILTER_TRACED_TXS + 1)) {
          if (p.blockNumber > to) break
          let indices = candidates.get(p.blockNumber)
          if (indices === undefined) {
            indices = new Set()
            candidates.set(p.blockNumber, indices)
          }
          indices.add(p.index)
        }
      }
    }
    const skip = filter.after ?? 0
    const count = filter.count ?? Number.POSITIVE_INFINITY
    const out: ParityTrace[] = []
    let matched = 0
    let traced = 0
    const numbers = candidates
      ? [...candidates.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      : Array.from({ length: Number(to - from) + 1 }, (_, i) => from + BigInt(i))
    for (const number of numbers) {
      const block = await chain.getBlockByNumber(number)
      if (block === undefined || block.transactions.length === 0) continue
      const wanted = candidates?.get(number) ?? new Set(block.transactions.map((_, i) => i))
      traced += wanted.size
      if (traced > MAX_FILTER_TRACED_TXS) {
        throw new RpcError(
          ErrorCode.LimitExceeded,
          `trace_filter would trace more than ${MAX_FILTER_TRACED_TXS} transactions: narrow the range or filter by address`,
        )
      }
      const recorders = new Map<number, CallRecorder>()
      await withTimeout(undefined, async () => {
        const parent = await tracing.parentOf(block)
        await ctx.deps.execution.traceBlock(block, parent, {
          tracerFor: (i) => {
            if (!wanted.has(i)) return undefined
            const recorder = new CallRecorder()
            recorders.set(i, recorder)
            return recorder
          },
          lastIndex: Math.max(...wanted),
          deadline: deadline(),
        })
      })
      for (const [i, recorder] of [...recorders].sort(([a], [b]) => a - b)) {
        const traces = parityTraces(recorder.output(), {
          blockHash: block.hash(),
          blockNumber: block.header.number,
          transactionHash: block.transactions[i].hash(),
          transactionPosition: i,
        })
        for (const trace of traces) {
          const [src, dst] = endpoints(trace)
          if (fromSet.size > 0 && (src === undefined || !fromSet.has(src))) continue
          if (toSet.size > 0 && (dst === undefined || !toSet.has(dst))) continue
          if (matched++ < skip) continue
          out.push(trace)
          if (out.length >= count) return out
        }
      }
    }
    return out
  }

  return {
    trace_filter: withParams([required(traceFilter)], filterTraces),
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
