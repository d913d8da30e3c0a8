/**
 * Running tracers for the RPC: geth's trace config (tracer name, tracerConfig, timeout, struct-logger switches), the
 * transaction and block lookups debug_trace* and trace_* share, and geth's errors for what cannot be traced.
 */
import type { Block } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'
import { z } from 'zod'
import { TraceTimeoutError, type TxTracer } from '../execution/index.js'
import { CallRecorder, type CallTracerConfig, gethCallTrace, type TracedCall } from '../trace/call.js'
import { gethPrestate, type PrestateTracerConfig, StateRecorder, type StateTouched } from '../trace/prestate.js'
import { defaultStructLoggerConfig, StructLogger, type StructLoggerConfig } from '../trace/struct.js'
import { invalidParams, serverError } from './errors.js'
import type { RpcContext } from './options.js'
import { blockOverrides, stateOverrides } from './overrideParams.js'

/** geth's default per-transaction trace timeout. */
export const DEFAULT_TRACE_TIMEOUT_MS = 5_000

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Go's time.ParseDuration for the forms geth users write ("5s", "1m30s", "500ms"), in milliseconds. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw invalidParams(`time: invalid duration "${text}"`)
  }
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * DURATION_UNITS[unit], 0)
}

const flag = z.boolean().optional()

const traceConfigFields = {
  tracer: z.string().optional(),
  tracerConfig: z.record(z.string(), z.unknown()).nullish(),
  timeout: z.string().optional(),
  disableStack: flag,
  disableStorage: flag,
  enableMemory: flag,
  enableReturnData: flag,
  limit: z.number().int().nonnegative().optional(),
  reexec: z.number().int().nonnegative().optional(),
}

/** geth's TraceConfig fields we act on; unknown fields are ignored as geth does. */
export const traceConfig = z
  .object(traceConfigFields, { error: 'json: cannot unmarshal into Go value of type tracers.TraceConfig' })
  .nullish()
export type TraceConfig = z.output<typeof traceConfig>

/** geth's TraceCallConfig: a trace config plus the state and block overrides of the call. */
export const traceCallConfig = z
  .object(
    { ...traceConfigFields, stateOverrides: stateOverrides.nullish(), blockOverrides: blockOverrides.nullish() },
    { error: 'json: cannot unmarshal into Go value of type tracers.TraceCallConfig' },
  )
  .nullish()

const callTracerConfig = z.object({ onlyTopCall: flag, withLog: flag }).passthrough()
const prestateTracerConfig = z.object({ diffMode: flag, disableCode: flag, disableStorage: flag }).passthrough()

function tracerConfigOf<T extends z.ZodTypeAny>(schema: T, config: TraceConfig): z.output<T> {
  const parsed = schema.safeParse(config?.tracerConfig ?? {})
  if (!parsed.success) throw invalidParams(`invalid tracerConfig: ${parsed.error.issues[0]?.message ?? 'bad value'}`)
  return parsed.data
}

/** One transaction's tracer and how to render what it recorded. */
export interface TraceJob {
  tracer: TxTracer
  result(): unknown
}

