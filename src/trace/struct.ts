/**
 * geth's default tracer (the struct logger): one entry per executed opcode with pc, op, gas, gasCost, depth, and
 * optionally stack, memory, storage and return data, shaped as geth's debug_traceTransaction answers it.
 */
import type { StateManagerInterface } from '@ethereumjs/common'
import type { EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import { bigIntToBytes, bigIntToHex, bytesToHex, setLengthLeft } from '@ethereumjs/util'
import type { RunTxResult } from '@ethereumjs/vm'
import type { TxTracer } from '../execution/trace.js'
import { CALL_OPS, gethError } from './errors.js'

export interface StructLoggerConfig {
  disableStack: boolean
  disableStorage: boolean
  enableMemory: boolean
  enableReturnData: boolean
  /** Most entries kept (0: no limit). */
  limit: number
}

export const defaultStructLoggerConfig: StructLoggerConfig = {
  disableStack: false,
  disableStorage: false,
  enableMemory: false,
  enableReturnData: false,
  limit: 0,
}

export interface StructLog {
  pc: number
  op: string
  gas: number
  gasCost: number
  depth: number
  error?: string
  stack?: string[]
  returnData?: string
  memory?: string[]
  storage?: Record<string, string>
  refund?: number
}

export interface StructLoggerResult {
  gas: number
  failed: boolean
  returnValue: string
  structLogs: StructLog[]
}

const word = (value: bigint): string => bytesToHex(setLengthLeft(bigIntToBytes(value), 32))

function memoryWords(memory: Uint8Array): string[] {
  const words: string[] = []
  for (let i = 0; i < memory.length; i += 32) words.push(bytesToHex(memory.subarray(i, i + 32)))
  return words
}

/** Per call frame: the storage seen so far (by contract) and what the next step must fill in. */
interface Frame {
  lastLog: StructLog | undefined
  returnData: Uint8Array
  /** An SLOAD's log waiting for the loaded value (the next step's stack top). */
  pendingLoad: { log: StructLog; storage: Map<string, string>; key: string } | undefined
  /** A CALL-family log whose cost still lacks the gas handed to the callee. */
  pendingCall: { log: StructLog; op: string; value: bigint } | undefined
}

export class StructLogger implements TxTracer {
  readonly steps = true
  private readonly logs: StructLog[] = []
  private readonly frames: Frame[] = []
  private readonly storage = new Map<string, Map<string, string>>()
  private result: StructLoggerResult | undefined

  constructor(private readonly config: StructLoggerConfig) {}

  enter(_message: Message): void {
    this.frames.push({
      lastLog: undefined,
      returnData: new Uint8Array(),
      pendingLoad: undefined,
      pendingCall: undefined,
    })
    const parent = this.frames[this.frames.length - 2]
    const call = parent?.pendingCall
    if (call) {
      // geth's cost of a call includes the gas given to the callee (without the value stipend).
      const stipend = call.value > 0n && (call.op === 'CALL' || call.op === 'CALLCODE') ? 2300n : 0n
      call.log.gasCost += Number(_message.gasLimit - stipend)
      parent.pendingCall = undefined
    }
  }

  exit(result: EVMResult): void {
    const frame = this.frames.pop()
    const error = result.execResult.exceptionError
    if (frame?.lastLog && error && error.error !== 'revert' && frame.lastLog.error === undefined) {
      frame.lastLog.error = gethError(error.error, frame.lastLog.op)
    }
    const parent = this.frames[this.frames.length - 1]
    if (parent) parent.returnData = result.execResult.returnValue
  }

  step(step: InterpreterStep): void {
    const frame = this.frames[this.frames.length - 1]
    if (frame === undefined) return
    if (frame.pendingLoad) {
      const { log, storage, key } = frame.pendingLoad
      const value = word(step.stack[step.stack.length - 1] ?? 0n)
      storage.set(key, value)
      if (log.storage) log.storage[key] = value
      frame.pendingLoad = undefined
    }
    frame.pendingCall = undefined
    if (this.config.limit > 0 && this.logs.length >= this.config.limit) return
    const op = step.opcode.name
    const log: StructLog = {
      pc: step.pc,
      op,
      gas: Number(step.gasLeft),
      gasCost: Number(step.opcode.dynamicFee ?? BigInt(step.opcode.fee)),
      depth: step.depth + 1,
    }
    const { stack } = step
    if (!this.config.disableStack) log.stack = stack.map((v) => bigIntToHex(v))
    if (this.config.enableReturnData && frame.returnData.length > 0) log.returnData = bytesToHex(frame.returnData)
    if (this.config.enableMemory && step.memory.length > 0) log.memory = memoryWords(step.memory)
    if (
      !this.config.disableStorage &&
      (op === 'SLOAD' || op === 'SSTORE') &&
      stack.length >= (op === 'SLOAD' ? 1 : 2)
    ) {
      const owner = step.address.toString()
      let storage = this.storage.get(owner)
      if (storage === undefined) {
        storage = new Map()
        this.storage.set(owner, storage)
      }
      const key = word(stack[stack.length - 1])
      if (op === 'SSTORE') storage.set(key, word(stack[stack.length - 2]))
      else frame.pendingLoad = { log, storage, key }
      log.storage = Object.fromEntries(storage)
    }
    if (step.gasRefund > 0n) log.refund = Number(step.gasRefund)
    if (CALL_OPS.has(op))
      frame.pendingCall = { log, op, value: op === 'CALL' || op === 'CALLCODE' ? (stack[stack.length - 3] ?? 0n) : 0n }
    frame.lastLog = log
    this.logs.push(log)
  }

  end(result: RunTxResult, _state: StateManagerInterface): void {
    const exec = result.execResult
    this.result = {
      gas: Number(result.totalGasSpent),
      failed: exec.exceptionError !== undefined,
      returnValue: bytesToHex(exec.returnValue),
      structLogs: this.logs,
    }
  }

  output(): StructLoggerResult {
    if (this.result === undefined) throw new Error('trace did not finish')
    return this.result
  }
}
