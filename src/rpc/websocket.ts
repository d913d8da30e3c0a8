/**
 * JSON-RPC over WebSocket on the HTTP port (an upgrade of GET /): every HTTP method, plus eth_subscribe and
 * eth_unsubscribe for newHeads, logs, newPendingTransactions and syncing, with geth's notification shape. A
 * connection's subscriptions end with it; a connection whose unsent data exceeds `maxBufferedBytes` (a consumer
 * slower than the chain) is closed rather than buffered without bound.
 */
import { randomBytes } from 'node:crypto'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { WebSocket } from 'ws'
import { z } from 'zod'
import type { ImportedBlock } from '../chain/index.js'
import { Dispatcher, type DispatcherOptions, type MethodTable, refuseText } from './dispatcher.js'
import { ErrorCode, RpcError, serverError } from './errors.js'
import { formatTransaction } from './format.js'
import { TOO_MANY_CONCURRENT_REQUESTS, WorkQueue } from './limits.js'
import type { LogReader } from './logs.js'
import type { RpcContext } from './options.js'
import { filterObject, optional, required, withParams } from './params.js'
import { renderBlock } from './resolve.js'

export interface WebSocketOptions {
  maxSubscriptionsPerConnection: number
  /** Unsent bytes a connection may hold before it is closed as a slow consumer. */
  maxBufferedBytes: number
  /** Messages (a call or a batch) of the connection that run at once. */
  maxConcurrentRequests: number
  /** Messages waiting for a turn; beyond that each call gets -32005 "too many concurrent requests". */
  maxQueuedRequests: number
  /** Bytes of messages waiting for a turn, a bound on the queue's memory as well; beyond it the same -32005. */
  maxQueuedBytes: number
}

export const defaultWebSocketOptions: WebSocketOptions = {
  maxSubscriptionsPerConnection: 1_000,
  maxBufferedBytes: 16 * 1024 * 1024,
  maxConcurrentRequests: 16,
  maxQueuedRequests: 256,
  maxQueuedBytes: 16 * 1024 * 1024,
}

/** WebSocket close code for a policy violation (RFC 6455). */
const POLICY_VIOLATION = 1008

const subscriptionId = z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, 'invalid subscription id')

/**
 * Ids are quantities as geth makes them (no leading zeros): web3.js reads an id as a number and sends it back
 * re-encoded, so an id with a leading zero would never be found again.
 */
export function quantityId(hex: string): string {
  return `0x${hex.toLowerCase().replace(/^0+/, '') || '0'}`
}

/** Header fields of a rendered block: what geth sends for newHeads. */
async function headOf(ctx: RpcContext, block: ImportedBlock['block']): Promise<Record<string, unknown>> {
  const {
    transactions: _txs,
    uncles: _uncles,
    size: _size,
    ...header
  } = (await renderBlock(ctx, block, false)) as Record<string, unknown>
  return header
}

/** Serves one WebSocket connection until it closes. */
export function serveConnection(
  socket: WebSocket,
  opts: WebSocketOptions & DispatcherOptions,
  ctx: RpcContext,
  methods: MethodTable,
  logs: LogReader,
): void {
  const { chain, txpool, log } = ctx.deps
  const subscriptions = new Map<string, () => void>()

  const sendText = (text: string): void => {
    if (socket.readyState !== socket.OPEN) return
    if (socket.bufferedAmount > opts.maxBufferedBytes) {
      log.warn({ buffered: socket.bufferedAmount }, 'websocket consumer too slow, closing')
      socket.close(POLICY_VIOLATION, 'too slow: notifications not read')
      return
    }
    socket.send(text)
  }
  const notify = (subscription: string, result: unknown): void =>
    sendText(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription, result } }))
  const onBlocks = (listener: (imported: ImportedBlock) => void): (() => void) => {
    chain.on('block', listener)
    return () => chain.off('block', listener)
  }

  const subscribe = (kind: string, arg: unknown): string => {
    if (subscriptions.size >= opts.maxSubscriptionsPerConnection) {
      throw serverError(`too many subscriptions (limit ${opts.maxSubscriptionsPerConnection})`)
    }
    const id = quantityId(randomBytes(16).toString('hex'))
    let stop: () => void
    switch (kind) {
      case 'newHeads':
        stop = onBlocks(({ block }) => {
          headOf(ctx, block).then(
            (head) => notify(id, head),
            (err) => log.warn({ err }, 'newHeads notification failed'),
          )
        })
        break
      case 'logs': {
        const parsed = filterObject.safeParse(arg ?? {})
        if (!parsed.success) throw new RpcError(ErrorCode.InvalidParams, parsed.error.issues[0].message)
        const criteria = parsed.data
        stop = onBlocks(({ block }) => {
          const n = block.header.number
          logs.between(criteria, n, n).then(
            (found) => {
              for (const entry of found) notify(id, entry)
            },
            (err) => log.warn({ err }, 'logs notification failed'),
          )
        })
        break
      }
      case 'newPendingTransactions': {
        const full = arg === true
        stop = txpool.onAdded((tx: TypedTransaction) =>
          notify(id, full ? formatTransaction(tx, txpool.sender(tx)) : `0x${Buffer.from(tx.hash()).toString('hex')}`),
        )
        break
      }
      case 'syncing': {
        let last = ctx.deps.syncStatus?.() !== undefined
        stop = onBlocks(() => {
          const status = ctx.deps.syncStatus?.()
          if ((status !== undefined) === last) return
          last = status !== undefined
          notify(
            id,
            status === undefined
              ? false
              : {
                  syncing: true,
                  status: {
                    startingBlock: Number(status.startingBlock),
                    currentBlock: Number(status.currentBlock),
                    highestBlock: Number(status.highestBlock),
                  },
                },
          )
        })
        break
      }
      default:
        throw new RpcError(ErrorCode.MethodNotFound, `no "${kind}" subscription in eth namespace`)
    }
    subscriptions.set(id, stop)
    return id
  }

  const connectionMethods: MethodTable = {
    eth_subscribe: withParams([required(z.string()), optional(z.unknown())], (kind, arg) => subscribe(kind, arg)),
    eth_unsubscribe: withParams([required(subscriptionId)], (id) => {
      const key = quantityId(id.slice(2))
      const stop = subscriptions.get(key)
      if (stop === undefined) return false
      stop()
      subscriptions.delete(key)
      return true
    }),
  }
  const dispatcher = new Dispatcher({ ...methods, ...connectionMethods }, opts, log)
  const work = new WorkQueue(opts.maxConcurrentRequests, opts.maxQueuedRequests)
  let queuedBytes = 0

  socket.on('message', (data, isBinary) => {
    const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString()
    // Bytes of messages accepted but not started yet; a task that starts at once gives its bytes back at once.
    const size = text.length
    const handled =
      queuedBytes + size > opts.maxQueuedBytes && work.size > 0
        ? undefined
        : work.tryRun(() => {
            queuedBytes -= size
            return dispatcher.handleText(text)
          })
    if (handled !== undefined) queuedBytes += size
    if (handled === undefined) {
      const refusal = refuseText(text, TOO_MANY_CONCURRENT_REQUESTS)
      if (refusal !== undefined) sendText(refusal)
      return
    }
    handled.then(
      (response) => {
        if (response !== undefined) sendText(response)
      },
      (err) => log.error({ err }, 'websocket request failed'),
    )
  })
  socket.on('close', () => {
    for (const stop of subscriptions.values()) stop()
    subscriptions.clear()
  })
  socket.on('error', (err) => log.debug({ err }, 'websocket error'))
}
