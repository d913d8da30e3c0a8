import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  http,
  type PublicClient,
  parseEther,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS } from '../../src/genesis/index.js'
import type { PolisNode } from '../../src/node.js'
import { devChain, removeDir, startNode, tempDir } from '../helpers/node.js'
import { verifyProof } from '../helpers/proof.js'
import { compileContract } from '../helpers/solc.js'

const guarded = compileContract('Guarded.sol', 'Guarded')
const owner = privateKeyToAccount(DEV_ACCOUNTS[8].privateKey)
const stranger = privateKeyToAccount(DEV_ACCOUNTS[9].privateKey)

/** What ethers and web3.js do in their own tests, done with viem where the other viem tests do not. */
describe('viem: fee estimation, custom errors with arguments, verified proofs', () => {
  let dir: string
  let node: PolisNode
  let client: PublicClient
  let address: `0x${string}`

  beforeAll(async () => {
    dir = tempDir('polis-viem-')
    node = await startNode({ datadir: dir })
    const chain = devChain(node.rpc.url)
    client = createPublicClient({ chain, transport: http(node.rpc.url), pollingInterval: 100 })
    const wallet = createWalletClient({ account: owner, chain, transport: http(node.rpc.url) })
    const hash = await wallet.deployContract({ abi: guarded.abi, bytecode: guarded.bytecode })
    address = (await client.waitForTransactionReceipt({ hash, timeout: 20_000 })).contractAddress as `0x${string}`
  })

  afterAll(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('estimateFeesPerGas and getFeeHistory give usable EIP-1559 fees, and a transfer with them is mined', async () => {
    const fees = await client.estimateFeesPerGas()
    const block = await client.getBlock()
    expect(fees.maxPriorityFeePerGas).toBe(await client.estimateMaxPriorityFeePerGas())
    expect(fees.maxFeePerGas).toBeGreaterThanOrEqual((block.baseFeePerGas as bigint) + fees.maxPriorityFeePerGas)
    const history = await client.getFeeHistory({ blockCount: 3, rewardPercentiles: [10, 90] })
    expect(history.baseFeePerGas).toHaveLength(history.gasUsedRatio.length + 1)
    const wallet = createWalletClient({ account: owner, chain: devChain(node.rpc.url), transport: http(node.rpc.url) })
    const hash = await wallet.sendTransaction({ to: stranger.address, value: parseEther('1'), ...fees })
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: 20_000 })
    expect(receipt).toMatchObject({ status: 'success', type: 'eip1559' })
  })

  it('decodes Unauthorized(address, uint256) from simulateContract and from a write', async () => {
    const wallet = createWalletClient({
      account: stranger,
      chain: devChain(node.rpc.url),
      transport: http(node.rpc.url),
    })
    const attempts = [
      client.simulateContract({ account: stranger, address, abi: guarded.abi, functionName: 'set', args: [5n] }),
      wallet.writeContract({ address, abi: guarded.abi, functionName: 'set', args: [5n] }),
    ]
    for (const attempt of attempts) {
      const error = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(BaseError)
      const reverted = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError)
      expect(reverted).toBeInstanceOf(ContractFunctionRevertedError)
      expect((reverted as ContractFunctionRevertedError).data).toMatchObject({
        errorName: 'Unauthorized',
        args: [stranger.address, 401n],
      })
    }
  })

  it('getProof answers a proof that verifies against the block state root', async () => {
    const block = await client.getBlock()
    const proof = await client.getProof({ address, storageKeys: [`0x${'00'.repeat(32)}`], blockNumber: block.number })
    const proven = await verifyProof(block.stateRoot, proof)
    expect(proven.slots).toEqual([0n])
    expect(proven.codeHash).not.toBe(`0x${'00'.repeat(32)}`)
  })
})
