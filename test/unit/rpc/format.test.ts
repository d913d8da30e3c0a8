import { createBlock } from '@ethereumjs/block'
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, createContractAddress } from '@ethereumjs/util'
import { Bloom } from '@ethereumjs/vm'
import { describe, expect, it } from 'vitest'
import {
  decodeExtraData,
  decodeSealedBlock,
  encodeSealedBlock,
  rawWithExtraData,
  sealedBlockNumber,
  sealedExtraData,
} from '../../../src/consensus/qbft/index.js'
import {
  data,
  effectiveGasPrice,
  effectiveTip,
  formatBlock,
  formatReceipt,
  formatReceipts,
  formatTransaction,
  inclusionOf,
  logsBloom,
  quantity,
} from '../../../src/rpc/format.js'
import { bloomBits } from '../../../src/rpc/logs.js'
import {
  crypto,
  FakeChain,
  GWEI,
  HASHING_EXTRA,
  legacyTx,
  log,
  SENDER,
  spec,
  TRANSFER_TOPIC,
  tx1559,
} from './fixtures.js'

describe('quantities and data', () => {
  it('renders quantities as minimal hex', () => {
    expect(quantity(0n)).toBe('0x0')
    expect(quantity(26)).toBe('0x1a')
    expect(quantity(2n ** 64n)).toBe('0x10000000000000000')
  })

  it('renders data as even-length lowercase hex', () => {
    expect(data(new Uint8Array())).toBe('0x')
    expect(data(Uint8Array.of(0, 0xab))).toBe('0x00ab')
  })
})

describe('transactions', () => {
  it('prices a mined EIP-1559 tx at what it paid and a pending one at its fee cap', () => {
    const tx = tx1559(0n, { tip: 2n * GWEI, feeCap: 10n * GWEI })
    expect(effectiveGasPrice(tx, 7n * GWEI)).toBe(9n * GWEI)
    expect(effectiveGasPrice(tx, 9n * GWEI)).toBe(10n * GWEI)
    expect(effectiveTip(tx, 9n * GWEI)).toBe(1n * GWEI)
    expect(effectiveTip(tx, 11n * GWEI)).toBe(0n)

    const chain = new FakeChain()
    const block = chain.add([tx], [], { baseFeePerGas: 7n * GWEI })
    const mined = formatTransaction(tx, SENDER, inclusionOf(block, 0))
    expect(mined.gasPrice).toBe(quantity(9n * GWEI))
    expect(mined.blockHash).toBe(data(block.hash()))
    expect(mined.blockNumber).toBe('0x1')
    expect(mined.blockTimestamp).toBe(quantity(block.header.timestamp))
    expect(mined.transactionIndex).toBe('0x0')

    const pending = formatTransaction(tx, SENDER)
    expect(pending.gasPrice).toBe(quantity(10n * GWEI))
    expect([pending.blockHash, pending.blockNumber, pending.blockTimestamp, pending.transactionIndex]).toEqual([
      null,
      null,
      null,
      null,
    ])
  })

  it("has geth's fields, in geth's order, for a typed tx", () => {
    const tx = tx1559(5n)
    const rendered = formatTransaction(tx, SENDER)
    expect(Object.keys(rendered)).toEqual([
      'blockHash',
      'blockNumber',
      'blockTimestamp',
      'from',
      'gas',
      'gasPrice',
      'maxFeePerGas',
      'maxPriorityFeePerGas',
      'hash',
      'input',
      'nonce',
      'to',
      'transactionIndex',
      'value',
      'type',
      'accessList',
      'chainId',
      'v',
      'r',
      's',
      'yParity',
    ])
    expect(rendered).toMatchObject({
      from: SENDER.toString(),
      nonce: '0x5',
      type: '0x2',
      chainId: '0x539',
      accessList: [],
      hash: bytesToHex(tx.hash()),
      yParity: rendered.v,
    })
  })

  it('gives an EIP-155 legacy tx its chainId and no yParity or fee caps', () => {
    const rendered = formatTransaction(legacyTx(0n), SENDER)
    expect(rendered.chainId).toBe('0x539')
    expect(rendered.type).toBe('0x0')
    expect(rendered.gasPrice).toBe(quantity(3n * GWEI))
    expect(BigInt(rendered.v)).toBeGreaterThanOrEqual(1337n * 2n + 35n)
    expect('yParity' in rendered).toBe(false)
    expect('maxFeePerGas' in rendered).toBe(false)
    expect('accessList' in rendered).toBe(false)
  })
})

