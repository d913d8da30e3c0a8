/**
 * The peer of a comparison run: another node's JSON-RPC URL and a funded key on its chain. Everything here is checked
 * before a transaction is sent: that the URL answers JSON-RPC, that the chain is not a public network (and is the one
 * --chain-id names, if given), which fees to offer, and that the key holds what the run will spend.
 */
import { formatEther, formatGwei, type Hex, type PrivateKeyAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { RpcClient } from './rpc.js'
import { type Fees, MAX_FEE_PER_GAS, MAX_PRIORITY_FEE_PER_GAS } from './workload.js'

/** A problem with the user's input or the peer, reported as one line without a stack trace. */
export class BenchSetUpError extends Error {}

/** Public networks: the bench would spend real (or scarce test) funds and spam them, so it refuses. */
const PUBLIC_CHAINS = new Map<number, string>([
  [1, 'Ethereum mainnet'],
  [10, 'OP Mainnet'],
  [56, 'BNB Smart Chain'],
  [100, 'Gnosis'],
  [137, 'Polygon PoS'],
  [324, 'zkSync Era'],
  [8453, 'Base'],
  [17000, 'Holesky'],
  [42161, 'Arbitrum One'],
  [43114, 'Avalanche C-Chain'],
  [59144, 'Linea'],
  [80002, 'Polygon Amoy'],
  [84532, 'Base Sepolia'],
  [421614, 'Arbitrum Sepolia'],
  [560048, 'Hoodi'],
  [11155111, 'Sepolia'],
  [11155420, 'OP Sepolia'],
])

/** Time allowed for each of the checking calls (the load itself uses the client's default). */
const PROBE_TIMEOUT_MS = 10_000

export interface PeerOptions {
  url: string
  privateKey: Hex
  /** The chain id the peer must report, when the user gave --chain-id. */
  expectedChainId?: number
  /** --gas-price: maxFeePerGas (or the legacy gas price) instead of the one derived from the node's fees. */
  gasPrice?: bigint
}

export interface Peer {
  url: string
  rpc: RpcClient
  funder: PrivateKeyAccount
  chainId: number
  fees: Fees
  /** web3_clientVersion, where the node answers it. */
  clientVersion: string | undefined
  /** The base fee of the next block when the peer was checked; undefined on a chain without one. */
  baseFee: bigint | undefined
}

export function parsePrivateKey(value: string): Hex {
  const hex = value.startsWith('0x') ? value : `0x${value}`
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new BenchSetUpError('--key must be a private key of 32 bytes in hex')
  return hex as Hex
}

/** Wei, or a decimal number of gwei with a `gwei` suffix (e.g. `2gwei`, `0.5gwei`). */
export function parseGasPrice(value: string): bigint {
  const gwei = /^(\d+)(?:\.(\d{1,9}))?gwei$/i.exec(value)
  if (gwei !== null) return BigInt(gwei[1]) * 10n ** 9n + BigInt((gwei[2] ?? '').padEnd(9, '0'))
  if (/^\d+$/.test(value)) return BigInt(value)
  throw new BenchSetUpError(`--gas-price must be wei or e.g. 2gwei, not ${value}`)
}

/** Calls `method` on the peer, turning transport failures into one clear line. */
async function probe<T>(rpc: RpcClient, method: string, params: unknown[] = []): Promise<T> {
  try {
    return await rpc.call<T>(method, params)
  } catch (e) {
    const error = e as Error & { cause?: { code?: string; message?: string } }
    const reason = error.cause?.code ?? error.cause?.message ?? error.message
    if (error instanceof SyntaxError) throw new BenchSetUpError(`${rpc.url} does not answer JSON-RPC (${reason})`)
    if (error.name === 'TimeoutError') throw new BenchSetUpError(`${rpc.url} did not answer ${method} in time`)
    if (error.message === 'fetch failed') throw new BenchSetUpError(`cannot reach ${rpc.url}: ${reason}`)
    throw new BenchSetUpError(error.message.includes(rpc.url) ? error.message : `${rpc.url}: ${error.message}`)
  }
}

export async function connectPeer(opts: PeerOptions): Promise<Peer> {
  let funder: PrivateKeyAccount
  try {
    funder = privateKeyToAccount(opts.privateKey)
  } catch (e) {
    throw new BenchSetUpError(`--key is not a valid private key: ${(e as Error).message.split('\n')[0]}`)
  }
  const checking = new RpcClient(opts.url, PROBE_TIMEOUT_MS)
  const chainId = Number(await probe<string>(checking, 'eth_chainId'))
  const publicChain = PUBLIC_CHAINS.get(chainId)
  if (publicChain !== undefined) {
    throw new BenchSetUpError(
      `${opts.url} serves ${publicChain} (chain id ${chainId}): the bench sends tens of thousands of transactions ` +
        'and only runs against a development or private chain',
    )
  }
  if (opts.expectedChainId !== undefined && chainId !== opts.expectedChainId) {
    throw new BenchSetUpError(`${opts.url} serves chain id ${chainId}, not ${opts.expectedChainId} (--chain-id)`)
  }
  const clientVersion = await checking.call<string>('web3_clientVersion').catch(() => undefined)
  const { fees, baseFee } = await peerFees(checking, opts.gasPrice)
  return { url: opts.url, rpc: new RpcClient(opts.url), funder, chainId, fees, clientVersion, baseFee }
}

/**
 * EIP-1559 fees where the chain has a base fee: a tip of 1 gwei (or the node's suggestion if higher) and a fee cap of
 * the Polis run's 100 gwei, or twice the base fee plus the tip if that is more, so that a burst raising the base fee
 * does not strand the tail of the workload. Without a base fee: a legacy gas price of twice eth_gasPrice.
 */
async function peerFees(rpc: RpcClient, gasPrice: bigint | undefined): Promise<{ fees: Fees; baseFee?: bigint }> {
  const latest = await probe<{ baseFeePerGas?: string } | null>(rpc, 'eth_getBlockByNumber', ['latest', false])
  if (latest?.baseFeePerGas === undefined) {
    const price = gasPrice ?? 2n * BigInt(await probe<string>(rpc, 'eth_gasPrice'))
    return { fees: { type: 'legacy', gasPrice: price } }
  }
  let baseFee = BigInt(latest.baseFeePerGas)
  // The next block's base fee, where the node serves eth_feeHistory.
  const history = await rpc
    .call<{ baseFeePerGas?: string[] }>('eth_feeHistory', ['0x1', 'latest', []])
    .catch(() => undefined)
  const next = history?.baseFeePerGas?.at(-1)
  if (next !== undefined && BigInt(next) > baseFee) baseFee = BigInt(next)
  const suggested = await rpc.call<string>('eth_maxPriorityFeePerGas').catch(() => '0x0')
  let tip = BigInt(suggested) > MAX_PRIORITY_FEE_PER_GAS ? BigInt(suggested) : MAX_PRIORITY_FEE_PER_GAS
  const derived = 2n * baseFee + tip > MAX_FEE_PER_GAS ? 2n * baseFee + tip : MAX_FEE_PER_GAS
  const maxFeePerGas = gasPrice ?? derived
  if (maxFeePerGas < baseFee) {
    throw new BenchSetUpError(
      `--gas-price ${formatGwei(maxFeePerGas)} gwei is below ${rpc.url}'s base fee of ${formatGwei(baseFee)} gwei`,
    )
  }
  if (tip > maxFeePerGas) tip = maxFeePerGas
  return { fees: { type: 'eip1559', maxFeePerGas, maxPriorityFeePerGas: tip }, baseFee }
}

/** Throws unless the funder holds at least `needed` wei; `what` says what it pays for. */
export async function requireBalance(peer: Peer, needed: bigint, what: string): Promise<void> {
  const address = peer.funder.address
  const balance = BigInt(await probe<string>(peer.rpc, 'eth_getBalance', [address, 'latest']))
  if (balance >= needed) return
  throw new BenchSetUpError(
    `the --key account ${address} holds ${formatEther(balance)} ETH on ${peer.url}, and the run needs ` +
      `${formatEther(needed)} ETH (${what}); fund it, or lower --senders, --transfers, --erc20 or --gas-price`,
  )
}

export function describeFees(fees: Fees): string {
  return fees.type === 'eip1559'
    ? `EIP-1559, maxFeePerGas ${formatGwei(fees.maxFeePerGas)} gwei, tip ${formatGwei(fees.maxPriorityFeePerGas)} gwei`
    : `legacy, gasPrice ${formatGwei(fees.gasPrice)} gwei`
}
