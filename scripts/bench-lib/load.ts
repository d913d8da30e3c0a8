/**
 * Submits pre-signed raw transactions in JSON-RPC batches with bounded concurrency while polling new blocks to learn
 * which block included each transaction and when that block was first observed.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { NodeProcess } from './node.js'
import { RpcCallError, type RpcClient, toQuantity } from './rpc.js'

export interface SignedTx {
  raw: `0x${string}`
  hash: `0x${string}`
  kind: string
}

export interface LoadOptions {
  /** Raw transactions per eth_sendRawTransaction batch. */
  batchSize: number
  /** Batches awaiting an answer at once. */
  maxInFlight: number
  /** From the first submission until the watcher gives up on transactions not yet included. */
  timeLimitMs: number
  pollIntervalMs: number
  /** Offered load in tx/s (paced batches); absent = as fast as the node takes them. */
  ratePerSecond?: number
}

export interface Inclusion {
  block: number
  /** performance.now() when the block was first seen over RPC. */
  observedAt: number
}

export interface BlockUse {
  txs: number
  gasUsed: bigint
  observedAt: number
  /** The block's own timestamp (seconds). */
  timestamp: number
}

export interface LoadResult {
  firstSubmitAt: number
  submitDoneAt: number
  endedAt: number
  /** performance.now() when each transaction's batch was sent. */
  submittedAt: Float64Array
  /** Index of each rejected transaction -> the node's (or the transport's) message. */
  submitErrors: Map<number, string>
  inclusions: (Inclusion | undefined)[]
  /** Blocks that included at least one of the transactions. */
  blocks: Map<number, BlockUse>
  timedOut: boolean
}

/** Consecutive failed polls tolerated before the watcher gives up (the node may be busy sealing a large block). */
const MAX_POLL_FAILURES = 20
/** Blocks fetched in one eth_getBlockByNumber batch. */
const BLOCKS_PER_POLL = 50

interface RpcBlock {
  number: string
  gasUsed: string
  timestamp: string
  transactions: string[]
}

/** `node` is the process serving `rpc` when it is ours (a foreign URL has none): the run stops if it exits. */
export async function runLoad(
  rpc: RpcClient,
  node: NodeProcess | undefined,
  txs: readonly SignedTx[],
  opts: LoadOptions,
): Promise<LoadResult> {
  const startBlock = Number(await rpc.call<string>('eth_blockNumber')) + 1
  const indexByHash = new Map(txs.map((tx, i) => [tx.hash.toLowerCase(), i]))
  const result: LoadResult = {
    firstSubmitAt: performance.now(),
    submitDoneAt: 0,
    endedAt: 0,
    submittedAt: new Float64Array(txs.length),
    submitErrors: new Map(),
    inclusions: new Array(txs.length).fill(undefined),
    blocks: new Map(),
    timedOut: false,
  }
  const deadline = result.firstSubmitAt + opts.timeLimitMs
  let submitDone = false
  let included = 0

  const batches: number[][] = []
  for (let i = 0; i < txs.length; i += opts.batchSize) {
    batches.push(Array.from({ length: Math.min(opts.batchSize, txs.length - i) }, (_, j) => i + j))
  }
  let nextBatch = 0
  const submitWorker = async (): Promise<void> => {
    while (nextBatch < batches.length) {
      const index = nextBatch++
      const batch = batches[index]
      // Paced load: batch k goes out no earlier than k * batchSize / rate seconds after the start.
      if (opts.ratePerSecond !== undefined) {
        const due = result.firstSubmitAt + (index * opts.batchSize * 1000) / opts.ratePerSecond
        const wait = due - performance.now()
        if (wait > 0) await sleep(wait)
      }
      const sentAt = performance.now()
      for (const i of batch) result.submittedAt[i] = sentAt
      try {
        const outcomes = await rpc.batch(batch.map((i) => ({ method: 'eth_sendRawTransaction', params: [txs[i].raw] })))
        outcomes.forEach((o, j) => {
          if (!o.ok) result.submitErrors.set(batch[j], o.error.message)
        })
      } catch (e) {
        for (const i of batch) result.submitErrors.set(i, (e as Error).message)
      }
    }
  }
  const submit = async (): Promise<void> => {
    await Promise.all(Array.from({ length: opts.maxInFlight }, submitWorker))
    result.submitDoneAt = performance.now()
    submitDone = true
  }

  const watch = async (): Promise<void> => {
    let next = startBlock
    let failures = 0
    const maxPolls = Math.ceil(opts.timeLimitMs / opts.pollIntervalMs) * 4 + 100
    for (let poll = 0; poll < maxPolls; poll++) {
      if (submitDone && included + result.submitErrors.size >= txs.length) return
      if (performance.now() > deadline) {
        result.timedOut = true
        return
      }
      if (node !== undefined && !node.running) throw new Error(`node stopped during the run (${node.exitReason})`)
      let caughtUp = true
      try {
        const head = Number(await rpc.call<string>('eth_blockNumber'))
        const last = Math.min(head, next + BLOCKS_PER_POLL - 1)
        if (last >= next) {
          const numbers = Array.from({ length: last - next + 1 }, (_, k) => next + k)
          const outcomes = await rpc.batch(
            numbers.map((n) => ({ method: 'eth_getBlockByNumber', params: [toQuantity(n), false] })),
          )
          const observedAt = performance.now()
          for (const [k, outcome] of outcomes.entries()) {
            if (!outcome.ok) throw new Error(`eth_getBlockByNumber failed: ${outcome.error.message}`)
            const block = outcome.result as RpcBlock | null
            if (block === null) break
            const use: BlockUse = {
              txs: 0,
              gasUsed: BigInt(block.gasUsed),
              observedAt,
              timestamp: Number(block.timestamp),
            }
            for (const hash of block.transactions) {
              const i = indexByHash.get(hash.toLowerCase())
              if (i === undefined || result.inclusions[i] !== undefined) continue
              result.inclusions[i] = { block: numbers[k], observedAt }
              use.txs++
              included++
            }
            if (use.txs > 0) result.blocks.set(numbers[k], use)
            next = numbers[k] + 1
          }
          caughtUp = next > head
        }
        failures = 0
      } catch (e) {
        if (++failures > MAX_POLL_FAILURES) throw new Error(`block polling failed: ${(e as Error).message}`)
      }
      if (caughtUp) await sleep(opts.pollIntervalMs)
    }
    result.timedOut = true
  }

  await Promise.all([submit(), watch()])
  result.endedAt = performance.now()
  return result
}

