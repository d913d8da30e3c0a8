/**
 * The transactions of a run: funding of the senders (on a node whose genesis does not prefund them), ERC-20 deployment
 * and token distribution (set-up), then the signed timed workload.
 */
import {
  type Address,
  encodeDeployData,
  encodeFunctionData,
  getContractAddress,
  type Hex,
  keccak256,
  type PrivateKeyAccount,
} from 'viem'
import { compileContract } from '../../test/helpers/solc.js'
import { type LoadOptions, type LoadResult, runLoad, type SignedTx, summariseReceipts } from './load.js'
import type { NodeProcess } from './node.js'
import type { RpcClient } from './rpc.js'

const GWEI = 10n ** 9n
export const MAX_FEE_PER_GAS = 100n * GWEI
export const MAX_PRIORITY_FEE_PER_GAS = 1n * GWEI
export const TRANSFER_GAS = 21_000n
/** A transfer to an address already holding tokens costs ~35k gas, to a fresh one ~52k. */
export const TOKEN_TRANSFER_GAS = 60_000n
const DISTRIBUTION_GAS = 80_000n
const DEPLOY_GAS = 2_000_000n
/** Token base units each sender receives before the timed phase; every timed transfer moves one. */
const TOKENS_PER_SENDER = 10n ** 24n
const ETH_TRANSFER_VALUE = 10n ** 12n

export type TxKind = 'transfer' | 'erc20'

