/** In-process libp2p nodes on 127.0.0.1 port 0 for the net tests; every node started here is stopped by `stopAll`. */
import { createCrypto } from '../../../src/crypto/index.js'
import { createLogger } from '../../../src/log/index.js'
import { type ChainStatus, Network, type NetworkEvents, type NetworkOptions } from '../../../src/net/index.js'

export const crypto = createCrypto()
const log = createLogger('silent')
const encoder = new TextEncoder()

export const GENESIS = Uint8Array.from(crypto.keccak256(encoder.encode('polis test genesis')))
export const OTHER_GENESIS = Uint8Array.from(crypto.keccak256(encoder.encode('another chain')))

/** A deterministic 32-byte secp256k1 key per index. */
/** The 20-byte address of a key, as a plain Uint8Array (the native backend returns a Buffer). */
export function addressOf(key: Uint8Array): Uint8Array {
  return Uint8Array.from(crypto.privateKeyToAddress(key))
}

export function nodeKey(index: number): Uint8Array {
  return Uint8Array.from(crypto.keccak256(encoder.encode(`polis net test key ${index}`)))
}

export function chainStatus(genesisHash = GENESIS, headNumber = 0n): ChainStatus {
  return {
    chainId: 1337n,
    genesisHash,
    head: { number: headNumber, hash: Uint8Array.from(crypto.keccak256(genesisHash)) },
  }
}

export interface TestNodeOptions extends Partial<NetworkOptions> {
  key?: Uint8Array
  status?: ChainStatus
  /** Runs before start, e.g. to subscribe topics. */
  setup?: (net: Network) => void | Promise<void>
}

const running = new Set<Network>()

export async function startNode(options: TestNodeOptions = {}): Promise<Network> {
  const { key = nodeKey(running.size + 1), status = chainStatus(), setup, ...opts } = options
  const net = await Network.create(
    { listen: ['/ip4/127.0.0.1/tcp/0'], redialInitialMs: 100, redialMaxMs: 1_000, ...opts },
    { privateKey: key, crypto, log, status: () => status },
  )
  await setup?.(net)
  running.add(net)
  await net.start()
  return net
}

export async function stopNode(net: Network): Promise<void> {
  running.delete(net)
  await net.stop()
}

export async function stopAll(): Promise<void> {
  const nets = [...running]
  running.clear()
  await Promise.all(nets.map((net) => net.stop()))
}

/** Polls `predicate` every 10 ms; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
}

/** The next `event` from `net` (matching `filter`), or an error after `timeoutMs`. */
export function nextEvent<E extends keyof NetworkEvents>(
  net: Network,
  event: E,
  filter: (...args: NetworkEvents[E]) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<NetworkEvents[E]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: NetworkEvents[E]) => {
      if (!filter(...args)) return
      clearTimeout(timer)
      net.off(event, listener as never)
      resolve(args)
    }
    const timer = setTimeout(() => {
      net.off(event, listener as never)
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(event)} on ${net.peerId}`))
    }, timeoutMs)
    net.on(event, listener as never)
  })
}

/** Waits until every node has passed the status handshake with `count` peers. */
export function fullyConnected(nets: Network[], count = nets.length - 1, timeoutMs = 5_000): Promise<void> {
  return waitFor(
    `${nets.length} nodes with ${count} peers each`,
    () => nets.every((n) => n.peerCount >= count),
    timeoutMs,
  )
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export function portOf(net: Network): number {
  const match = /\/tcp\/(\d+)/.exec(net.multiaddrs[0] ?? '')
  if (match === null) throw new Error(`no tcp multiaddr on ${net.peerId}`)
  return Number(match[1])
}
