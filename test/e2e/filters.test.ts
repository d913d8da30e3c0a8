import { join } from 'node:path'
import { hexToBytes } from '@ethereumjs/util'
import {
  createPublicClient,
  createWalletClient,
  getAddress,
  http,
  type PublicClient,
  parseAbiItem,
  parseEther,
  type WatchEventOnLogsParameter,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE, DEV_VALIDATOR } from '../../src/genesis/index.js'
import { createLogger } from '../../src/log/index.js'
import { PolisNode } from '../../src/node.js'
import { devChain, removeDir, rpc, tempDir, waitFor } from '../helpers/node.js'
import { compileContract } from '../helpers/solc.js'

const deployer = privateKeyToAccount(DEV_ACCOUNTS[0].privateKey)
const token = compileContract('Token.sol', 'Token')
const transferEvent = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)')

describe('filters and the txpool namespace', () => {
  let dir: string
  let node: PolisNode
  let client: PublicClient
  const call = async <T>(method: string, params: unknown[] = []) => {
    const res = await rpc(node.rpc.url, method, params)
    if (res.error) throw Object.assign(new Error(res.error.message), { code: res.error.code })
    return res.result as T
  }
  const wallet = (account = deployer) =>
    createWalletClient({ account, chain: devChain(node.rpc.url), transport: http(node.rpc.url) })

  beforeAll(async () => {
    dir = tempDir('polis-filters-')
    node = await PolisNode.start({
      datadir: dir,
      genesisFile: DEV_GENESIS_FILE,
      validatorKey: hexToBytes(DEV_VALIDATOR.privateKey),
      rpc: { host: '127.0.0.1', port: 0, apis: ['eth', 'net', 'web3', 'txpool'] },
      log: createLogger('silent'),
    })
    client = createPublicClient({ chain: devChain(node.rpc.url), transport: http(node.rpc.url), pollingInterval: 100 })
  })

  afterAll(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('a block filter returns each new block hash once', async () => {
    const filter = await client.createBlockFilter()
    const start = await client.getBlockNumber()
    await waitFor('two blocks', async () => ((await client.getBlockNumber()) >= start + 2n ? true : undefined))
    const hashes = await client.getFilterChanges({ filter })
    expect(hashes.length).toBeGreaterThanOrEqual(2)
    expect((await client.getBlock({ blockNumber: start + 1n })).hash).toBe(hashes[0])
    expect(await client.getFilterChanges({ filter })).not.toContain(hashes[0])
    expect(await client.uninstallFilter({ filter })).toBe(true)
    expect(await client.uninstallFilter({ filter })).toBe(false)
    await expect(call('eth_getFilterChanges', [filter.id])).rejects.toMatchObject({
      code: -32000,
      message: 'filter not found',
    })
  })

  it('log filters: viem watchEvent over polling, eth_getFilterLogs, and pending transaction filters', async () => {
    const pendingFilter = await client.createPendingTransactionFilter()
    const hash = await wallet().deployContract({ abi: token.abi, bytecode: token.bytecode, args: [parseEther('1000')] })
    const tokenAddress = (await client.waitForTransactionReceipt({ hash, timeout: 20_000 })).contractAddress!
    expect(await client.getFilterChanges({ filter: pendingFilter })).toContain(hash)

    const seen: WatchEventOnLogsParameter<typeof transferEvent> = []
    const unwatch = client.watchEvent({
      address: tokenAddress,
      event: transferEvent,
      poll: true,
      pollingInterval: 100,
      onLogs: (logs) => void seen.push(...logs),
    })
    const eventFilter = await client.createEventFilter({ address: tokenAddress, event: transferEvent, fromBlock: 0n })
    try {
      // Let the watcher install its filter before the transfer is mined.
      await new Promise((r) => setTimeout(r, 300))
      const alice = DEV_ACCOUNTS[1].address
      const sent = await wallet().writeContract({
        address: tokenAddress,
        abi: token.abi,
        functionName: 'transfer',
        args: [alice, 5n],
      })
      await client.waitForTransactionReceipt({ hash: sent, timeout: 20_000 })
      await waitFor('the watcher to see the transfer', async () => (seen.length > 0 ? true : undefined), 10_000)
      expect(seen[0].args).toEqual({ from: getAddress(deployer.address), to: getAddress(alice), value: 5n })
      expect(seen[0].transactionHash).toBe(sent)
      // The filter's whole range: the mint at deployment and the transfer.
      const all = await client.getFilterLogs({ filter: eventFilter })
      expect(all.map((l) => l.args.value)).toEqual([parseEther('1000'), 5n])
    } finally {
      unwatch()
    }
  })

  it('txpool_status, txpool_content, txpool_contentFrom and txpool_inspect as geth shapes them', async () => {
    const account = privateKeyToAccount(DEV_ACCOUNTS[2].privateKey)
    const nonce = await client.getTransactionCount({ address: account.address })
    // A nonce gap: queued, never mined, so the pool holds it while we look.
    const queued = await wallet(account).sendTransaction({
      to: DEV_ACCOUNTS[3].address,
      value: 7n,
      nonce: nonce + 5,
      gas: 21_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 10n ** 9n,
    })
    expect(await call('txpool_status')).toEqual({ pending: '0x0', queued: '0x1' })
    const from = getAddress(account.address)
    const content = await call<{ pending: object; queued: Record<string, Record<string, { hash: string }>> }>(
      'txpool_content',
    )
    expect(content.pending).toEqual({})
    expect(Object.keys(content.queued)).toEqual([from])
    expect(content.queued[from][String(nonce + 5)].hash).toBe(queued)
    expect(await call('txpool_contentFrom', [account.address])).toEqual({ pending: {}, queued: content.queued[from] })
    expect(await call('txpool_contentFrom', [DEV_ACCOUNTS[4].address])).toEqual({ pending: {}, queued: {} })
    expect(await call('txpool_inspect')).toEqual({
      pending: {},
      queued: {
        [from]: { [String(nonce + 5)]: `${getAddress(DEV_ACCOUNTS[3].address)}: 7 wei + 21000 gas × 10000000000 wei` },
      },
    })
  })

  it('refuses an unknown namespace at start', async () => {
    await expect(
      PolisNode.start({
        datadir: join(dir, 'bad'),
        genesisFile: DEV_GENESIS_FILE,
        rpc: { host: '127.0.0.1', port: 0, apis: ['eth', 'debugx'] },
        log: createLogger('silent'),
      }),
    ).rejects.toThrow(/unknown JSON-RPC namespace debugx/)
  })
})
