/**
 * Limits of a JSON-RPC listener: checking the configured numbers, a bounded work queue for one WebSocket connection,
 * and the errors clients get when a limit is hit.
 */
import { ErrorCode } from './errors.js'
import { RPC_NAMESPACES, type RpcOptions } from './options.js'

/** geth's code and words for an answer above the response size limit (rpc/errors.go). */
export const RESPONSE_TOO_LARGE = { code: ErrorCode.ResponseTooLarge, message: 'response too large' } as const

export const TOO_MANY_CONCURRENT_REQUESTS = {
  code: ErrorCode.LimitExceeded,
  message: 'too many concurrent requests',
} as const

export const TOO_MANY_CONNECTIONS = { code: ErrorCode.LimitExceeded, message: 'too many connections' } as const

/**
 * Runs at most `maxRunning` tasks at once; up to `maxQueued` more wait their turn in arrival order. `tryRun` refuses
 * (returns undefined) rather than queue beyond that, so a client cannot make the node hold unbounded work.
 */
export class WorkQueue {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(
    private readonly maxRunning: number,
    private readonly maxQueued: number,
  ) {}

  /** Tasks running or waiting. */
  get size(): number {
    return this.running + this.waiting.length
  }

  tryRun<T>(task: () => Promise<T>): Promise<T> | undefined {
    if (this.running < this.maxRunning) return this.start(task)
    if (this.waiting.length >= this.maxQueued) return undefined
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.start(task))
  }

  private async start<T>(task: () => Promise<T>): Promise<T> {
    this.running++
    try {
      return await task()
    } finally {
      this.running--
      this.waiting.shift()?.()
    }
  }
}

/** Clear messages for numbers that cannot work, naming the option; throws on the first problem. */
export function checkRpcOptions(opts: RpcOptions, name = 'rpc'): void {
  const unknown = opts.apis.filter((api) => !RPC_NAMESPACES.includes(api))
  if (unknown.length > 0) {
    throw new Error(`unknown JSON-RPC namespace ${unknown.join(', ')} (known: ${RPC_NAMESPACES.join(', ')})`)
  }
  const positive: (keyof RpcOptions)[] = [
    'maxBodyBytes',
    'maxBatchLength',
    'maxResponseBytes',
    'maxConnections',
    'batchConcurrency',
    'wsMaxConcurrentRequests',
  ]
  for (const key of positive) {
    const value = opts[key]
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new Error(`${name}.${key} must be a positive whole number (got ${String(value)})`)
    }
  }
  if (!Number.isSafeInteger(opts.wsMaxQueuedRequests) || opts.wsMaxQueuedRequests < 0) {
    throw new Error(`${name}.wsMaxQueuedRequests must be a whole number >= 0 (got ${opts.wsMaxQueuedRequests})`)
  }
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', ''])

/** True when two listeners would claim the same address: same port (not 0) and the same or a wildcard host. */
export function sameListenAddress(a: { host: string; port: number }, b: { host: string; port: number }): boolean {
  if (a.port === 0 || b.port === 0 || a.port !== b.port) return false
  const ha = a.host.toLowerCase()
  const hb = b.host.toLowerCase()
  if (ha === hb || WILDCARD_HOSTS.has(ha) || WILDCARD_HOSTS.has(hb)) return true
  // 'localhost' resolves to a loopback address.
  return (ha === 'localhost' && LOOPBACK.has(hb)) || (hb === 'localhost' && LOOPBACK.has(ha))
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]'])