/** The tracer a trace config asks for (the struct logger when it names none). */
export function tracerJob(config: TraceConfig): TraceJob {
  const name = config?.tracer
  if (name === undefined || name === '') {
    const structConfig: StructLoggerConfig = {
      disableStack: config?.disableStack ?? defaultStructLoggerConfig.disableStack,
      disableStorage: config?.disableStorage ?? defaultStructLoggerConfig.disableStorage,
      enableMemory: config?.enableMemory ?? defaultStructLoggerConfig.enableMemory,
      enableReturnData: config?.enableReturnData ?? defaultStructLoggerConfig.enableReturnData,
      limit: config?.limit ?? 0,
    }
    const logger = new StructLogger(structConfig)
    return { tracer: logger, result: () => logger.output() }
  }
  if (name === 'callTracer') {
    const parsed = tracerConfigOf(callTracerConfig, config)
    const callConfig: CallTracerConfig = { onlyTopCall: parsed.onlyTopCall ?? false, withLog: parsed.withLog ?? false }
    const recorder = new CallRecorder()
    return { tracer: recorder, result: () => gethCallTrace(recorder.output(), callConfig) }
  }
  if (name === 'prestateTracer') {
    const parsed = tracerConfigOf(prestateTracerConfig, config)
    const prestateConfig: PrestateTracerConfig = {
      diffMode: parsed.diffMode ?? false,
      disableCode: parsed.disableCode ?? false,
      disableStorage: parsed.disableStorage ?? false,
    }
    const recorder = new StateRecorder()
    return { tracer: recorder, result: () => gethPrestate(recorder.output(), prestateConfig) }
  }
  throw serverError(
    `tracer "${name}" is not supported (supported: callTracer, prestateTracer, or none for the struct logger)`,
  )
}

/** Deadline for a trace config's timeout (geth's default 5 s). */
export function deadlineOf(config: TraceConfig): number {
  const ms = config?.timeout === undefined ? DEFAULT_TRACE_TIMEOUT_MS : parseDuration(config.timeout)
  return Date.now() + ms
}

export function timeoutError(config: TraceConfig): Error {
  return serverError(`execution timeout (${config?.timeout ?? '5s'})`)
}

/** The tracing calls shared by the debug_, trace_ and ots_ namespaces. */
export class Tracing {
  constructor(private readonly ctx: RpcContext) {}

  /** A transaction's block and index; geth's "transaction not found" when it is not in the chain. */
  async locate(txHash: Uint8Array): Promise<{ block: Block; index: number } | undefined> {
    const { chain } = this.ctx.deps
    const location = await chain.getTxLocation(txHash)
    if (location === undefined) return undefined
    const block = await chain.getBlockByNumber(location.blockNumber)
    if (block === undefined) return undefined
    return { block, index: location.index }
  }

  async parentOf(block: Block): Promise<Block> {
    if (block.header.number === 0n) throw serverError('genesis is not traceable')
    const parent = await this.ctx.deps.chain.getBlockByHash(block.header.parentHash)
    if (parent === undefined) throw serverError(`parent ${bytesToHex(block.header.parentHash)} not found`)
    return parent
  }

  /** Runs `tracer` on transaction `index` of `block` (every earlier one runs untraced first). */
  async traceTx(block: Block, index: number, tracer: TxTracer, deadline: number): Promise<void> {
    const parent = await this.parentOf(block)
    await this.ctx.deps.execution.traceBlock(block, parent, {
      tracerFor: (i) => (i === index ? tracer : undefined),
      lastIndex: index,
      deadline,
    })
  }

  /** Runs a fresh tracer from `make` on every transaction of `block`. */
  async traceAll<T extends TxTracer>(block: Block, make: (index: number) => T, deadline: number): Promise<T[]> {
    const parent = await this.parentOf(block)
    const tracers: T[] = []
    await this.ctx.deps.execution.traceBlock(block, parent, {
      tracerFor: (i) => {
        tracers[i] = make(i)
        return tracers[i]
      },
      deadline,
    })
    return tracers
  }

  /** The call tree of one transaction. */
  async callTree(block: Block, index: number, deadline: number): Promise<TracedCall> {
    const recorder = new CallRecorder()
    await this.traceTx(block, index, recorder, deadline)
    return recorder.output()
  }

  /** Accounts a transaction touched, before and after it. */
  async stateChanges(block: Block, index: number, deadline: number): Promise<StateTouched> {
    const recorder = new StateRecorder()
    await this.traceTx(block, index, recorder, deadline)
    return recorder.output()
  }
}

/** Maps the trace deadline to geth's timeout error; other errors pass. */
export async function withTimeout<T>(config: TraceConfig, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (e) {
    if (e instanceof TraceTimeoutError) throw timeoutError(config)
    throw e
  }
}
