/**
 * The qbft_ namespace (Besu's names): validator voting, validator sets by block, proposer metrics, and the live
 * round state so that a stalled network can be diagnosed. Enabled with the 'qbft' API (off by default).
 */
import { bytesToHex } from '@ethereumjs/util'
import type { MethodTable } from './dispatcher.js'
import { serverError } from './errors.js'
import { data, quantity } from './format.js'
import type { RpcContext } from './options.js'
import { address, blockNumber, bool, hash, optional, required, withParams } from './params.js'
import { blockNumberOf } from './resolve.js'

/** What the consensus engine offers to the qbft_ namespace. */
export interface QbftBackend {
  /** The validators that decided block `number` (the list in its extraData). */
  validatorsOfBlock(number: bigint): Promise<Uint8Array[] | undefined>
  /** The validators that will decide the next block. */
  nextValidators(): Promise<Uint8Array[]>
  proposeVote(address: Uint8Array, add: boolean): void
  discardVote(address: Uint8Array): void
  pendingVotes(): Map<string, boolean>
  requestTimeoutSeconds(): number
  /** A JSON-able picture of the current height and round. */
  roundState(): Record<string, unknown>
}

/** Besu's default window for qbft_getSignerMetrics: the last 100 blocks. */
const SIGNER_METRICS_WINDOW = 100n

export function qbftMethods(ctx: RpcContext, backend: QbftBackend): MethodTable {
  const { chain } = ctx.deps
  const hexList = (list: Uint8Array[]) => list.map((a) => data(a))

  return {
    qbft_proposeValidatorVote: withParams([required(address), required(bool)], (who, add) => {
      backend.proposeVote(who, add)
      return true
    }),
    qbft_discardValidatorVote: withParams([required(address)], (who) => {
      backend.discardVote(who)
      return true
    }),
    qbft_getPendingVotes: withParams([], () => Object.fromEntries(backend.pendingVotes())),
    qbft_getValidatorsByBlockNumber: withParams([required(blockNumber)], async (param) => {
      if (param.kind === 'tag' && param.tag === 'pending') return hexList(await backend.nextValidators())
      const validators = await backend.validatorsOfBlock(blockNumberOf(ctx, param))
      if (validators === undefined) throw serverError('header not found')
      return hexList(validators)
    }),
    qbft_getValidatorsByBlockHash: withParams([required(hash)], async (blockHash) => {
      const block = await chain.getBlockByHash(blockHash)
      if (block === undefined) throw serverError('header for hash not found')
      return hexList((await backend.validatorsOfBlock(block.header.number)) ?? [])
    }),
    qbft_getSignerMetrics: withParams([optional(blockNumber), optional(blockNumber)], async (fromParam, toParam) => {
      const head = chain.head.header.number
      const to = toParam === undefined ? head : blockNumberOf(ctx, toParam)
      const from =
        fromParam === undefined
          ? to > SIGNER_METRICS_WINDOW
            ? to - SIGNER_METRICS_WINDOW
            : 1n
          : blockNumberOf(ctx, fromParam)
      if (from > to || to > head) throw serverError('invalid block range')
      const metrics = new Map<string, { proposedBlockCount: bigint; lastProposedBlockNumber: bigint }>()
      for (const validator of (await backend.validatorsOfBlock(to)) ?? []) {
        metrics.set(bytesToHex(validator), { proposedBlockCount: 0n, lastProposedBlockNumber: 0n })
      }
      for (let n = from < 1n ? 1n : from; n <= to; n++) {
        const header = await chain.getHeaderByNumber(n)
        if (header === undefined) continue
        const proposer = header.coinbase.toString()
        const entry = metrics.get(proposer) ?? { proposedBlockCount: 0n, lastProposedBlockNumber: 0n }
        entry.proposedBlockCount++
        entry.lastProposedBlockNumber = n
        metrics.set(proposer, entry)
      }
      return [...metrics].map(([who, m]) => ({
        address: who,
        proposedBlockCount: quantity(m.proposedBlockCount),
        lastProposedBlockNumber: quantity(m.lastProposedBlockNumber),
      }))
    }),
    qbft_getRequestTimeoutSeconds: withParams([], () => quantity(backend.requestTimeoutSeconds())),
    qbft_getRoundState: withParams([], () => backend.roundState()),
  }
}