export interface ReceiptSummary {
  /** Receipts with status 0, by kind. */
  failed: Map<string, number>
  /** Included transactions without a receipt. */
  missing: number
  /** Accepted transactions the watcher did not see in a block but that have a receipt at the end (mined late). */
  minedLate: number
  /** Accepted transactions neither seen in a block nor holding a receipt at the end. */
  lost: number
}

/** Receipts asked for in one eth_getTransactionReceipt batch. */
const RECEIPTS_PER_BATCH = 100

interface RpcReceipt {
  transactionHash: string
  status?: string
}

/**
 * Reads the receipts of every block that included one of `txs` (not timed; eth_getBlockReceipts, one block per
 * call, or eth_getTransactionReceipt in batches where the node lacks it) and counts the reverted ones per kind; then
 * asks for the receipt of every accepted transaction the watcher did not see mined, to tell late from lost.
 */
export async function summariseReceipts(
  rpc: RpcClient,
  txs: readonly SignedTx[],
  result: LoadResult,
): Promise<ReceiptSummary> {
  const summary: ReceiptSummary = { failed: new Map(), missing: 0, minedLate: 0, lost: 0 }
  const indexByHash = new Map(txs.map((tx, i) => [tx.hash.toLowerCase(), i]))
  const seen = new Set<number>()
  const count = (receipt: RpcReceipt): void => {
    const i = indexByHash.get(receipt.transactionHash.toLowerCase())
    if (i === undefined) return
    seen.add(i)
    if (receipt.status !== '0x1') summary.failed.set(txs[i].kind, (summary.failed.get(txs[i].kind) ?? 0) + 1)
  }
  let blockReceipts = true
  for (const number of [...result.blocks.keys()].sort((a, b) => a - b)) {
    try {
      const receipts = await rpc.call<RpcReceipt[] | null>('eth_getBlockReceipts', [toQuantity(number)])
      for (const receipt of receipts ?? []) count(receipt)
    } catch (e) {
      // Method not found / not supported (-32601, -32004): read the receipts one transaction at a time.
      if (!(e instanceof RpcCallError && (e.code === -32601 || e.code === -32004))) throw e
      blockReceipts = false
      break
    }
  }
  if (!blockReceipts) {
    const included = txs.flatMap((_, i) => (result.inclusions[i] !== undefined ? [i] : []))
    for (const receipt of await transactionReceipts(rpc, txs, included)) if (receipt !== null) count(receipt)
  }
  summary.missing = result.inclusions.filter((inclusion, i) => inclusion !== undefined && !seen.has(i)).length
  const unseen = txs.flatMap((_, i) => (result.inclusions[i] === undefined && !result.submitErrors.has(i) ? [i] : []))
  const late = await transactionReceipts(rpc, txs, unseen)
  summary.minedLate = late.filter((r) => r !== null).length
  summary.lost = unseen.length - summary.minedLate
  return summary
}

/** eth_getTransactionReceipt of `txs[i]` for each of `indices`, in batches; null where the node has none. */
async function transactionReceipts(
  rpc: RpcClient,
  txs: readonly SignedTx[],
  indices: readonly number[],
): Promise<(RpcReceipt | null)[]> {
  const receipts: (RpcReceipt | null)[] = []
  for (let k = 0; k < indices.length; k += RECEIPTS_PER_BATCH) {
    const chunk = indices.slice(k, k + RECEIPTS_PER_BATCH)
    const outcomes = await rpc.batch(chunk.map((i) => ({ method: 'eth_getTransactionReceipt', params: [txs[i].hash] })))
    for (const outcome of outcomes) {
      if (!outcome.ok) throw new Error(`eth_getTransactionReceipt failed: ${outcome.error.message}`)
      receipts.push(outcome.result as RpcReceipt | null)
    }
  }
  return receipts
}