/** What each transaction offers to pay: EIP-1559 fee caps, or a gas price where the chain has no base fee. */
export type Fees =
  | { type: 'eip1559'; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
  | { type: 'legacy'; gasPrice: bigint }

/** The fees of the Polis run (the dev genesis starts at a base fee of 1 gwei). */
export const DEFAULT_FEES: Fees = {
  type: 'eip1559',
  maxFeePerGas: MAX_FEE_PER_GAS,
  maxPriorityFeePerGas: MAX_PRIORITY_FEE_PER_GAS,
}

/** The most a transaction may pay per unit of gas. */
export const feeCap = (fees: Fees): bigint => (fees.type === 'eip1559' ? fees.maxFeePerGas : fees.gasPrice)

interface TxFields {
  to?: Address
  nonce: number
  gas: bigint
  value?: bigint
  data?: Hex
}

async function sign(
  account: PrivateKeyAccount,
  chainId: number,
  fees: Fees,
  kind: string,
  fields: TxFields,
): Promise<SignedTx> {
  const raw = await account.signTransaction({ chainId, ...fees, ...fields })
  return { raw, hash: keccak256(raw), kind }
}

export interface Token {
  address: Address
  abi: ReturnType<typeof compileContract>['abi']
}

/**
 * Deploys test/fixtures/contracts/Token.sol from `deployer` and gives every sender TOKENS_PER_SENDER, waiting for
 * all of it to be mined with status 1 (not timed).
 */
export async function setUpToken(
  rpc: RpcClient,
  node: NodeProcess | undefined,
  chainId: number,
  fees: Fees,
  deployer: PrivateKeyAccount,
  senders: readonly PrivateKeyAccount[],
  load: LoadOptions,
): Promise<Token> {
  const { abi, bytecode } = compileContract('Token.sol', 'Token')
  const firstNonce = Number(await rpc.call<string>('eth_getTransactionCount', [deployer.address, 'pending']))
  const supply = TOKENS_PER_SENDER * BigInt(senders.length)
  const address = getContractAddress({ from: deployer.address, nonce: BigInt(firstNonce) })
  const txs: SignedTx[] = [
    await sign(deployer, chainId, fees, 'deploy', {
      nonce: firstNonce,
      gas: DEPLOY_GAS,
      data: encodeDeployData({ abi, bytecode, args: [supply] }),
    }),
  ]
  for (const [i, sender] of senders.entries()) {
    const data = encodeFunctionData({ abi, functionName: 'transfer', args: [sender.address, TOKENS_PER_SENDER] })
    txs.push(
      await sign(deployer, chainId, fees, 'distribute', {
        to: address,
        nonce: firstNonce + 1 + i,
        gas: DISTRIBUTION_GAS,
        data,
      }),
    )
  }
  await runSetUp('token set-up', rpc, node, txs, load)
  return { address, abi }
}

/** What token set-up costs the deployer at most (gas at the fee cap). */
export const tokenSetUpCost = (senders: number, fees: Fees): bigint =>
  (DEPLOY_GAS + DISTRIBUTION_GAS * BigInt(senders)) * feeCap(fees)

/** What funding `senders` with `amount` each costs the funder at most. */
export const fundingCost = (senders: number, amount: bigint, fees: Fees): bigint =>
  (amount + TRANSFER_GAS * feeCap(fees)) * BigInt(senders)

/**
 * Sends each of `senders` `amount` wei from `funder` (nonces from its pending count), waiting for every transfer to be
 * mined with status 1 (not timed).
 */
export async function fundSenders(
  rpc: RpcClient,
  node: NodeProcess | undefined,
  chainId: number,
  fees: Fees,
  funder: PrivateKeyAccount,
  senders: readonly PrivateKeyAccount[],
  amount: bigint,
  load: LoadOptions,
): Promise<void> {
  const firstNonce = Number(await rpc.call<string>('eth_getTransactionCount', [funder.address, 'pending']))
  const txs: SignedTx[] = []
  for (const [i, sender] of senders.entries()) {
    txs.push(
      await sign(funder, chainId, fees, 'fund', {
        to: sender.address,
        nonce: firstNonce + i,
        gas: TRANSFER_GAS,
        value: amount,
      }),
    )
  }
  await runSetUp('funding the senders', rpc, node, txs, load)
}

/** Runs set-up transactions and throws unless every one was accepted and mined with status 1. */
async function runSetUp(
  phase: string,
  rpc: RpcClient,
  node: NodeProcess | undefined,
  txs: readonly SignedTx[],
  load: LoadOptions,
): Promise<void> {
  const result = await runLoad(rpc, node, txs, load)
  assertAllMined(phase, txs, result)
  const receipts = await summariseReceipts(rpc, txs, result)
  const failed = [...receipts.failed.values()].reduce((a, b) => a + b, 0)
  if (failed > 0 || receipts.missing > 0) {
    throw new Error(`${phase}: ${failed} reverted and ${receipts.missing} missing receipts`)
  }
}

function assertAllMined(phase: string, txs: readonly SignedTx[], result: LoadResult): void {
  const firstError = result.submitErrors.values().next()
  if (!firstError.done) {
    throw new Error(`${phase}: ${result.submitErrors.size} submissions rejected, e.g. "${firstError.value}"`)
  }
  const pending = result.inclusions.filter((x) => x === undefined).length
  if (pending > 0) throw new Error(`${phase}: ${pending} of ${txs.length} transactions not mined in time`)
}

/**
 * `transfers` ETH transfers and `erc20Transfers` token transfers, interleaved, spread round-robin over `senders`
 * with consecutive nonces from 0; each sender pays the next one. Sorted by submission order.
 */
export async function signWorkload(
  chainId: number,
  fees: Fees,
  senders: readonly PrivateKeyAccount[],
  transfers: number,
  erc20Transfers: number,
  token: Token | undefined,
): Promise<SignedTx[]> {
  const nonces = new Array<number>(senders.length).fill(0)
  const txs: SignedTx[] = []
  for (const [j, kind] of workloadKinds(transfers, erc20Transfers).entries()) {
    const s = j % senders.length
    const recipient = senders[(s + 1) % senders.length].address
    const nonce = nonces[s]++
    if (kind === 'transfer') {
      txs.push(
        await sign(senders[s], chainId, fees, kind, {
          to: recipient,
          nonce,
          gas: TRANSFER_GAS,
          value: ETH_TRANSFER_VALUE,
        }),
      )
    } else {
      if (token === undefined) throw new Error('ERC-20 transfers need a deployed token')
      const data = encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [recipient, 1n] })
      txs.push(await sign(senders[s], chainId, fees, kind, { to: token.address, nonce, gas: TOKEN_TRANSFER_GAS, data }))
    }
  }
  return txs
}

/** The kinds of signWorkload's transactions in submission order. */
function workloadKinds(transfers: number, erc20Transfers: number): TxKind[] {
  const kinds: TxKind[] = []
  for (let j = 0; j < Math.max(transfers, erc20Transfers); j++) {
    if (j < transfers) kinds.push('transfer')
    if (j < erc20Transfers) kinds.push('erc20')
  }
  return kinds
}

/**
 * The most any one sender of signWorkload(…, senders, transfers, erc20Transfers, …) can spend: gas at the fee cap
 * plus the value sent, not counting what it receives from the sender before it.
 */
export function senderBudget(senders: number, transfers: number, erc20Transfers: number, fees: Fees): bigint {
  const spend = new Array<bigint>(senders).fill(0n)
  const cap = feeCap(fees)
  for (const [j, kind] of workloadKinds(transfers, erc20Transfers).entries()) {
    spend[j % senders] += kind === 'transfer' ? TRANSFER_GAS * cap + ETH_TRANSFER_VALUE : TOKEN_TRANSFER_GAS * cap
  }
  return spend.reduce((max, x) => (x > max ? x : max), 0n)
}
