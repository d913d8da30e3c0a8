/**
 * Transport-independent JSON-RPC 2.0: envelopes, batches, notifications and error mapping over a method table.
 * HTTP (and later WebSocket) hand it request text or parsed JSON and send back what it returns.
 */
import type { Logger } from 'pino'
import { ErrorCode, INTERNAL_ERROR, type JsonRpcErrorObject, toRpcError } from './errors.js'
import { stringifyWithin } from './json.js'
import { RESPONSE_TOO_LARGE } from './limits.js'

/** A method receives its positional parameters (an empty array when the request had none). */
export type RpcMethod = (params: readonly unknown[]) => unknown

export type MethodTable = Readonly<Record<string, RpcMethod>>

export type JsonRpcId = string | number | null

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: JsonRpcId; result: unknown }
  | { jsonrpc: '2.0'; id: JsonRpcId; error: JsonRpcErrorObject }

/** What the dispatcher records per call of a served method (the node's `Metrics` has these). */
export interface RpcMetrics {
  rpcRequests: { inc(labels: { method: string }): void }
  rpcRequestSeconds: { observe(labels: { method: string }, seconds: number): void }
  rpcErrors: { inc(labels: { method: string; code: string }): void }
}

export interface DispatcherOptions {
  /** Longest accepted batch; longer batches get one "batch too large" error. */
  maxBatchLength: number
  /** Largest answer in bytes (a batch counts its items together); default: no limit. */
  maxResponseBytes?: number
  /** Calls of one batch that run at once; default 1 (one after the other). */
  batchConcurrency?: number
  /**
   * Work done once for a whole batch before its calls run (decoding and recovering the senders of every raw
   * transaction it sends, together); returns what to release once the calls are done. Its failure only skips it.
   */
  prepareBatch?: (calls: readonly { method: string; params: unknown }[]) => Promise<() => void>
  /** Calls, latency and errors by method; only served methods are labelled (clients cannot add labels). */
  metrics?: RpcMetrics
}

/**
 * Calls that change what later calls see (a transaction sent, a filter's cursor, a vote) run alone and in order
 * within a batch, so "send, then read the pending nonce" in one batch behaves as when run one by one.
 */
const ORDERED_METHODS = new Set([
  'eth_sendRawTransaction',
  'eth_sendTransaction',
  'eth_newFilter',
  'eth_newBlockFilter',
  'eth_newPendingTransactionFilter',
  'eth_getFilterChanges',
  'eth_uninstallFilter',
  'eth_subscribe',
  'eth_unsubscribe',
  'qbft_proposeValidatorVote',
  'qbft_discardValidatorVote',
])

function runsAlone(message: unknown): boolean {
  return isObject(message) && typeof message.method === 'string' && ORDERED_METHODS.has(message.method)
}

function errorResponse(id: JsonRpcId, code: number, message: string): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: { code, message } }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isValidId(id: unknown): id is JsonRpcId {
  return id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))
}

/**
 * The answer to a request text that is refused as a whole (e.g. too busy): `error` for each call in it, with its id;
 * undefined when it holds only notifications.
 */
export function refuseText(text: string, error: JsonRpcErrorObject): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return JSON.stringify(errorResponse(null, ErrorCode.ParseError, 'parse error'))
  }
  const answer = (message: unknown): JsonRpcResponse | undefined => {
    if (isObject(message) && !('id' in message)) return undefined
    return { jsonrpc: '2.0', id: isObject(message) && isValidId(message.id) ? message.id : null, error: { ...error } }
  }
  if (!Array.isArray(parsed)) {
    const response = answer(parsed)
    return response === undefined ? undefined : JSON.stringify(response)
  }
  const responses = parsed.map(answer).filter((r) => r !== undefined)
  return responses.length === 0 ? undefined : JSON.stringify(responses)
}

export class Dispatcher {
  private readonly methods: Map<string, RpcMethod>

  constructor(
    methods: MethodTable,
    private readonly opts: DispatcherOptions,
    private readonly log: Logger,
  ) {
    this.methods = new Map(Object.entries(methods))
  }

  /** Names of the methods served, for diagnostics (rpc_modules, logs). */
  get methodNames(): string[] {
    return [...this.methods.keys()]
  }