describe('receipts and logs', () => {
  const chain = new FakeChain()
  const creation = tx1559(0n, { to: null })
  const transfer = tx1559(1n)
  const block = chain.add(
    [creation, transfer],
    [[log([TRANSFER_TOPIC])], [log([TRANSFER_TOPIC], '0x02'), log([TRANSFER_TOPIC], '0x03')]],
    { gasPerTx: 30_000n },
  )
  const receipts = chain.blocks[1].receipts

  it('derives gas used from cumulative gas, and the creation address from sender and nonce', () => {
    const first = formatReceipt(block, receipts, 0, SENDER)
    expect(first.contractAddress).toBe(createContractAddress(SENDER, 0n).toString())
    expect(first.to).toBeNull()
    expect(first.gasUsed).toBe(quantity(30_000n))
    const second = formatReceipt(block, receipts, 1, SENDER)
    expect(second.contractAddress).toBeNull()
    expect(second.cumulativeGasUsed).toBe(quantity(60_000n))
    expect(second.gasUsed).toBe(quantity(30_000n))
    expect(second.effectiveGasPrice).toBe(quantity(3n * GWEI))
    expect(second.status).toBe('0x1')
  })

  it('numbers logs across the block and stamps them with block and tx data', () => {
    const second = formatReceipt(block, receipts, 1, SENDER)
    expect(second.logs.map((l) => l.logIndex)).toEqual(['0x1', '0x2'])
    expect(second.logs[0]).toEqual({
      address: `0x${'cc'.repeat(20)}`,
      topics: [bytesToHex(TRANSFER_TOPIC)],
      data: '0x02',
      blockNumber: '0x1',
      transactionHash: bytesToHex(transfer.hash()),
      transactionIndex: '0x1',
      blockHash: bytesToHex(block.hash()),
      blockTimestamp: quantity(block.header.timestamp),
      logIndex: '0x1',
      removed: false,
    })
    const all = formatReceipts(block, receipts, () => SENDER)
    expect(all.flatMap((r) => r.logs.map((l) => l.logIndex))).toEqual(['0x0', '0x1', '0x2'])
  })

  it("computes each receipt's bloom from its own logs", () => {
    const logs = receipts[1].logs
    const expected = new Bloom()
    for (const [address, topics] of logs) {
      expected.add(address)
      for (const t of topics) expected.add(t)
    }
    expect(logsBloom(logs)).toEqual(expected.bitvector)
    const bits = bloomBits(crypto.keccak256, TRANSFER_TOPIC)
    expect(bits.every(([byte, mask]) => (logsBloom(logs)[byte] & mask) !== 0)).toBe(true)
  })
})

describe('blocks', () => {
  const chain = new FakeChain()
  const block = chain.add([tx1559(0n)])
  const seals = chain.blocks[1].seals

  it('puts the round and committed seals back into extraData; genesis keeps its own', () => {
    const full = sealedExtraData(block.header, seals)
    const decoded = decodeExtraData(full)
    expect(decoded.round).toBe(1)
    expect(decoded.committedSeals).toHaveLength(1)
    expect(sealedExtraData(block.header, undefined)).toEqual(HASHING_EXTRA)
    expect(sealedExtraData(chain.genesis.header, seals)).toEqual(chain.genesis.header.extraData)
  })

  it('round-trips a sealed block through its wire encoding', () => {
    const sealed = { block, seals: seals! }
    const decoded = decodeSealedBlock(encodeSealedBlock(sealed), block.common)
    expect(decoded.block.hash()).toEqual(block.hash())
    expect(decoded.seals).toEqual(seals)
    expect(sealedBlockNumber(encodeSealedBlock(sealed))).toBe(block.header.number)
    expect(sealedBlockNumber(new Uint8Array([0xc0]))).toBeUndefined()
    expect(sealedBlockNumber(new Uint8Array([0xff]))).toBeUndefined()
  })

  it('sizes the block with its full extraData', () => {
    const full = sealedExtraData(block.header, seals)
    expect(RLP.encode(rawWithExtraData(block, block.header.extraData) as never).length).toBe(block.serialize().length)
    const header = block.header.raw()
    header[12] = full
    const bytes = RLP.encode([header, block.raw()[1], block.raw()[2], ...block.raw().slice(3)] as never)
    expect(RLP.encode(rawWithExtraData(block, full) as never).length).toBe(bytes.length)
  })

  it("has geth's header fields (sorted, no totalDifficulty) and hashes or full txs", () => {
    const rendered = formatBlock(block, HASHING_EXTRA, [data(block.transactions[0].hash())])
    expect(Object.keys(rendered)).toEqual([...Object.keys(rendered)].sort())
    expect('totalDifficulty' in rendered).toBe(false)
    expect(rendered).toMatchObject({
      number: '0x1',
      hash: bytesToHex(block.hash()),
      difficulty: '0x1',
      miner: `0x${'bcd4042de499d14e55001ccbb24a551f3b954096'}`,
      uncles: [],
      sha3Uncles: bytesToHex(block.header.uncleHash),
      baseFeePerGas: quantity(GWEI),
      nonce: '0x0000000000000000',
      transactions: [bytesToHex(block.transactions[0].hash())],
    })
    // The dev genesis runs Osaka: every post-merge field exists, with empty withdrawals.
    for (const key of [
      'withdrawals',
      'withdrawalsRoot',
      'blobGasUsed',
      'excessBlobGas',
      'parentBeaconBlockRoot',
      'requestsHash',
    ]) {
      expect(rendered).toHaveProperty(key)
    }
    expect(rendered.withdrawals).toEqual([])
    expect(spec.common.isActivatedEIP(4895)).toBe(true)
  })

  it('leaves out fork fields a pre-Shanghai header does not have', () => {
    const common = createCustomCommon({ chainId: 1337 }, Mainnet, { hardfork: Hardfork.London })
    const london = createBlock(
      { header: { number: 1n, baseFeePerGas: GWEI, extraData: HASHING_EXTRA } },
      { common, skipConsensusFormatValidation: true },
    )
    const rendered = formatBlock(london, HASHING_EXTRA, [])
    for (const key of [
      'withdrawals',
      'withdrawalsRoot',
      'blobGasUsed',
      'excessBlobGas',
      'parentBeaconBlockRoot',
      'requestsHash',
    ]) {
      expect(rendered).not.toHaveProperty(key)
    }
    expect(rendered.baseFeePerGas).toBe(quantity(GWEI))
  })
})
