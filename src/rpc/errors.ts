/**
 * JSON-RPC error codes and the one table that maps domain errors to them, with geth's codes and wording
 * (clients such as ethers and viem match on both).
 */
import { bytesToHex } from '@ethereumjs/util'
import {
  CallError,
  ExecutionError,
  ExecutionRevertedError,
  ExecutionTimeoutError,
  OverrideError,
  SimulateError,
} from '../execution/index.js'
import { TxPoolError } from '../txpool/index.js'

export const ErrorCode = {
  /** The call reverted; `data` carries the revert data. */
  ExecutionReverted: 3,
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** geth's catch-all for a method that failed (errcodeDefault). */
  Server: -32000,
  /** A query hit a configured limit (Infura's and viem's LimitExceededRpcError). */
  LimitExceeded: -32005,
} as const

export interface JsonRpcErrorObject {
  code: number
  message: string
  data?: unknown
}

/** An error a method throws to answer with exactly this code, message and data. */
export class RpcError extends Error {
  override readonly name = 'RpcError'
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message)
  }

  toJSON(): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data }
  }
}

/** -32602 for a method's own argument checks. */
export function invalidParams(message: string): RpcError {
  return new RpcError(ErrorCode.InvalidParams, message)
}

/** -32000, geth's code for a method that could not answer. */
export function serverError(message: string): RpcError {
  return new RpcError(ErrorCode.Server, message)
}

/** Maps a thrown error to its JSON-RPC error; undefined for an unexpected error (reported as internal). */
export function toRpcError(e: unknown): JsonRpcErrorObject | undefined {
  if (e instanceof RpcError) return e.toJSON()
  if (e instanceof ExecutionRevertedError) {
    return { code: ErrorCode.ExecutionReverted, message: e.message, data: bytesToHex(e.data) }
  }
  if (e instanceof CallError || e instanceof TxPoolError) return { code: ErrorCode.Server, message: e.message }
  if (e instanceof ExecutionTimeoutError || e instanceof OverrideError) {
    return { code: ErrorCode.Server, message: e.message }
  }
  if (e instanceof SimulateError) return { code: e.code, message: e.message }
  // The state of an old block is missing: geth says "missing trie node ..." with -32000.
  if (e instanceof ExecutionError && e.code === 'MISSING_STATE') return { code: ErrorCode.Server, message: e.message }
  return undefined
}

export const INTERNAL_ERROR: JsonRpcErrorObject = { code: ErrorCode.InternalError, message: 'internal error' }
