import { rmSync } from 'node:fs'
import { hexToBytes } from '@ethereumjs/util'
import {
  createPublicClient,
  createWalletClient,
  encodeDeployData,
  encodeFunctionData,
  getContractAddress,
  type Hex,
  http,
  type PublicClient,
  padHex,
  parseEther,
  type TransactionReceipt,
  toEventSelector,
} from 'viem'
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE, DEV_VALIDATOR } from '../../src/genesis/index.js'
import { createLogger } from '../../src/log/index.js'
import { PolisNode } from '../../src/node.js'
import type { RpcOptions } from '../../src/rpc/options.js'
import { devChain, rpc, tempDir } from '../helpers/node.js'
import { compileContract } from '../helpers/solc.js'

const deployer = privateKeyToAccount(DEV_ACCOUNTS[0].privateKey)
const alice = privateKeyToAccount(DEV_ACCOUNTS[1].privateKey)
const bob = privateKeyToAccount(DEV_ACCOUNTS[2].privateKey)
const token = compileContract('Token.sol', 'Token')
const emitter = compileContract('Relay.sol', 'Emitter')
const relay = compileContract('Relay.sol', 'Relay')

const TRANSFER = toEventSelector('Transfer(address,address,uint256)')
const PING = toEventSelector('Ping(uint256,address,uint256)')
const PONG = toEventSelector('Pong(bytes32)')
const topicOf = (address: Hex) => padHex(address, { size: 32 }).toLowerCase() as Hex
const idTopic = (id: bigint) => padHex(`0x${id.toString(16)}`, { size: 32 })

interface SeenLog {
  address: Hex
  topics: Hex[]
  blockNumber: Hex
  blockHash: Hex
  transactionHash: Hex
  logIndex: Hex
}

const bytes = (hex: Hex) => hexToBytes(hex)

