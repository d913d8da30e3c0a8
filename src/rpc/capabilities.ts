/**
 * eth_capabilities (execution-apis): which data this node can serve, for RPC routers. Polis is an archive node: every
 * block, transaction, receipt, log and state (hence proofs) from genesis on is kept and none is ever deleted, so each
 * resource reports oldest block 0 and no delete strategy.
 */
import type { MethodTable } from './dispatcher.js'
import { data, quantity } from './format.js'
import type { RpcContext } from './options.js'
import { withParams } from './params.js'

type Hex = `0x${string}`

export interface ResourceCapability {
  disabled: boolean
  oldestBlock?: Hex
  deleteStrategy?: { type: 'window'; retentionBlocks: Hex }
}

export interface Capabilities {
  head: { number: Hex; hash: Hex }
  state: ResourceCapability
  tx: ResourceCapability
  logs: ResourceCapability
  receipts: ResourceCapability
  blocks: ResourceCapability
  stateproofs: ResourceCapability
}

const KEPT_FROM_GENESIS: ResourceCapability = { disabled: false, oldestBlock: '0x0' }

export function capabilitiesMethods(ctx: RpcContext): MethodTable {
  const { chain } = ctx.deps
  return {
    eth_capabilities: withParams([], (): Capabilities => {
      const head = chain.head
      return {
        head: { number: quantity(head.header.number), hash: data(head.hash()) },
        state: { ...KEPT_FROM_GENESIS },
        tx: { ...KEPT_FROM_GENESIS },
        logs: { ...KEPT_FROM_GENESIS },
        receipts: { ...KEPT_FROM_GENESIS },
        blocks: { ...KEPT_FROM_GENESIS },
        stateproofs: { ...KEPT_FROM_GENESIS },
      }
    }),
  }
}
