/** The transactions of a run: ERC-20 deployment and token distribution (set-up), then the signed timed workload. */
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

interface TxFields {
  to?: Address
  nonce: number
  gas: bigint
  value?: bigint
  data?: Hex
}

async function sign(account: PrivateKeyAccount, chainId: number, kind: string, fields: TxFields): Promise<SignedTx> {
  const raw = await account.signTransaction({
    type: 'eip1559',
    chainId,
    maxFeePerGas: MAX_FEE_PER_GAS,
    maxPriorityFeePerGas: MAX_PRIORITY_FEE_PER_GAS,
    ...fields,
  })
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
  node: NodeProcess,
  chainId: number,
  deployer: PrivateKeyAccount,
  senders: readonly PrivateKeyAccount[],
  load: LoadOptions,
): Promise<Token> {
  const { abi, bytecode } = compileContract('Token.sol', 'Token')
  const firstNonce = Number(await rpc.call<string>('eth_getTransactionCount', [deployer.address, 'pending']))
  const supply = TOKENS_PER_SENDER * BigInt(senders.length)
  const address = getContractAddress({ from: deployer.address, nonce: BigInt(firstNonce) })
  const txs: SignedTx[] = [
    await sign(deployer, chainId, 'deploy', {
      nonce: firstNonce,
      gas: DEPLOY_GAS,
      data: encodeDeployData({ abi, bytecode, args: [supply] }),
    }),
  ]
  for (const [i, sender] of senders.entries()) {
    const data = encodeFunctionData({ abi, functionName: 'transfer', args: [sender.address, TOKENS_PER_SENDER] })
    txs.push(
      await sign(deployer, chainId, 'distribute', {
        to: address,
        nonce: firstNonce + 1 + i,
        gas: DISTRIBUTION_GAS,
        data,
      }),
    )
  }
  const result = await runLoad(rpc, node, txs, load)
  assertAllMined('token set-up', txs, result)
  const receipts = await summariseReceipts(rpc, txs, result)
  const failed = [...receipts.failed.values()].reduce((a, b) => a + b, 0)
  if (failed > 0 || receipts.missing > 0) {
    throw new Error(`token set-up: ${failed} reverted and ${receipts.missing} missing receipts`)
  }
  return { address, abi }
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
  senders: readonly PrivateKeyAccount[],
  transfers: number,
  erc20Transfers: number,
  token: Token | undefined,
): Promise<SignedTx[]> {
  const kinds: TxKind[] = []
  for (let j = 0; j < Math.max(transfers, erc20Transfers); j++) {
    if (j < transfers) kinds.push('transfer')
    if (j < erc20Transfers) kinds.push('erc20')
  }
  const nonces = new Array<number>(senders.length).fill(0)
  const txs: SignedTx[] = []
  for (const [j, kind] of kinds.entries()) {
    const s = j % senders.length
    const recipient = senders[(s + 1) % senders.length].address
    const nonce = nonces[s]++
    if (kind === 'transfer') {
      txs.push(
        await sign(senders[s], chainId, kind, { to: recipient, nonce, gas: TRANSFER_GAS, value: ETH_TRANSFER_VALUE }),
      )
    } else {
      if (token === undefined) throw new Error('ERC-20 transfers need a deployed token')
      const data = encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [recipient, 1n] })
      txs.push(await sign(senders[s], chainId, kind, { to: token.address, nonce, gas: TOKEN_TRANSFER_GAS, data }))
    }
  }
  return txs
}