describe('chain indexes: eth_getLogs from the log index, address appearances, creators, sender+nonce', () => {
  let datadir: string
  let node: PolisNode
  let client: PublicClient
  const receipts: TransactionReceipt[] = []
  let tokenA: Hex
  let tokenB: Hex
  let emitterAddress: Hex
  let relayAddress: Hex

  const start = async (limits: Partial<RpcOptions> = {}) => {
    node = await PolisNode.start({
      datadir,
      genesisFile: DEV_GENESIS_FILE,
      validatorKey: hexToBytes(DEV_VALIDATOR.privateKey),
      rpc: { host: '127.0.0.1', port: 0, ...limits },
      log: createLogger('silent'),
    })
    client = createPublicClient({ chain: devChain(node.rpc.url), transport: http(node.rpc.url), pollingInterval: 100 })
  }

  /** Sends the transactions of one account with consecutive nonces without waiting, then waits for every receipt. */
  const send = async (account: PrivateKeyAccount, txs: { to?: Hex; data: Hex; gas: bigint }[]) => {
    const wallet = createWalletClient({ account, chain: devChain(node.rpc.url), transport: http(node.rpc.url) })
    const nonce = await client.getTransactionCount({ address: account.address, blockTag: 'pending' })
    const hashes: Hex[] = []
    for (const [i, tx] of txs.entries()) hashes.push(await wallet.sendTransaction({ ...tx, nonce: nonce + i }))
    const mined = await Promise.all(hashes.map((hash) => client.waitForTransactionReceipt({ hash, timeout: 20_000 })))
    receipts.push(...mined)
    return mined
  }

  const getLogs = async (filter: Record<string, unknown>): Promise<SeenLog[]> => {
    const answer = await rpc(node.rpc.url, 'eth_getLogs', [filter])
    if (answer.error) throw new Error(`eth_getLogs: ${answer.error.message}`)
    return answer.result as SeenLog[]
  }

  /** Every log of every transaction sent, in chain order: what a full scan of the receipts finds. */
  const allLogs = (): SeenLog[] =>
    receipts
      .flatMap((r) => r.logs)
      .map((l) => ({
        address: l.address,
        topics: l.topics as Hex[],
        blockNumber: `0x${l.blockNumber.toString(16)}` as Hex,
        blockHash: l.blockHash,
        transactionHash: l.transactionHash,
        logIndex: `0x${l.logIndex.toString(16)}` as Hex,
      }))
      .sort((a, b) => Number(BigInt(a.blockNumber) - BigInt(b.blockNumber) || BigInt(a.logIndex) - BigInt(b.logIndex)))

  const essentials = (logs: SeenLog[]) =>
    logs.map(({ address, topics, blockNumber, blockHash, transactionHash, logIndex }) => ({
      address: address.toLowerCase(),
      topics,
      blockNumber,
      blockHash,
      transactionHash,
      logIndex,
    }))

  const position = (r: TransactionReceipt) => ({ blockNumber: r.blockNumber, index: r.transactionIndex })

  beforeAll(async () => {
    datadir = tempDir()
    await start()
    const nonce = await client.getTransactionCount({ address: deployer.address })
    ;[tokenA, tokenB, emitterAddress, relayAddress] = [0, 1, 2, 3].map((i) =>
      getContractAddress({ from: deployer.address, nonce: BigInt(nonce + i) }),
    )
    const deploy = (c: { abi: typeof token.abi; bytecode: Hex }, args?: unknown[]) => ({
      data: encodeDeployData({ abi: c.abi, bytecode: c.bytecode, args } as never),
      gas: 3_000_000n,
    })
    await send(deployer, [
      deploy(token, [parseEther('1000')]),
      deploy(token, [parseEther('500')]),
      deploy(emitter),
      deploy(relay),
    ])
    const call = (to: Hex, abi: typeof token.abi, functionName: string, args: unknown[]) => ({
      to,
      data: encodeFunctionData({ abi, functionName, args } as never),
      gas: 500_000n,
    })
    await send(deployer, [
      call(tokenA, token.abi, 'transfer', [alice.address, 25n]),
      call(tokenB, token.abi, 'transfer', [bob.address, 7n]),
      call(tokenA, token.abi, 'transfer', [bob.address, 3n]),
    ])
    await send(alice, [
      call(emitterAddress, emitter.abi, 'ping', [7n]),
      call(emitterAddress, emitter.abi, 'pong', [idTopic(1n)]),
      call(relayAddress, relay.abi, 'relayPing', [emitterAddress, 9n]),
      call(relayAddress, relay.abi, 'spawn', []),
      call(relayAddress, relay.abi, 'spawnAndRevert', []),
      call(tokenA, token.abi, 'transfer', [bob.address, 1n]),
    ])
  }, 90_000)

  afterAll(async () => {
    await node?.stop()
    rmSync(datadir, { recursive: true, force: true })
  })

  it('answers eth_getLogs exactly as a scan of every receipt would', async () => {
    const all = allLogs()
    const expectFilter = async (filter: Record<string, unknown>, keep: (l: SeenLog) => boolean, count: number) => {
      const expected = essentials(all.filter(keep))
      expect(expected).toHaveLength(count)
      expect(essentials(await getLogs({ fromBlock: '0x0', toBlock: 'latest', ...filter }))).toEqual(expected)
    }
    const lower = (a: Hex) => a.toLowerCase()
    const isA = (l: SeenLog) => lower(l.address) === lower(tokenA)
    const isB = (l: SeenLog) => lower(l.address) === lower(tokenB)
    // 2 mints, 4 transfers, 2 pings (one through the relay), 1 pong, 1 Spawned; the reverted spawn logs nothing.
    await expectFilter({}, () => true, 10)
    await expectFilter({ address: tokenA }, isA, 4)
    await expectFilter({ address: [tokenA, tokenB], topics: [TRANSFER] }, (l) => isA(l) || isB(l), 6)
    await expectFilter(
      { topics: [TRANSFER, null, topicOf(bob.address)] },
      (l) => l.topics[2] === topicOf(bob.address),
      3,
    )
    await expectFilter({ topics: [[PING, PONG]] }, (l) => l.topics[0] === PING || l.topics[0] === PONG, 3)
    await expectFilter(
      { address: emitterAddress, topics: [PING, [idTopic(9n), idTopic(8n)], topicOf(relayAddress)] },
      (l) => l.topics[0] === PING && l.topics[1] === idTopic(9n),
      1,
    )
    await expectFilter({ topics: [null, null, null, TRANSFER] }, () => false, 0)
    await expectFilter({ address: alice.address }, () => false, 0)
    // A block hash: the logs of that block only.
    const transferBlock = receipts[4].blockHash
    expect(essentials(await getLogs({ blockHash: transferBlock, topics: [TRANSFER] }))).toEqual(
      essentials(all.filter((l) => l.blockHash === transferBlock && l.topics[0] === TRANSFER)),
    )
    // A sub-range sees only its blocks.
    const mid = receipts[4].blockNumber
    expect(essentials(await getLogs({ fromBlock: `0x${mid.toString(16)}`, toBlock: `0x${mid.toString(16)}` }))).toEqual(
      essentials(all.filter((l) => BigInt(l.blockNumber) === mid)),
    )
  })

  it('indexes every address a transaction touched, internal calls and creations included', async () => {
    const { index } = node.chain
    const newest = { before: { blockNumber: node.chain.head.header.number + 1n, index: 0 } }
    const [, , , , , , , ping, , relayed, spawned, reverted] = receipts
    // The emitter: created by the deployer, pinged directly, pinged by the relay (an internal CALL only).
    const emitterSeen = await index.appearances(bytes(emitterAddress), newest, 100)
    expect(emitterSeen).toEqual([relayed, receipts[8], ping, receipts[2]].map(position))
    expect(await index.appearances(bytes(emitterAddress), { after: position(ping) }, 1)).toEqual([
      position(receipts[8]),
    ])
    // Alice: only as a sender, and as the recipient in the token's Transfer (not a message: not an appearance).
    const aliceSeen = await index.appearances(bytes(alice.address), newest, 100)
    expect(aliceSeen).toEqual(receipts.slice(7).reverse().map(position))
    // The child the relay created with CREATE: appears in the spawn, and the relay is its creator.
    const childNonce1 = getContractAddress({ from: relayAddress, nonce: 1n })
    expect(await index.appearances(bytes(childNonce1), newest, 10)).toEqual([position(spawned)])
    expect(await index.contractCreator(bytes(childNonce1))).toEqual({
      ...position(spawned),
      creator: bytes(relayAddress),
    })
    // The reverted CREATE: touched, but no contract and no creator.
    expect(reverted.status).toBe('reverted')
    const undone = getContractAddress({ from: relayAddress, nonce: 2n })
    expect(await index.appearances(bytes(undone), newest, 10)).toEqual([position(reverted)])
    expect(await index.contractCreator(bytes(undone))).toBeUndefined()
    expect(await client.getCode({ address: undone })).toBeUndefined()
    // Top-level creations: the sender is the creator.
    expect(await index.contractCreator(bytes(tokenB))).toEqual({
      ...position(receipts[1]),
      creator: bytes(deployer.address),
    })
  })

  it('finds transactions by sender and nonce', async () => {
    const { index } = node.chain
    for (const r of receipts) {
      const tx = await client.getTransaction({ hash: r.transactionHash })
      expect(await index.txBySenderAndNonce(bytes(tx.from), BigInt(tx.nonce))).toEqual(position(r))
    }
    expect(await index.txBySenderAndNonce(bytes(bob.address), 0n)).toBeUndefined()
  })

  it('keeps the range and result limits, on the same data after a restart', async () => {
    await node.stop()
    await start({ maxLogBlockRange: 2, maxLogResults: 1 })
    const head = await client.getBlockNumber()
    expect(head).toBeGreaterThan(2n)
    expect((await rpc(node.rpc.url, 'eth_getLogs', [{ fromBlock: '0x0', toBlock: 'latest' }])).error).toEqual({
      code: -32000,
      message: 'exceed maximum block range: 2',
    })
    // Alice's five logs went into one or two blocks: one of them holds more logs than the limit.
    const counts = new Map<Hex, number>()
    for (const l of allLogs()) counts.set(l.blockHash, (counts.get(l.blockHash) ?? 0) + 1)
    const busy = [...counts].find(([, n]) => n > 1)?.[0] as Hex
    const busyNumber = (await client.getBlock({ blockHash: busy })).number
    const tooMany = { code: -32005, message: 'query returned more than 1 results' }
    expect((await rpc(node.rpc.url, 'eth_getLogs', [{ blockHash: busy }])).error).toEqual(tooMany)
    const range = { fromBlock: `0x${busyNumber.toString(16)}`, toBlock: `0x${busyNumber.toString(16)}` }
    expect((await rpc(node.rpc.url, 'eth_getLogs', [range])).error).toEqual(tooMany)
    // Narrowed by address and topic, the same block answers (it holds at most one Pong).
    const pongs = await getLogs({ ...range, topics: [[PONG, TRANSFER]], address: emitterAddress })
    expect(essentials(pongs)).toEqual(essentials(allLogs().filter((l) => l.blockHash === busy && l.topics[0] === PONG)))
  })
})
