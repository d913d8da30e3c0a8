import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { createPublicClient, createWalletClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeSealedBlock } from '../../src/consensus/qbft/index.js'
import { createCrypto } from '../../src/crypto/index.js'
import { TrieRootBuilder } from '../../src/execution/trieRoot.js'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE, DEV_VALIDATOR, readGenesisFile } from '../../src/genesis/index.js'
import { createLogger } from '../../src/log/index.js'
import { PolisNode } from '../../src/node.js'
import { devChain, removeDir, rpc, tempDir } from '../helpers/node.js'

const crypto = createCrypto()

describe('debug_getRaw*', () => {
  let dir: string
  let node: PolisNode
  let txHash: `0x${string}`
  let blockNumber: bigint
  const call = async <T>(method: string, params: unknown[] = []) => {
    const res = await rpc(node.rpc.url, method, params)
    if (res.error) throw Object.assign(new Error(res.error.message), { code: res.error.code })
    return res.result as T
  }

  beforeAll(async () => {
    dir = tempDir('polis-debug-')
    node = await PolisNode.start({
      datadir: dir,
      genesisFile: DEV_GENESIS_FILE,
      validatorKey: hexToBytes(DEV_VALIDATOR.privateKey),
      rpc: { host: '127.0.0.1', port: 0, apis: ['eth', 'debug'] },
      log: createLogger('silent'),
    })
    const url = node.rpc.url
    const client = createPublicClient({ chain: devChain(url), transport: http(url), pollingInterval: 100 })
    const account = privateKeyToAccount(DEV_ACCOUNTS[0].privateKey)
    const wallet = createWalletClient({ account, chain: devChain(url), transport: http(url) })
    txHash = await wallet.sendTransaction({ to: DEV_ACCOUNTS[1].address, value: 1n })
    blockNumber = (await client.waitForTransactionReceipt({ hash: txHash, timeout: 20_000 })).blockNumber
  })

  afterAll(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('serves the sealed block, its header, its receipts (matching receiptsRoot) and the raw transaction', async () => {
    const spec = await readGenesisFile(DEV_GENESIS_FILE, crypto.customCrypto)
    const param = `0x${blockNumber.toString(16)}`
    const block = await call<{ hash: string; receiptsRoot: string; extraData: string }>('eth_getBlockByNumber', [
      param,
      false,
    ])
    const rawBlock = await call<string>('debug_getRawBlock', [param])
    expect(bytesToHex(decodeSealedBlock(hexToBytes(rawBlock as `0x${string}`), spec.common).block.hash())).toBe(
      block.hash,
    )
    const rawHeader = hexToBytes((await call<string>('debug_getRawHeader', [block.hash])) as `0x${string}`)
    // The header as clients see it: its extraData is the sealed one eth_getBlockByNumber shows.
    expect(bytesToHex((RLP.decode(rawHeader) as Uint8Array[])[12])).toBe(block.extraData)
    const receipts = await call<string[]>('debug_getRawReceipts', [param])
    expect(receipts).toHaveLength(1)
    const root = new TrieRootBuilder(crypto.keccak256).orderedRoot(receipts.map((r) => hexToBytes(r as `0x${string}`)))
    expect(bytesToHex(root)).toBe(block.receiptsRoot)
    const rawTx = await call<string>('debug_getRawTransaction', [txHash])
    expect(bytesToHex(crypto.keccak256(hexToBytes(rawTx as `0x${string}`)))).toBe(txHash)
    expect(await call('debug_getRawTransaction', [`0x${'00'.repeat(32)}`])).toBe('0x')
    await expect(call('debug_getRawBlock', ['0xffffff'])).rejects.toMatchObject({
      code: -32000,
      message: 'block not found',
    })
  })
})
