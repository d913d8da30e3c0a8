/** Minimal JSON-RPC 2.0 client over HTTP (Node's global fetch): single calls and batches, each with a timeout. */

export interface RpcCall {
  method: string
  params: unknown[]
}

export interface RpcError {
  code: number
  message: string
}

/** A JSON-RPC error answer to a single call; `code` tells e.g. "method not found" (-32601) from the rest. */
export class RpcCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
  ) {
    super(`${method} failed: ${message} (code ${code})`)
  }
}

/** One answer of a batch, in the order of the calls. */
export type RpcOutcome = { ok: true; result: unknown } | { ok: false; error: RpcError }

interface RpcResponse {
  id: number
  result?: unknown
  error?: RpcError
}

export class RpcClient {
  private nextId = 1

  constructor(
    readonly url: string,
    private readonly timeoutMs = 30_000,
  ) {}

  /** Calls `method`; throws on transport errors and on JSON-RPC errors. */
  async call<T>(method: string, params: unknown[] = []): Promise<T> {
    const [outcome] = await this.batch([{ method, params }])
    if (!outcome.ok) throw new RpcCallError(method, outcome.error.code, outcome.error.message)
    return outcome.result as T
  }

  /** Sends `calls` as one batch and returns one outcome per call, in order; throws if the batch as a whole fails. */
  async batch(calls: readonly RpcCall[]): Promise<RpcOutcome[]> {
    const firstId = this.nextId
    this.nextId += calls.length
    const body = JSON.stringify(
      calls.map((c, i) => ({ jsonrpc: '2.0', id: firstId + i, method: c.method, params: c.params })),
    )
    const post = () =>
      fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    let response: Response
    try {
      response = await post()
    } catch (e) {
      // A kept-alive connection that the server closed while this process was busy (signing, say) fails at once
      // ("other side closed", seen with Hardhat's node): once more on a fresh connection.
      if (!isClosedConnection(e)) throw e
      response = await post()
    }
    const text = await response.text()
    if (!response.ok) throw new Error(`HTTP ${response.status} from ${this.url}: ${text.slice(0, 200)}`)
    const parsed = JSON.parse(text) as RpcResponse[] | RpcResponse
    // A single object answering a batch is a batch-level error (e.g. "batch too large").
    if (!Array.isArray(parsed)) throw new Error(`batch rejected: ${parsed.error?.message ?? text.slice(0, 200)}`)
    const byId = new Map(parsed.map((r) => [r.id, r]))
    return calls.map((_, i): RpcOutcome => {
      const r = byId.get(firstId + i)
      if (r === undefined) return { ok: false, error: { code: -32603, message: 'no response for this call' } }
      if (r.error !== undefined) return { ok: false, error: r.error }
      return { ok: true, result: r.result }
    })
  }
}

const CLOSED_CONNECTION_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE'])

function isClosedConnection(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string } }).cause
  return e instanceof TypeError && cause?.code !== undefined && CLOSED_CONNECTION_CODES.has(cause.code)
}

export const toQuantity = (n: bigint | number): `0x${string}` => `0x${n.toString(16)}`
