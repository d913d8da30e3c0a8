/**
 * Polled filters as geth keeps them: eth_newFilter (logs), eth_newBlockFilter, eth_newPendingTransactionFilter,
 * read with eth_getFilterChanges (what arrived since the last poll) and eth_getFilterLogs, removed with
 * eth_uninstallFilter or after `filterTimeoutMs` without a poll. Block and pending-transaction filters queue hashes
 * as blocks are imported and transactions admitted; log filters remember the next block to look at and read new
 * blocks' logs through the bloom-indexed log reader when polled.
 */
import { randomBytes } from 'node:crypto'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { z } from 'zod'
import type { ImportedBlock } from '../chain/index.js'
import type { MethodTable } from './dispatcher.js'
import { type RpcError, serverError } from './errors.js'
import type { RpcLog } from './format.js'
import type { LogReader } from './logs.js'
import type { RpcContext } from './options.js'
import { type FilterObject, filterObject, required, withParams } from './params.js'

export interface FilterOptions {
  /** A filter not polled for this long is removed (geth: 5 minutes). */
  filterTimeoutMs: number
  /** Filters installed at once, over all clients. */
  maxFilters: number
  /** Hashes a block or pending-transaction filter keeps between polls; the oldest go first. */
  maxQueuedPerFilter: number
}

export const defaultFilterOptions: FilterOptions = {
  filterTimeoutMs: 5 * 60_000,
  maxFilters: 10_000,
  maxQueuedPerFilter: 10_000,
}

type Filter =
  | { kind: 'logs'; criteria: FilterObject; nextBlock: bigint; polledAt: number }
  | { kind: 'blocks' | 'pending'; hashes: string[]; polledAt: number }

const filterId = z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, 'invalid filter id')

function notFound(): RpcError {
  return serverError('filter not found')
}

export class FilterManager {
  private readonly filters = new Map<string, Filter>()
  private readonly detach: (() => void)[] = []
  private sweeper: NodeJS.Timeout | undefined

  constructor(
    private readonly opts: FilterOptions,
    private readonly ctx: RpcContext,
    private readonly logs: LogReader,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts queueing new blocks and admitted transactions for the filters, and sweeping expired filters. */
  start(): void {
    const { chain, txpool } = this.ctx.deps
    const onBlock = ({ block }: ImportedBlock) => this.push('blocks', bytesToHex(block.hash()))
    chain.on('block', onBlock)
    this.detach.push(() => chain.off('block', onBlock))
    this.detach.push(txpool.onAdded((tx: TypedTransaction) => this.push('pending', bytesToHex(tx.hash()))))
    this.sweeper = setInterval(() => this.sweep(), Math.min(this.opts.filterTimeoutMs, 60_000))
    this.sweeper.unref()
  }

  stop(): void {
    for (const detach of this.detach.splice(0)) detach()
    if (this.sweeper) clearInterval(this.sweeper)
    this.filters.clear()
  }

  get size(): number {
    return this.filters.size
  }

  methods(): MethodTable {
    return {
      eth_newFilter: withParams([required(filterObject)], (criteria) => {
        if (criteria.blockHash !== undefined) throw serverError('cannot specify blockhash')
        // Changes start with the blocks after this one, as in geth.
        return this.install({ kind: 'logs', criteria, nextBlock: this.head() + 1n, polledAt: this.now() })
      }),
      eth_newBlockFilter: withParams([], () => this.install({ kind: 'blocks', hashes: [], polledAt: this.now() })),
      eth_newPendingTransactionFilter: withParams([], () =>
        this.install({ kind: 'pending', hashes: [], polledAt: this.now() }),
      ),
      eth_getFilterChanges: withParams([required(filterId)], (id) => this.changes(id)),
      eth_getFilterLogs: withParams([required(filterId)], (id) => this.filterLogs(id)),
      eth_uninstallFilter: withParams([required(filterId)], (id) => this.filters.delete(normalise(id))),
    }
  }

  private head(): bigint {
    return this.ctx.deps.chain.head.header.number
  }

  private install(filter: Filter): string {
    this.sweep()
    if (this.filters.size >= this.opts.maxFilters) throw serverError(`too many filters (limit ${this.opts.maxFilters})`)
    const id = normalise(`0x${randomBytes(16).toString('hex')}`)
    this.filters.set(id, filter)
    return id
  }

  private get(id: string): Filter {
    this.sweep()
    const filter = this.filters.get(normalise(id))
    if (filter === undefined) throw notFound()
    filter.polledAt = this.now()
    return filter
  }

  private async changes(id: string): Promise<string[] | RpcLog[]> {
    const filter = this.get(id)
    if (filter.kind !== 'logs') return filter.hashes.splice(0)
    const head = this.head()
    const last =
      filter.criteria.toBlock?.kind === 'number' && filter.criteria.toBlock.number < head
        ? filter.criteria.toBlock.number
        : head
    const from = filter.nextBlock
    if (from > last) return []
    filter.nextBlock = last + 1n
    return this.logs.between(filter.criteria, from, last)
  }

  private async filterLogs(id: string): Promise<RpcLog[]> {
    const filter = this.get(id)
    if (filter.kind !== 'logs') throw notFound()
    // The filter's own range, checked and limited like eth_getLogs.
    return this.logs.getLogs(filter.criteria)
  }

  private push(kind: 'blocks' | 'pending', hash: string): void {
    for (const filter of this.filters.values()) {
      if (filter.kind !== kind) continue
      filter.hashes.push(hash)
      if (filter.hashes.length > this.opts.maxQueuedPerFilter) filter.hashes.shift()
    }
  }

  private sweep(): void {
    const deadline = this.now() - this.opts.filterTimeoutMs
    for (const [id, filter] of this.filters) if (filter.polledAt < deadline) this.filters.delete(id)
  }
}

/**
 * Filter ids are quantities as geth makes them (no leading zeros), compared as lowercase hex without leading zeros
 * whatever form a client echoes back (web3.js reads an id as a number and returns it unpadded).
 */
function normalise(id: string): string {
  return `0x${id.slice(2).toLowerCase().replace(/^0+/, '') || '0'}`
}
