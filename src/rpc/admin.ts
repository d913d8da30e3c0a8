/**
 * The admin_ namespace (geth's and Besu's names): this node's identity and addresses, its peers, and adding or
 * removing a peer by multiaddr. Off by default; served on the admin listener.
 */
import { bytesToHex } from '@ethereumjs/util'
import { z } from 'zod'
import { NetworkError, type PeerInfo } from '../net/index.js'
import type { MethodTable } from './dispatcher.js'
import { invalidParams, serverError } from './errors.js'
import { quantity } from './format.js'
import type { RpcContext } from './options.js'
import { required, withParams } from './params.js'

/** What the network offers to the admin_ namespace; absent on a node without networking. */
export interface AdminBackend {
  peerId: string
  /** Our listen addresses, each ending in /p2p/<peer id>. */
  listenAddrs(): string[]
  peers(): PeerInfo[]
  isStaticPeer(peerId: string): boolean
  /** Throws a NetworkError for an address that is not a multiaddr ending in /p2p/<peer id>. */
  addPeer(addr: string): string
  /** A peer id or a multiaddr ending in one; throws a NetworkError for anything else. */
  removePeer(target: string): Promise<string>
}

const TCP_ADDRESS = /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)/

/** A NetworkError about the address given is the caller's mistake: -32602. */
function asParamError(e: unknown): unknown {
  return e instanceof NetworkError && e.code === 'INVALID_MULTIADDR' ? invalidParams(e.message) : e
}

export function adminMethods(ctx: RpcContext): MethodTable {
  const { chain, spec, clientVersion } = ctx.deps
  const backend = ctx.deps.admin
  const text = z.string().min(1)
  const networkOff = () =>
    serverError('networking is off (start the node with --p2p-listen, --static-peers or --bootnodes)')

  return {
    admin_nodeInfo: withParams([], () => {
      const listenAddrs = backend?.listenAddrs() ?? []
      const tcp = listenAddrs.map((a) => TCP_ADDRESS.exec(a)).find((m) => m !== null)
      return {
        id: backend?.peerId ?? null,
        name: clientVersion,
        enode: listenAddrs[0] ?? null,
        ip: tcp?.[1] ?? null,
        ports: { discovery: 0, listener: tcp ? Number(tcp[2]) : 0 },
        listenAddr: tcp ? `${tcp[1]}:${tcp[2]}` : null,
        listenAddrs,
        protocols: {
          eth: {
            network: Number(spec.chainId),
            chainId: quantity(spec.chainId),
            genesis: bytesToHex(chain.genesis.hash()),
            head: bytesToHex(chain.head.hash()),
            headNumber: quantity(chain.head.header.number),
          },
        },
      }
    }),
    admin_peers: withParams([], () =>
      (backend?.peers() ?? []).map((peer) => ({
        id: peer.peerId,
        name: '',
        enode: `${peer.remoteAddr}/p2p/${peer.peerId}`,
        address: bytesToHex(peer.address),
        addresses: [peer.remoteAddr],
        direction: peer.direction,
        network: {
          remoteAddress: peer.remoteAddr,
          inbound: peer.direction === 'inbound',
          static: backend?.isStaticPeer(peer.peerId) ?? false,
        },
        protocols: {
          eth: { head: bytesToHex(peer.status.head.hash), headNumber: quantity(peer.status.head.number) },
        },
      })),
    ),
    admin_addPeer: withParams([required(text)], (addr) => {
      if (backend === undefined) throw networkOff()
      try {
        backend.addPeer(addr)
      } catch (e) {
        throw asParamError(e)
      }
      return true
    }),
    admin_removePeer: withParams([required(text)], async (target) => {
      if (backend === undefined) throw networkOff()
      try {
        await backend.removePeer(target)
      } catch (e) {
        throw asParamError(e)
      }
      return true
    }),
  }
}
