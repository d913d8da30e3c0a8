/**
 * Transport-independent JSON-RPC 2.0: envelopes, batches, notifications and error mapping over a method table.
 * HTTP (and later WebSocket) hand it request text or parsed JSON and send back what it returns.
 */
import type { Logger } from 'pino'
import { ErrorCode, INTERNAL_ERROR, type JsonRpcErrorObject, toRpcError } from './errors.js'

/** A method receives its positional parameters (an empty array when the request had none). */
export type RpcMethod = (params: readonly unknown[]) => unknown

export type MethodTable = Readonly<Record<string, RpcMethod>>

export type JsonRpcId = string | number | null

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: JsonRpcId; result: unknown }
  | { jsonrpc: '2.0'; id: JsonRpcId; error: JsonRpcErrorObject }

export interface DispatcherOptions {
  /** Longest accepted batch; longer batches get one "batch too large" error. */
  maxBatchLength: number
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

/** Quantities that slip through unrendered still go out as minimal hex rather than failing the response. */
function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : value
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

  /** Handles a request body; returns the response text, or undefined when there is nothing to answer. */
  async handleText(text: string): Promise<string | undefined> {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return JSON.stringify(errorResponse(null, ErrorCode.ParseError, 'parse error'))
    }
    const response = await this.handle(parsed)
    return response === undefined ? undefined : JSON.stringify(response, replacer)
  }

  /** Handles one parsed request or batch; undefined for notifications only. */
  async handle(request: unknown): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
    if (!Array.isArray(request)) return this.handleMessage(request)
    if (request.length === 0) return errorResponse(null, ErrorCode.InvalidRequest, 'empty batch')
    if (request.length > this.opts.maxBatchLength) {
      // As geth: one error for the whole batch, carrying the id of its first call.
      const first = request.find((m) => isObject(m) && 'id' in m && isValidId(m.id)) as { id: JsonRpcId } | undefined
      return [errorResponse(first?.id ?? null, ErrorCode.InvalidRequest, 'batch too large')]
    }
    const responses: JsonRpcResponse[] = []
    // In order, one at a time, as geth does: a batch may send a tx and then read the pending nonce.
    for (const message of request) {
      const response = await this.handleMessage(message)
      if (response !== undefined) responses.push(response)
    }
    return responses.length === 0 ? undefined : responses
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
