import {
  type BaseContract,
  Contract,
  ContractFactory,
  type EventLog,
  isCallException,
  JsonRpcProvider,
  Network,
  parseEther,
  Wallet,
  WebSocketProvider,
} from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_ACCOUNTS } from '../../src/genesis/index.js'
import type { PolisNode } from '../../src/node.js'
import { removeDir, startNode, tempDir, waitFor } from '../helpers/node.js'
import { verifyProof } from '../helpers/proof.js'
import { compileContract } from '../helpers/solc.js'

const guarded = compileContract('Guarded.sol', 'Guarded')
const network = Network.from({ chainId: 1337, name: 'polis-dev' })

describe('ethers v6 against a node', () => {
  let dir: string
  let node: PolisNode
  let http: JsonRpcProvider
  let ws: WebSocketProvider
  let owner: Wallet
  let stranger: Wallet
  let contract: Contract

  beforeAll(async () => {
    dir = tempDir('polis-ethers-')
    node = await startNode({ datadir: dir })
    http = new JsonRpcProvider(node.rpc.url, network, { staticNetwork: network, pollingInterval: 100 })
    ws = new WebSocketProvider(node.rpc.url.replace('http://', 'ws://'), network, { staticNetwork: network })
    owner = new Wallet(DEV_ACCOUNTS[2].privateKey, http)
    stranger = new Wallet(DEV_ACCOUNTS[3].privateKey, http)
  })

  afterAll(async () => {
    http?.destroy()
    await ws?.destroy()
    await node?.stop()
    removeDir(dir)
  })

  it('estimates fees (getFeeData, eth_feeHistory) and sends an EIP-1559 transfer to its receipt', async () => {
    const fees = await http.getFeeData()
    expect(fees.maxPriorityFeePerGas).toBeGreaterThan(0n)
    expect(fees.maxFeePerGas).toBeGreaterThan(fees.maxPriorityFeePerGas as bigint)
    const history = await http.send('eth_feeHistory', ['0x4', 'latest', [25, 75]])
    expect(history.baseFeePerGas.length).toBe(history.gasUsedRatio.length + 1)
    expect(history.reward.every((r: string[]) => r.length === 2)).toBe(true)

    const before = await http.getBalance(DEV_ACCOUNTS[4].address)
    const tx = await owner.sendTransaction({ to: DEV_ACCOUNTS[4].address, value: parseEther('1.5') })
    expect(tx.type).toBe(2)
    const receipt = await tx.wait(1, 20_000)
    expect(receipt?.status).toBe(1)
    expect(receipt?.type).toBe(2)
    expect(await http.getBalance(DEV_ACCOUNTS[4].address)).toBe(before + parseEther('1.5'))
    expect((await http.getTransaction(tx.hash))?.maxFeePerGas).toBe(tx.maxFeePerGas)
  })

  it('deploys a contract and decodes the custom error of a revert, from a call and from gas estimation', async () => {
    const factory = new ContractFactory(guarded.abi as never, guarded.bytecode, owner)
    const deployed = (await factory.deploy()) as BaseContract
    await deployed.waitForDeployment()
    contract = new Contract(await deployed.getAddress(), guarded.abi as never, http)
    expect(await contract.owner()).toBe(owner.address)

    const asStranger = contract.connect(stranger) as Contract
    // A static call decodes the error with the contract's ABI by itself.
    const called = await asStranger.set.staticCall(5).catch((e: unknown) => e)
    expect(isCallException(called)).toBe(true)
    if (!isCallException(called)) return
    expect(called.revert?.name).toBe('Unauthorized')
    expect([...(called.revert?.args ?? [])]).toEqual([stranger.address, 401n])
    // Sending runs eth_estimateGas first: ethers keeps the revert data (code 3 + data, as geth answers) for the ABI.
    const sent = await asStranger.set(5).catch((e: unknown) => e)
    expect(isCallException(sent) && sent.action).toBe('estimateGas')
    if (!isCallException(sent)) return
    const parsed = contract.interface.parseError(sent.data as string)
    expect(parsed?.name).toBe('Unauthorized')
    expect([...(parsed?.args ?? [])]).toEqual([stranger.address, 401n])
    const tooLarge = await (contract.connect(owner) as Contract).set.staticCall(5000).catch((e: unknown) => e)
    expect(isCallException(tooLarge) && tooLarge.revert?.name).toBe('TooLarge')
  })

  it('watches new blocks and contract events over WebSocket', async () => {
    const blocks: number[] = []
    await ws.on('block', (n: number) => blocks.push(n))
    const events: { by: string; value: bigint }[] = []
    const watched = new Contract(await contract.getAddress(), guarded.abi as never, ws)
    await watched.on('ValueSet', (by: string, value: bigint) => events.push({ by, value }))
    try {
      await waitFor('two blocks over WebSocket', async () => (blocks.length >= 2 ? true : undefined), 15_000)
      expect(blocks[1]).toBe(blocks[0] + 1)
      const tx = await (contract.connect(owner) as Contract).set(42)
      await tx.wait(1, 20_000)
      await waitFor('the ValueSet event over WebSocket', async () => (events.length > 0 ? true : undefined), 15_000)
      expect(events[0]).toEqual({ by: owner.address, value: 42n })
    } finally {
      await ws.removeAllListeners()
      await watched.removeAllListeners()
    }
  })

  it('polls filters over HTTP: contract events (eth_newFilter) and pending transactions', async () => {
    const events: bigint[] = []
    const pending: string[] = []
    const polled = new Contract(await contract.getAddress(), guarded.abi as never, http)
    await polled.on('ValueSet', (_by: string, value: bigint) => events.push(value))
    await http.on('pending', (hash: string) => pending.push(hash))
    try {
      // Let both filters be installed before the transaction is sent.
      await new Promise((r) => setTimeout(r, 500))
      const tx = await (contract.connect(owner) as Contract).set(7)
      await tx.wait(1, 20_000)
      await waitFor('the polled ValueSet event', async () => (events.includes(7n) ? true : undefined), 15_000)
      await waitFor('the polled pending hash', async () => (pending.includes(tx.hash) ? true : undefined), 15_000)
      const logs = (await polled.queryFilter('ValueSet', 0)) as EventLog[]
      expect(logs.map((l) => l.args.value)).toEqual([42n, 7n])
    } finally {
      await polled.removeAllListeners()
      await http.removeAllListeners()
    }
  })

  it('reads eth_getProof and verifies it against the block state root', async () => {
    const block = await http.getBlock('latest')
    expect(block?.stateRoot).toMatch(/^0x[0-9a-f]{64}$/)
    const address = await contract.getAddress()
    // Slot 0 holds `value` (owner is immutable, in the code).
    const proof = await http.send('eth_getProof', [address, ['0x0'], `0x${block?.number.toString(16)}`])
    const proven = await verifyProof(block?.stateRoot as string, proof)
    expect(proven.slots).toEqual([7n])
    expect(proven.codeHash).not.toBe(`0x${'00'.repeat(32)}`)
  })
})
