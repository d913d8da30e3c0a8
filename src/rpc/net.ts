import type { MethodTable } from './dispatcher.js'
import { quantity } from './format.js'
import type { RpcContext } from './options.js'
import { withParams } from './params.js'

export function netMethods(ctx: RpcContext): MethodTable {
  const { chainId } = ctx.deps.spec
  return {
    // The network id is the chain id, in decimal, as geth answers it.
    net_version: withParams([], () => chainId.toString(10)),
    net_listening: withParams([], () => true),
    // Peers that passed the status handshake; 0 on a node without networking.
    net_peerCount: withParams([], () => quantity(ctx.deps.peerCount?.() ?? 0)),
  }
}