  /**
   * Handles a request body; returns the response text, or undefined when there is nothing to answer. An answer
   * above maxResponseBytes is replaced by geth's -32003 "response too large"; in a batch, the calls that fit keep
   * their answers and the first that does not, and every call after it (not run), get that error.
   */
  async handleText(text: string): Promise<string | undefined> {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return JSON.stringify(errorResponse(null, ErrorCode.ParseError, 'parse error'))
    }
    const limit = this.opts.maxResponseBytes ?? Number.POSITIVE_INFINITY
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.length <= this.opts.maxBatchLength) {
      return this.handleBatchText(parsed, limit)
    }
    const response = await this.handle(parsed)
    if (response === undefined) return undefined
    const encoded = stringifyWithin(response, limit)
    if (encoded !== undefined) return encoded
    const id = Array.isArray(response) ? null : response.id
    return JSON.stringify(errorResponse(id, RESPONSE_TOO_LARGE.code, RESPONSE_TOO_LARGE.message))
  }

  /** Handles one parsed request or batch; undefined for notifications only. No response size limit. */
  async handle(request: unknown): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
    if (!Array.isArray(request)) return this.handleMessage(request)
    if (request.length === 0) return errorResponse(null, ErrorCode.InvalidRequest, 'empty batch')
    if (request.length > this.opts.maxBatchLength) {
      // As geth: one error for the whole batch, carrying the id of its first call.
      const first = request.find((m) => isObject(m) && 'id' in m && isValidId(m.id)) as { id: JsonRpcId } | undefined
      return [errorResponse(first?.id ?? null, ErrorCode.InvalidRequest, 'batch too large')]
    }
    const responses: JsonRpcResponse[] = []
    await this.runBatch(request, (response) => responses.push(response) > 0)
    return responses.length === 0 ? undefined : responses
  }

  /** A batch's answers, serialized as they come in, within `limit` bytes in all. */
  private async handleBatchText(batch: unknown[], limit: number): Promise<string | undefined> {
    const parts: string[] = []
    let bytes = 2 // [ and ]
    await this.runBatch(batch, (response, always) => {
      // Error answers that replace calls past the limit always go out: they are small and not counted.
      const encoded = always ? JSON.stringify(response) : stringifyWithin(response, limit - bytes - parts.length)
      if (encoded === undefined) return false
      if (!always) bytes += Buffer.byteLength(encoded)
      parts.push(encoded)
      return true
    })
    return parts.length === 0 ? undefined : `[${parts.join(',')}]`
  }

  /**
   * Runs a batch's calls in groups of at most batchConcurrency (a call that changes state runs alone), handing the
   * answers to `emit` in order. Once `emit` refuses one (too large), that call and every later one are answered
   * "response too large" (`emit(…, true)`), and the later ones are not run.
   */
  private async runBatch(
    batch: unknown[],
    emit: (response: JsonRpcResponse, always: boolean) => boolean,
  ): Promise<void> {
    let release: (() => void) | undefined
    if (this.opts.prepareBatch !== undefined && batch.length > 1) {
      const calls = batch.filter(
        (m): m is { method: string; params: unknown } => isObject(m) && typeof m.method === 'string',
      )
      const prepare = this.opts.prepareBatch
      release = await Promise.resolve()
        .then(() => prepare(calls))
        .catch(() => undefined)
    }
    try {
      await this.runCalls(batch, emit)
    } finally {
      release?.()
    }
  }

  private async runCalls(
    batch: unknown[],
    emit: (response: JsonRpcResponse, always: boolean) => boolean,
  ): Promise<void> {
    const concurrency = this.opts.batchConcurrency ?? 1
    let full = false
    const tooLarge = (id: JsonRpcId) =>
      emit(errorResponse(id, RESPONSE_TOO_LARGE.code, RESPONSE_TOO_LARGE.message), true)
    let i = 0
    while (i < batch.length && !full) {
      let end = i + 1
      if (!runsAlone(batch[i])) {
        while (end < batch.length && end - i < concurrency && !runsAlone(batch[end])) end++
      }
      const responses = await Promise.all(batch.slice(i, end).map((message) => this.handleMessage(message)))
      for (const response of responses) {
        if (response === undefined) continue
        if (!full && emit(response, false)) continue
        full = true
        tooLarge(response.id)
      }
      i = end
    }
    for (const message of batch.slice(i)) {
      if (isObject(message) && !('id' in message)) continue // a notification: no answer
      tooLarge(isObject(message) && isValidId(message.id) ? message.id : null)
    }
  }

  /** Handles one request object; undefined for a notification (no `id` member). */
  async handleMessage(message: unknown): Promise<JsonRpcResponse | undefined> {
    if (!isObject(message)) return errorResponse(null, ErrorCode.InvalidRequest, 'invalid request')
    const isNotification = !('id' in message)
    const id = isNotification || !isValidId(message.id) ? null : message.id
    if (!isNotification && !isValidId(message.id))
      return errorResponse(null, ErrorCode.InvalidRequest, 'invalid request')
    if (message.jsonrpc !== '2.0' || typeof message.method !== 'string') {
      return errorResponse(id, ErrorCode.InvalidRequest, 'invalid request')
    }
    const response = await this.call(id, message.method, message.params)
    return isNotification ? undefined : response
  }

  private async call(id: JsonRpcId, name: string, params: unknown): Promise<JsonRpcResponse> {
    const method = this.methods.get(name)
    if (method === undefined) {
      return errorResponse(id, ErrorCode.MethodNotFound, `the method ${name} does not exist/is not available`)
    }
    const metrics = this.opts.metrics
    if (metrics === undefined) return this.run(id, name, method, params)
    const started = performance.now()
    const response = await this.run(id, name, method, params)
    metrics.rpcRequests.inc({ method: name })
    metrics.rpcRequestSeconds.observe({ method: name }, (performance.now() - started) / 1000)
    if ('error' in response) metrics.rpcErrors.inc({ method: name, code: String(response.error.code) })
    return response
  }

  private async run(id: JsonRpcId, name: string, method: RpcMethod, params: unknown): Promise<JsonRpcResponse> {
    if (params !== undefined && params !== null && !Array.isArray(params)) {
      return errorResponse(id, ErrorCode.InvalidParams, 'non-array args')
    }
    try {
      const result = await method(params ?? [])
      return { jsonrpc: '2.0', id, result: result ?? null }
    } catch (e) {
      const error = toRpcError(e)
      if (error !== undefined) return { jsonrpc: '2.0', id, error }
      this.log.error({ err: e, method: name }, 'rpc method failed')
      return { jsonrpc: '2.0', id, error: INTERNAL_ERROR }
    }
  }
}
