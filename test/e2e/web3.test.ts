import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  Contract,
  type ContractAbi,
  ContractExecutionError,
  FMT_BYTES,
  FMT_NUMBER,
  Web3,
  WebSocketProvider,
} from 'web3'
import { DEV_ACCOUNTS } from '../../src/genesis/index.js'
import type { PolisNode } from '../../src/node.js'
import { removeDir, startNode, tempDir, waitFor } from '../helpers/node.js'
import { type ProofAnswer, verifyProof } from '../helpers/proof.js'
import { compileContract } from '../helpers/solc.js'

const compiled = compileContract('Guarded.sol', 'Guarded')
const guarded = { abi: compiled.abi as unknown as ContractAbi, bytecode: compiled.bytecode }
const OWNER = DEV_ACCOUNTS[5]
const STRANGER = DEV_ACCOUNTS[6]

describe('web3.js v4 against a node', () => {
  let dir: string
  let node: PolisNode
  let web3: Web3
  let ws: Web3
  let address: string

  beforeAll(async () => {
    dir = tempDir('polis-web3-')
    node = await startNode({ datadir: dir })
    web3 = new Web3(node.rpc.url)
    web3.eth.accounts.wallet.add(OWNER.privateKey)
    web3.eth.accounts.wallet.add(STRANGER.privateKey)
    web3.eth.transactionPollingInterval = 100
    ws = new Web3(new WebSocketProvider(node.rpc.url.replace('http://', 'ws://')))
  })

  afterAll(async () => {
    await ws?.eth.clearSubscriptions()
    ;(ws?.currentProvider as WebSocketProvider | undefined)?.disconnect()
    await node?.stop()
    removeDir(dir)
  })

  it('estimates fees (calculateFeeData, eth_feeHistory, maxPriorityFeePerGas) and sends an EIP-1559 transfer', async () => {
    const fees = await web3.eth.calculateFeeData()
    expect(fees.maxPriorityFeePerGas).toBeGreaterThan(0n)
    expect(fees.maxFeePerGas).toBeGreaterThan(fees.maxPriorityFeePerGas as bigint)
    expect(await web3.eth.getMaxPriorityFeePerGas()).toBe(fees.maxPriorityFeePerGas)
    const history = await web3.eth.getFeeHistory(4, 'latest', [25, 75])
    expect((history.baseFeePerGas as unknown[]).length).toBe((history.gasUsedRatio as unknown[]).length + 1)

    const to = DEV_ACCOUNTS[7].address
    const before = await web3.eth.getBalance(to)
    const receipt = await web3.eth.sendTransaction({
      from: OWNER.address,
      to,
      value: web3.utils.toWei('0.25', 'ether'),
      type: 2,
    })
    expect(receipt.status).toBe(1n)
    expect(receipt.type).toBe(2n)
    expect(await web3.eth.getBalance(to)).toBe(before + BigInt(web3.utils.toWei('0.25', 'ether')))
    const tx = await web3.eth.getTransaction(receipt.transactionHash)
    expect(tx.maxFeePerGas).toBeDefined()
  })

  it('deploys a contract and decodes the custom error of a revert from a call and from a send', async () => {
    const factory = new web3.eth.Contract(guarded.abi)
    const deployed = await factory.deploy({ data: guarded.bytecode }).send({ from: OWNER.address })
    address = deployed.options.address as string
    expect(String(await deployed.methods.owner().call())).toBe(web3.utils.toChecksumAddress(OWNER.address))

    const contract = new web3.eth.Contract(guarded.abi, address)
    for (const attempt of [
      () => contract.methods.set(5).call({ from: STRANGER.address }),
      () => contract.methods.set(5).send({ from: STRANGER.address }),
    ]) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(ContractExecutionError)
      const cause = (error as ContractExecutionError).cause as {
        errorName?: string
        errorArgs?: Record<string, unknown>
      }
      expect(cause.errorName).toBe('Unauthorized')
      expect(cause.errorArgs?.caller).toBe(web3.utils.toChecksumAddress(STRANGER.address))
      expect(cause.errorArgs?.code).toBe(401n)
    }
  })

  it('watches new block headers and contract events over WebSocket', async () => {
    const heads: bigint[] = []
    const subscription = await ws.eth.subscribe('newBlockHeaders')
    subscription.on('data', (head) => void heads.push(BigInt(head.number as bigint)))
    const watched = new Contract(guarded.abi, address, ws)
    const events: { by: string; value: bigint }[] = []
    const eventSubscription = watched.events.ValueSet()
    eventSubscription.on('data', (event) => {
      events.push({ by: String(event.returnValues.by), value: BigInt(event.returnValues.value as bigint) })
    })
    try {
      await waitFor('two heads over WebSocket', async () => (heads.length >= 2 ? true : undefined), 15_000)
      expect(heads[1]).toBe(heads[0] + 1n)
      const contract = new web3.eth.Contract(guarded.abi, address)
      await contract.methods.set(11).send({ from: OWNER.address })
      await waitFor('the ValueSet event over WebSocket', async () => (events.length > 0 ? true : undefined), 15_000)
      expect(events[0]).toEqual({ by: web3.utils.toChecksumAddress(OWNER.address), value: 11n })
    } finally {
      await subscription.unsubscribe()
      await eventSubscription.unsubscribe()
    }
  })

  it('polls filters: block, log and pending-transaction filters through eth_getFilterChanges', async () => {
    // Several filters, so that ids with a leading zero (which web3 drops when it re-encodes them) come up too.
    const blockFilters = await Promise.all(Array.from({ length: 16 }, () => web3.eth.createNewBlockFilter()))
    const logFilter = await web3.eth.createNewFilter({ address, fromBlock: 'latest' })
    const pendingFilter = await web3.eth.createNewPendingTransactionFilter()
    const contract = new web3.eth.Contract(guarded.abi, address)
    const receipt = await contract.methods.set(12).send({ from: OWNER.address })
    for (const id of blockFilters) {
      const hashes = (await web3.eth.getFilterChanges(id)) as string[]
      expect(hashes.length).toBeGreaterThan(0)
    }
    const logs = (await web3.eth.getFilterChanges(logFilter)) as { transactionHash: string; data: string }[]
    expect(logs.map((l) => l.transactionHash)).toContain(receipt.transactionHash)
    expect((await web3.eth.getFilterChanges(pendingFilter)) as string[]).toContain(receipt.transactionHash)
    expect(await web3.eth.getFilterLogs(logFilter)).toHaveLength(1)
    for (const id of [...blockFilters, logFilter, pendingFilter]) expect(await web3.eth.uninstallFilter(id)).toBe(true)
  })

  it('reads eth_getProof and verifies it against the block state root', async () => {
    const block = await web3.eth.getBlock('latest')
    // web3 wants storage keys as 32 bytes; slot 0 holds `value` (owner is immutable, in the code).
    const slot = `0x${'00'.repeat(32)}`
    const proof = await web3.eth.getProof(address, [slot], block.number, {
      number: FMT_NUMBER.HEX,
      bytes: FMT_BYTES.HEX,
    })
    // web3's account schema has no `address`: the proof is of the address asked for.
    const proven = await verifyProof(block.stateRoot as string, { ...(proof as unknown as ProofAnswer), address })
    expect(proven.slots).toEqual([12n])
  })
})
