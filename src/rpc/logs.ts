/**
 * eth_getLogs: candidate blocks come from the chain's log index (src/indexes: blocks by emitter address and by topic
 * at each position); their headers and stored receipts (which name the transaction hashes) are read and matched
 * exactly. Limits: toBlock - fromBlock ≤ maxLogBlockRange (geth's --rpc.rangelimit), at most maxLogResults logs.
 */
import { equalsBytes } from '@ethereumjs/util'
import type { LogTuple, StoredReceipt } from '../chain/index.js'
import type { MethodTable } from './dispatcher.js'
import { ErrorCode, invalidParams, RpcError, serverError } from './errors.js'
import { formatLog, type LogBlock, logBlockOf, type RpcLog } from './format.js'
import type { RpcContext } from './options.js'
import { type FilterObject, filterObject, LATEST, required, type TopicFilter, withParams } from './params.js'
import { blockNumberOf } from './resolve.js'

/** Candidate blocks read concurrently. */
const SCAN_CONCURRENCY = 32

/** The three bits an item sets in a 2048-bit bloom, as (byte index, mask) pairs. */
export type BloomBits = [number, number][]

export function bloomBits(keccak256: (data: Uint8Array) => Uint8Array, item: Uint8Array): BloomBits {
  const hash = keccak256(item)
  const bits: BloomBits = []
  for (let i = 0; i < 6; i += 2) {
    const bit = ((hash[i] << 8) | hash[i + 1]) & 2047
    bits.push([255 - (bit >> 3), 1 << (bit & 7)])
  }
  return bits
}

function inBloom(bloom: Uint8Array, bits: BloomBits): boolean {
  return bits.every(([byte, mask]) => (bloom[byte] & mask) !== 0)
}

/** A filter's addresses and topics, plus their bloom bits for skipping blocks. */
export class LogMatcher {
  private readonly addressBits: BloomBits[]
  private readonly topicBits: (BloomBits[] | undefined)[]

  constructor(
    keccak256: (data: Uint8Array) => Uint8Array,
    private readonly addresses: Uint8Array[],
    private readonly topics: TopicFilter[],
  ) {
    this.addressBits = addresses.map((a) => bloomBits(keccak256, a))
    this.topicBits = topics.map((position) => position?.map((t) => bloomBits(keccak256, t)))
  }

  /** False when the block certainly has no matching log. */
  mayMatch(logsBloom: Uint8Array): boolean {
    if (this.addressBits.length > 0 && !this.addressBits.some((bits) => inBloom(logsBloom, bits))) return false
    return this.topicBits.every(
      (position) => position === undefined || position.some((bits) => inBloom(logsBloom, bits)),
    )
  }

  matches([address, topics]: LogTuple): boolean {
    if (this.addresses.length > 0 && !this.addresses.some((a) => equalsBytes(a, address))) return false
    if (this.topics.length > topics.length) return false
    return this.topics.every(
      (position, i) => position === undefined || position.some((topic) => equalsBytes(topic, topics[i])),
    )
  }
}

/** Reads logs for eth_getLogs and for log filters. */
export interface LogReader {
  /** eth_getLogs, with its range and result limits. */
  getLogs(filter: FilterObject): Promise<RpcLog[]>
  /** Logs matching `filter`'s addresses and topics in blocks from..to (no range limit: callers bound it). */
  between(filter: FilterObject, from: bigint, to: bigint): Promise<RpcLog[]>
}

export function createLogReader(ctx: RpcContext): LogReader {
  const { chain, crypto } = ctx.deps
  const { maxLogBlockRange, maxLogResults } = ctx.opts

  const tooMany = () => new RpcError(ErrorCode.LimitExceeded, `query returned more than ${maxLogResults} results`)
  const matcherOf = (filter: FilterObject) =>
    new LogMatcher(crypto.keccak256, filter.address ?? [], filter.topics ?? [])

  function collect(block: LogBlock, receipts: StoredReceipt[] | undefined, matcher: LogMatcher, out: RpcLog[]): void {
    if (receipts === undefined) return
    let logIndex = 0
    receipts.forEach((receipt, txIndex) => {
      for (const log of receipt.logs) {
        if (matcher.matches(log)) {
          if (out.length >= maxLogResults) throw tooMany()
          out.push(formatLog(log, block, txIndex, logIndex))
        }
        logIndex++
      }
    })
  }

  /** A candidate block's logs: its header and stored receipts are enough (the receipts name the tx hashes). */
  async function readBlock(number: bigint): Promise<{ at: LogBlock; receipts: StoredReceipt[] } | undefined> {
    const header = await chain.getHeaderByNumber(number)
    if (header === undefined) return undefined
    const receipts = await chain.getReceipts(header.hash())
    return receipts === undefined
      ? undefined
      : { at: logBlockOf({ hash: () => header.hash(), header }, receipts), receipts }
  }

  async function scan(filter: FilterObject, from: bigint, to: bigint, out: RpcLog[]): Promise<void> {
    const matcher = matcherOf(filter)
    const candidates = await chain.index.logBlocks({
      fromBlock: from,
      toBlock: to,
      addresses: filter.address ?? [],
      topics: filter.topics ?? [],
    })
    for (let start = 0; start < candidates.length; start += SCAN_CONCURRENCY) {
      const read = await Promise.all(candidates.slice(start, start + SCAN_CONCURRENCY).map(readBlock))
      for (const found of read) if (found !== undefined) collect(found.at, found.receipts, matcher, out)
    }
  }

  async function getLogs(filter: FilterObject): Promise<RpcLog[]> {
    const out: RpcLog[] = []
    if (filter.blockHash !== undefined) {
      const matcher = matcherOf(filter)
      const block = await chain.getBlockByHash(filter.blockHash)
      if (block === undefined) throw serverError('unknown block')
      if (matcher.mayMatch(block.header.logsBloom)) {
        const receipts = await chain.getReceipts(block.hash())
        collect(logBlockOf(block, receipts), receipts, matcher, out)
      }
      return out
    }
    const head = chain.head.header.number
    const from = blockNumberOf(ctx, filter.fromBlock ?? LATEST)
    const to = blockNumberOf(ctx, filter.toBlock ?? LATEST)
    if (from > to) throw invalidParams('invalid block range params')
    if (to > head) throw invalidParams('block range extends beyond current head block')
    if (to - from > BigInt(maxLogBlockRange)) throw serverError(`exceed maximum block range: ${maxLogBlockRange}`)
    await scan(filter, from, to, out)
    return out
  }

  return {
    getLogs,
    async between(filter, from, to) {
      const out: RpcLog[] = []
      await scan(filter, from, to, out)
      return out
    },
  }
}

export function logMethods(reader: LogReader): MethodTable {
  return {
    eth_getLogs: withParams([required(filterObject)], (filter) => reader.getLogs(filter)),
  }
}
