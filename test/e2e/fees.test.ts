import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPublicClient, createWalletClient, http, type PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE } from '../../src/genesis/index.js'
import type { PolisNode } from '../../src/node.js'
import { devChain, startNode, tempDir } from '../helpers/node.js'

const payer = privateKeyToAccount(DEV_ACCOUNTS[8].privateKey)

describe('a gas-free chain with an empty-block period', () => {
  let datadir: string
  let node: PolisNode
  let client: PublicClient

  beforeAll(async () => {
    datadir = tempDir()
    const genesis = JSON.parse(readFileSync(DEV_GENESIS_FILE, 'utf8'))
    genesis.config.zeroBaseFee = true
    genesis.config.qbft.emptyblockperiodseconds = 4
    const genesisFile = join(datadir, 'genesis.json')
    writeFileSync(genesisFile, JSON.stringify(genesis))
    node = await startNode({ datadir: join(datadir, 'data'), genesisFile })
    client = createPublicClient({ chain: devChain(node.rpc.url), transport: http(node.rpc.url), pollingInterval: 200 })
  })

  afterAll(async () => {
    await node?.stop()
    rmSync(datadir, { recursive: true, force: true })
  })

  it('seals no empty block before the empty-block period has passed', async () => {
    await expect.poll(() => client.getBlockNumber(), { timeout: 10_000, interval: 100 }).toBeGreaterThanOrEqual(1n)
    const first = await client.getBlock()
    await new Promise((r) => setTimeout(r, 2_500))
    const later = await client.getBlock()
    // One block may land at the period boundary; never one per second.
    expect(later.number - first.number).toBeLessThanOrEqual(1n)
    if (later.number > first.number) expect(later.timestamp - first.timestamp).toBeGreaterThanOrEqual(4n)
  })

  it('mines a transaction that pays nothing, promptly, in a block with base fee 0', async () => {
    const wallet = createWalletClient({ account: payer, chain: devChain(node.rpc.url), transport: http(node.rpc.url) })
    const hash = await wallet.sendTransaction({
      to: DEV_ACCOUNTS[9].address,
      value: 1n,
      maxFeePerGas: 0n,
      maxPriorityFeePerGas: 0n,
    })
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: 10_000 })
    expect(receipt.status).toBe('success')
    expect(receipt.effectiveGasPrice).toBe(0n)
    const block = await client.getBlock({ blockNumber: receipt.blockNumber })
    expect(block.baseFeePerGas).toBe(0n)
  })
})
