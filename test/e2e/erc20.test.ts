import { rmSync } from 'node:fs'
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  http,
  type PublicClient,
  parseAbiItem,
  parseEther,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS } from '../../src/genesis/index.js'
import type { PolisNode } from '../../src/node.js'
import { devChain, startNode, tempDir } from '../helpers/node.js'
import { compileContract } from '../helpers/solc.js'

const deployer = privateKeyToAccount(DEV_ACCOUNTS[0].privateKey)
const alice = privateKeyToAccount(DEV_ACCOUNTS[1].privateKey)
const token = compileContract('Token.sol', 'Token')

async function revertOf(promise: Promise<unknown>): Promise<ContractFunctionRevertedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(BaseError)
  const reverted = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError)
  expect(reverted).toBeInstanceOf(ContractFunctionRevertedError)
  return reverted as ContractFunctionRevertedError
}

describe('an ERC-20 on the dev chain, driven by viem', () => {
  let datadir: string
  let node: PolisNode
  let client: PublicClient
  let tokenAddress: `0x${string}`
  let transferHash: `0x${string}`

  beforeAll(async () => {
    datadir = tempDir()
    node = await startNode({ datadir })
    client = createPublicClient({ chain: devChain(node.rpc.url), transport: http(node.rpc.url), pollingInterval: 200 })
  })

  afterAll(async () => {
    await node?.stop()
    rmSync(datadir, { recursive: true, force: true })
  })

  const wallet = (account = deployer) =>
    createWalletClient({ account, chain: devChain(node.rpc.url), transport: http(node.rpc.url), pollingInterval: 200 })

  it('deploys the token and reports its address in the receipt', async () => {
    const hash = await wallet().deployContract({ abi: token.abi, bytecode: token.bytecode, args: [parseEther('1000')] })
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: 20_000 })
    expect(receipt.status).toBe('success')
    expect(receipt.contractAddress).toMatch(/^0x[0-9a-f]{40}$/)
    tokenAddress = receipt.contractAddress as `0x${string}`
    expect(await client.getCode({ address: tokenAddress })).toMatch(/^0x60/)
    expect(await client.readContract({ address: tokenAddress, abi: token.abi, functionName: 'totalSupply' })).toBe(
      parseEther('1000'),
    )
  })

  it('transfers tokens and finds the Transfer event in the receipt and through eth_getLogs', async () => {
    transferHash = await wallet().writeContract({
      address: tokenAddress,
      abi: token.abi,
      functionName: 'transfer',
      args: [alice.address, parseEther('25')],
    })
    const receipt = await client.waitForTransactionReceipt({ hash: transferHash, timeout: 20_000 })
    expect(receipt.status).toBe('success')
    expect(receipt.logs).toHaveLength(1)
    expect(receipt.logs[0].address).toBe(tokenAddress)
    const balance = await client.readContract({
      address: tokenAddress,
      abi: token.abi,
      functionName: 'balanceOf',
      args: [alice.address],
    })
    expect(balance).toBe(parseEther('25'))
    const logs = await client.getLogs({
      address: tokenAddress,
      event: parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)'),
      args: { to: alice.address },
      fromBlock: 0n,
      toBlock: 'latest',
    })
    expect(logs).toHaveLength(1)
    expect(logs[0].transactionHash).toBe(transferHash)
    expect(logs[0].args).toEqual({ from: deployer.address, to: alice.address, value: parseEther('25') })
    expect(logs[0].blockNumber).toBe(receipt.blockNumber)
  })

  it('decodes revert reasons: Error(string), custom errors and panics', async () => {
    const tooMuch = await revertOf(
      client.simulateContract({
        account: alice,
        address: tokenAddress,
        abi: token.abi,
        functionName: 'transfer',
        args: [deployer.address, parseEther('26')],
      }),
    )
    expect(tooMuch.reason).toBe('Token: insufficient balance')
    const custom = await revertOf(
      client.readContract({ address: tokenAddress, abi: token.abi, functionName: 'fail', args: [7n] }),
    )
    expect(custom.data?.errorName).toBe('Failure')
    expect(custom.data?.args).toEqual([7n])
    const panic = await revertOf(client.readContract({ address: tokenAddress, abi: token.abi, functionName: 'boom' }))
    expect(panic.data?.errorName).toBe('Panic')
  })

  it('refuses to estimate gas for a reverting transfer, with the reason', async () => {
    const reverted = await revertOf(
      client.estimateContractGas({
        account: alice,
        address: tokenAddress,
        abi: token.abi,
        functionName: 'transfer',
        args: [deployer.address, parseEther('1000')],
      }),
    )
    expect(reverted.reason).toBe('Token: insufficient balance')
  })

  it('finds everything again after a restart on the same data directory', async () => {
    const head = await client.getBlock()
    await node.stop()
    node = await startNode({ datadir })
    client = createPublicClient({ chain: devChain(node.rpc.url), transport: http(node.rpc.url), pollingInterval: 200 })
    const again = await client.getBlock({ blockNumber: head.number })
    expect(again.hash).toBe(head.hash)
    expect(again.stateRoot).toBe(head.stateRoot)
    const receipt = await client.getTransactionReceipt({ hash: transferHash })
    expect(receipt.status).toBe('success')
    expect(receipt.logs).toHaveLength(1)
    const balance = await client.readContract({
      address: tokenAddress,
      abi: token.abi,
      functionName: 'balanceOf',
      args: [alice.address],
    })
    expect(balance).toBe(parseEther('25'))
    // The chain goes on from where it stopped.
    const next = await client.waitForTransactionReceipt({
      hash: await wallet(alice).sendTransaction({ to: deployer.address, value: 1n }),
      timeout: 20_000,
    })
    expect(next.blockNumber).toBeGreaterThan(head.number)
  })
})
