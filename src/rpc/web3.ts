import type { MethodTable } from './dispatcher.js'
import { data } from './format.js'
import type { RpcContext } from './options.js'
import { data as dataParam, required, withParams } from './params.js'

export function web3Methods(ctx: RpcContext): MethodTable {
  const { clientVersion, crypto } = ctx.deps
  return {
    web3_clientVersion: withParams([], () => clientVersion),
    web3_sha3: withParams([required(dataParam)], (input) => data(crypto.keccak256(input))),
  }
}
