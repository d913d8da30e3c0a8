/**
 * Re-executing transactions of a stored block with tracers attached (debug_trace*, trace_*, ots_*). A block is
 * replayed on its parent's state through @ethereumjs's BlockBuilder, the code path that built and imported it, so
 * system calls at the start of the block and every transaction before the traced one run exactly as they did.
 * Nothing is written: the caller runs this on a throw-away VM whose state is reverted afterwards.
 */
import type { Block } from '@ethereumjs/block'
import type { StateManagerInterface } from '@ethereumjs/common'
import type { EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import type { TypedTransaction } from '@ethereumjs/tx'
import { type BlockBuilder, buildBlock as createBuilder, type RunTxResult, runTx, type VM } from '@ethereumjs/vm'
import { builderInputs } from './build.js'
import { type CallLimits, type CallRequest, callBlock, makeTx, mapRunError, maxGas } from './call.js'
import { capGas } from './limits.js'

/** What a tracer sees of one transaction before it runs. */
export interface TxTraceContext {
  tx: TypedTransaction
  block: Block
  /** Index of the transaction in its block (calls: 0). */
  index: number
}

/**
 * Receives the execution events of one transaction. Every callback may be async; an error thrown by one aborts the
 * trace. `steps` subscribes to opcode steps (costly: the EVM then copies stack and memory at every step).
 */
export interface TxTracer {
  readonly steps: boolean
  /** When true, `before` is called with the state as it was before the transaction (the transaction runs twice). */
  readonly preState?: boolean
  begin?(ctx: TxTraceContext): void | Promise<void>
  step?(step: InterpreterStep): void | Promise<void>
  enter?(message: Message): void | Promise<void>
  exit?(result: EVMResult): void | Promise<void>
  /** After the transaction, with the state it left behind. */
  end(result: RunTxResult, state: StateManagerInterface): void | Promise<void>
  before?(state: StateManagerInterface): Promise<void>
}

/** The trace ran past its deadline (geth: "execution timeout"). */
export class TraceTimeoutError extends Error {}

/** Checks the deadline every this many steps (Date.now() is cheap, but not free). */
const DEADLINE_CHECK_STEPS = 256

type Listener<T> = (data: T, resolve: (value?: unknown) => void) => void

function listener<T>(fn: (data: T) => void | Promise<void>, check?: () => void): Listener<T> {
  // Two-argument listeners are awaited by the EVM; resolving with a rejected promise aborts the execution.
  return (data, resolve) => {
    check?.()
    const out = fn(data)
    resolve(out instanceof Promise ? out : undefined)
  }
}

/** Runs `fn` with `tracer` subscribed to the VM's EVM events. */
async function withTracer<T>(vm: VM, tracer: TxTracer, deadline: number | undefined, fn: () => Promise<T>): Promise<T> {
  const events = vm.evm.events
  if (!events) throw new Error('EVM events are not available')
  let steps = 0
  const check =
    deadline === undefined
      ? undefined
      : () => {
          if (++steps % DEADLINE_CHECK_STEPS === 0 && Date.now() >= deadline) throw new TraceTimeoutError()
        }
  const attached: [string, Listener<never>][] = []
  const on = <D>(name: string, fn: Listener<D>) => {
    events.on(name as 'step', fn as never)
    attached.push([name, fn as never])
  }
  if (tracer.steps && tracer.step) on('step', listener(tracer.step.bind(tracer), check))
  else if (check)
    on(
      'step',
      listener(() => {}, check),
    )
  if (tracer.enter) on('beforeMessage', listener(tracer.enter.bind(tracer)))
  if (tracer.exit) on('afterMessage', listener(tracer.exit.bind(tracer)))
  try {
    return await fn()
  } finally {
    for (const [name, fn] of attached) events.off(name as 'step', fn as never)
  }
}

/** BlockBuilder fields undone when a transaction is run twice (private in its typings). */
interface BuilderInternals {
  transactions: TypedTransaction[]
  transactionResults: RunTxResult[]
  gasUsed: bigint
  _minerValue: bigint
}

async function openBuilder(vm: VM, parent: Block, block: Block): Promise<BlockBuilder> {
  return createBuilder(vm, {
    parentBlock: parent,
    headerData: builderInputs(block),
    blockOpts: { putBlockIntoBlockchain: false, setHardfork: true },
  })
}

export interface BlockTraceOptions {
  /** The tracer for transaction `index`, or undefined to run it untraced. */
  tracerFor(index: number): TxTracer | undefined
  /** Stop after this transaction (default: the last). */
  lastIndex?: number
  /** Date.now() after which the trace is abandoned with TraceTimeoutError. */
  deadline?: number
}

/**
 * Replays `block`'s transactions on `vm` (whose state must be `parent`'s), tracing those `tracerFor` selects.
 * Returns the result of every transaction run.
 */
export async function traceBlockOnState(
  vm: VM,
  parent: Block,
  block: Block,
  opts: BlockTraceOptions,
): Promise<RunTxResult[]> {
  const builder = await openBuilder(vm, parent, block)
  const internals = builder as unknown as BuilderInternals
  const last = opts.lastIndex ?? block.transactions.length - 1
  const results: RunTxResult[] = []
  const add = async (tx: TypedTransaction): Promise<RunTxResult> => {
    // An empty list keeps BlockBuilder from re-creating a block of every earlier transaction per transaction.
    const earlier = internals.transactions
    internals.transactions = []
    try {
      return await builder.addTransaction(tx, { skipHardForkValidation: true })
    } finally {
      const added = internals.transactions
      internals.transactions = earlier
      earlier.push(...added)
    }
  }
  for (let index = 0; index <= last; index++) {
    const tx = block.transactions[index]
    const tracer = opts.tracerFor(index)
    if (tracer === undefined) {
      if (opts.deadline !== undefined && Date.now() >= opts.deadline) throw new TraceTimeoutError()
      results.push(await add(tx))
      continue
    }
    await tracer.begin?.({ tx, block, index })
    if (tracer.preState) await vm.stateManager.checkpoint()
    const result = await withTracer(vm, tracer, opts.deadline, () => add(tx))
    await tracer.end(result, vm.stateManager)
    if (tracer.preState) {
      // Back to the state before the transaction for the tracer to read, then run it again untraced.
      await vm.stateManager.revert()
      await tracer.before?.(vm.stateManager)
      internals.transactions.pop()
      internals.transactionResults.pop()
      internals.gasUsed -= result.blockGasSpent
      internals._minerValue -= result.minerValue
      if (index < last) await add(tx)
    }
    results.push(result)
  }
  return results
}

/**
 * Traces `request` as a transaction in `block`'s context on the VM's current state (debug_traceCall, trace_call):
 * unsigned, nonce unchecked, fees as eth_call charges them, gas capped by `limits`.
 */
export async function traceCallOnState(
  vm: VM,
  request: CallRequest,
  block: Block,
  tracer: TxTracer,
  limits: CallLimits,
  deadline: number | undefined,
): Promise<RunTxResult> {
  const tx = await makeTx(vm, request, capGas(request.gas, maxGas(vm, block), limits.gasCap))
  const context = callBlock(block, request)
  await tracer.begin?.({ tx, block: context, index: 0 })
  await vm.stateManager.checkpoint()
  let result: RunTxResult
  try {
    result = await withTracer(vm, tracer, deadline, () =>
      runTx(vm, {
        tx,
        block: context,
        skipNonce: true,
        skipBlockGasLimitValidation: true,
        skipHardForkValidation: true,
      }),
    )
  } catch (e) {
    await vm.stateManager.revert()
    throw e instanceof TraceTimeoutError ? e : mapRunError(e)
  }
  await tracer.end(result, vm.stateManager)
  await vm.stateManager.revert()
  await tracer.before?.(vm.stateManager)
  return result
}
