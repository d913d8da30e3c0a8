/**
 * Call frames of a transaction: the tree geth's callTracer prints and Parity-style trace_* flatten. Frames come from
 * the EVM's message events; the opcode that opened a frame (CALL, STATICCALL, ...) from the step before it.
 */
import type { StateManagerInterface } from '@ethereumjs/common'
import type { EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import { Address, bigIntToBytes, bigIntToHex, bytesToHex, setLengthLeft } from '@ethereumjs/util'
import type { RunTxResult } from '@ethereumjs/vm'
import { decodeRevertReason } from '../execution/index.js'
import type { TxTraceContext, TxTracer } from '../execution/trace.js'
import { CALL_OPS, gethError } from './errors.js'

export type FrameType = 'CALL' | 'CALLCODE' | 'DELEGATECALL' | 'STATICCALL' | 'CREATE' | 'CREATE2' | 'SELFDESTRUCT'

export interface FrameLog {
  address: Uint8Array
  topics: Uint8Array[]
  data: Uint8Array
  /** Number of sub-calls of the frame made before the log. */
  position: number
}

export interface CallFrame {
  type: FrameType
  from: Uint8Array
  /** Callee; for a creation the new contract's address when it succeeded. */
  to: Uint8Array | undefined
  input: Uint8Array
  output: Uint8Array
  /** Gas given to the frame and gas it used (a transaction's own frame: after intrinsic gas). */
  gas: bigint
  gasUsed: bigint
  value: bigint | undefined
  /** The EVM error (@ethereumjs's text) when the frame failed. */
  error: string | undefined
  calls: CallFrame[]
  logs: FrameLog[]
}

/** A traced transaction: its frame tree and the totals of the transaction itself. */
export interface TracedCall {
  root: CallFrame
  txGasLimit: bigint
  /** Gas used as the receipt says (intrinsic gas and refunds included). */
  txGasUsed: bigint
}

const CREATE_OPS: ReadonlySet<string> = new Set(['CREATE', 'CREATE2'])

const word = (v: bigint) => setLengthLeft(bigIntToBytes(v), 32)

/** Records the call tree of one transaction. */
export class CallRecorder implements TxTracer {
  readonly steps = true
  private readonly stack: CallFrame[] = []
  /** Per depth: the opcode that will open the next frame. */
  private readonly opening: (string | undefined)[] = []
  private root: CallFrame | undefined
  private ctx: TxTraceContext | undefined
  private traced: TracedCall | undefined

  begin(ctx: TxTraceContext): void {
    this.ctx = ctx
  }

  async step(step: InterpreterStep): Promise<void> {
    const op = step.opcode.name
    if (CALL_OPS.has(op) || CREATE_OPS.has(op)) {
      this.opening[step.depth] = op
      return
    }
    const frame = this.stack[this.stack.length - 1]
    if (frame === undefined) return
    const { stack } = step
    if (op.startsWith('LOG') && stack.length >= 2) {
      const offset = Number(stack[stack.length - 1])
      const size = Number(stack[stack.length - 2])
      const count = Number(op.slice(3))
      const topics: Uint8Array[] = []
      for (let i = 0; i < count; i++) topics.push(word(stack[stack.length - 3 - i] ?? 0n))
      const data = new Uint8Array(size)
      data.set(step.memory.subarray(offset, offset + size))
      frame.logs.push({ address: step.address.bytes, topics, data, position: frame.calls.length })
    } else if (op === 'SELFDESTRUCT' && stack.length >= 1) {
      const beneficiary = word(stack[stack.length - 1]).subarray(12)
      const balance = (await step.stateManager.getAccount(step.address))?.balance ?? 0n
      frame.calls.push({
        type: 'SELFDESTRUCT',
        from: step.address.bytes,
        to: beneficiary,
        input: new Uint8Array(),
        output: new Uint8Array(),
        gas: 0n,
        gasUsed: 0n,
        value: balance,
        error: undefined,
        calls: [],
        logs: [],
      })
    }
  }

  enter(message: Message): void {
    const depth = message.depth
    const isCreate = message.to === undefined
    let type: FrameType
    if (depth === 0) type = isCreate ? 'CREATE' : 'CALL'
    else {
      const opened = this.opening[depth - 1]
      this.opening[depth - 1] = undefined
      type = (opened as FrameType | undefined) ?? (isCreate ? 'CREATE' : message.delegatecall ? 'DELEGATECALL' : 'CALL')
    }
    const input =
      isCreate && message.data.length === 0 && message.code instanceof Uint8Array ? message.code : message.data
    // @ethereumjs runs DELEGATECALL and CALLCODE frames "at" the caller's address with the callee's code; geth names
    // the contract that made the call as `from` and the code's address as `to`.
    const delegated = type === 'DELEGATECALL' || type === 'CALLCODE'
    const frame: CallFrame = {
      type,
      from: type === 'DELEGATECALL' && message.to ? message.to.bytes : message.caller.bytes,
      to: delegated ? message.codeAddress.bytes : message.to?.bytes,
      input,
      output: new Uint8Array(),
      gas: message.gasLimit,
      gasUsed: 0n,
      value: type === 'STATICCALL' ? undefined : message.value,
      error: undefined,
      calls: [],
      logs: [],
    }
    const parent = this.stack[this.stack.length - 1]
    if (parent) parent.calls.push(frame)
    else this.root = frame
    this.stack.push(frame)
  }

  exit(result: EVMResult): void {
    const frame = this.stack.pop()
    if (frame === undefined) return
    const exec = result.execResult
    frame.gasUsed = exec.executionGasUsed
    frame.output = exec.returnValue
    if (result.createdAddress && exec.exceptionError === undefined) frame.to = result.createdAddress.bytes
    if (exec.exceptionError) {
      frame.error = exec.exceptionError.error
      if (frame.type === 'CREATE' || frame.type === 'CREATE2') frame.to = undefined
    }
  }

  end(result: RunTxResult, _state: StateManagerInterface): void {
    const ctx = this.ctx
    if (this.root === undefined || ctx === undefined) throw new Error('trace did not start')
    this.traced = { root: this.root, txGasLimit: ctx.tx.gasLimit, txGasUsed: result.totalGasSpent }
  }

  output(): TracedCall {
    if (this.traced === undefined) throw new Error('trace did not finish')
    return this.traced
  }
}

export interface CallTracerConfig {
  onlyTopCall: boolean
  withLog: boolean
}

export interface GethCallFrame {
  from: string
  gas: string
  gasUsed: string
  to?: string
  input: string
  output?: string
  error?: string
  revertReason?: string
  calls?: GethCallFrame[]
  logs?: { address: string; topics: string[]; data: string; position: string }[]
  value?: string
  type: string
}

const address = (bytes: Uint8Array) => new Address(bytes).toString()

/** A revert's reason as geth's abi.UnpackRevert gives it (Error(string) text, or the Panic's description). */
function revertReason(output: Uint8Array): string | undefined {
  return decodeRevertReason(output)?.replace(/ \(0x[0-9a-f]+\)$/, '')
}

function toGeth(frame: CallFrame, config: CallTracerConfig, failedAbove: boolean): GethCallFrame {
  const failed = failedAbove || frame.error !== undefined
  const out: GethCallFrame = {
    from: address(frame.from),
    gas: bigIntToHex(frame.gas),
    gasUsed: bigIntToHex(frame.gasUsed),
    input: bytesToHex(frame.input),
    type: frame.type,
  }
  if (frame.to !== undefined) out.to = address(frame.to)
  if (frame.error === undefined) {
    if (frame.output.length > 0) out.output = bytesToHex(frame.output)
  } else {
    out.error = gethError(frame.error)
    if (frame.error === 'revert' && frame.output.length > 0) {
      out.output = bytesToHex(frame.output)
      const reason = revertReason(frame.output)
      if (reason !== undefined) out.revertReason = reason
    }
  }
  if (!config.onlyTopCall && frame.calls.length > 0) {
    out.calls = frame.calls.map((c) => toGeth(c, config, failed))
  }
  // geth drops the logs of frames that failed, or whose caller did.
  if (config.withLog && !failed && frame.logs.length > 0) {
    out.logs = frame.logs.map((log) => ({
      address: address(log.address),
      topics: log.topics.map((t) => bytesToHex(t)),
      data: bytesToHex(log.data),
      position: bigIntToHex(BigInt(log.position)),
    }))
  }
  if (frame.value !== undefined) out.value = bigIntToHex(frame.value)
  return out
}

/** geth's callTracer answer for a traced transaction. */
export function gethCallTrace(traced: TracedCall, config: CallTracerConfig): GethCallFrame {
  const out = toGeth(traced.root, config, false)
  // The transaction's own frame shows the transaction's gas limit and the receipt's gas used.
  out.gas = bigIntToHex(traced.txGasLimit)
  out.gasUsed = bigIntToHex(traced.txGasUsed)
  return out
}

/** Fans one transaction's events out to several tracers (e.g. trace and stateDiff in one replay). */
export class MultiTracer implements TxTracer {
  readonly steps: boolean
  readonly preState: boolean

  constructor(private readonly tracers: TxTracer[]) {
    this.steps = tracers.some((t) => t.steps)
    this.preState = tracers.some((t) => t.preState)
  }

  async begin(ctx: TxTraceContext): Promise<void> {
    for (const t of this.tracers) await t.begin?.(ctx)
  }

  async step(step: InterpreterStep): Promise<void> {
    for (const t of this.tracers) if (t.steps) await t.step?.(step)
  }

  async enter(message: Message): Promise<void> {
    for (const t of this.tracers) await t.enter?.(message)
  }

  async exit(result: EVMResult): Promise<void> {
    for (const t of this.tracers) await t.exit?.(result)
  }

  async end(result: RunTxResult, state: StateManagerInterface): Promise<void> {
    for (const t of this.tracers) await t.end(result, state)
  }

  async before(state: StateManagerInterface): Promise<void> {
    for (const t of this.tracers) await t.before?.(state)
  }
}
