/** A small in-memory chain and fake collaborators, enough for the RPC methods without a node. */
import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import { type Block, type BlockHeader, createBlock } from '@ethereumjs/block'
import { createFeeMarket1559Tx, createLegacyTx, type TypedTransaction } from '@ethereumjs/tx'
import {
  type Address,
  bytesToHex,
  createAddressFromPrivateKey,
  createAddressFromString,
  hexToBytes,
} from '@ethereumjs/util'
import type { Logger } from 'pino'
import { vi } from 'vitest'
import { createGenesisBlock, type LogTuple, type Seals, type StoredReceipt } from '../../../src/chain/index.js'
import { encodeExtraData, genesisExtraData } from '../../../src/consensus/qbft/index.js'
import { createCrypto } from '../../../src/crypto/index.js'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE, DEV_VALIDATOR, parseGenesis } from '../../../src/genesis/index.js'
import type { LogIndexQuery } from '../../../src/indexes/index.js'
import type { RpcDeps } from '../../../src/rpc/index.js'

export const crypto = createCrypto()
export const spec = parseGenesis(JSON.parse(readFileSync(DEV_GENESIS_FILE, 'utf8')), crypto.customCrypto)
export const GWEI = 1_000_000_000n
export const KEY = hexToBytes(DEV_ACCOUNTS[0].privateKey)
export const SENDER = createAddressFromPrivateKey(KEY)
export const VALIDATOR = createAddressFromString(DEV_VALIDATOR.address)
export const RECIPIENT = createAddressFromString(DEV_ACCOUNTS[1].address)
export const TOKEN = createAddressFromString(`0x${'cc'.repeat(20)}`)
export const TRANSFER_TOPIC = hexToBytes(`0x${'dd'.repeat(32)}`)

/** The hashing form of a QBFT block's extraData: validators, round 0, no seals. */
export const HASHING_EXTRA = encodeExtraData(genesisExtraData([VALIDATOR.bytes]))

export function tx1559(nonce: bigint, fields: { tip?: bigint; feeCap?: bigint; to?: Address | null } = {}) {
  return createFeeMarket1559Tx(
    {
      nonce,
      maxFeePerGas: fields.feeCap ?? 100n * GWEI,
      maxPriorityFeePerGas: fields.tip ?? 2n * GWEI,
      gasLimit: 100_000n,
      to: fields.to === null ? undefined : (fields.to ?? RECIPIENT),
      value: 1n,
      data: fields.to === null ? hexToBytes('0x6000') : new Uint8Array(),
    },
    { common: spec.common },
  ).sign(KEY)
}

export function legacyTx(nonce: bigint, gasPrice = 3n * GWEI) {
  return createLegacyTx({ nonce, gasPrice, gasLimit: 21_000n, to: RECIPIENT, value: 2n }, { common: spec.common }).sign(
    KEY,
  )
}

export function log(topics: Uint8Array[], data = '0x01'): LogTuple {
  return [TOKEN.bytes, topics, hexToBytes(data as `0x${string}`)]
}

export interface FakeBlock {
  block: Block
  receipts: StoredReceipt[]
  seals: Seals | undefined
}

/** Builds block `parent + 1` with `txs`; each receipt uses `gasPerTx` and carries the given logs. */
export function nextBlock(
  parent: Block,
  txs: TypedTransaction[],
  logs: LogTuple[][] = [],
  opts: { baseFeePerGas?: bigint; gasPerTx?: bigint } = {},
): FakeBlock {
  const gasPerTx = opts.gasPerTx ?? 21_000n
  const receipts: StoredReceipt[] = txs.map((tx, i) => ({
    status: 1,
    cumulativeGasUsed: gasPerTx * BigInt(i + 1),
    logs: logs[i] ?? [],
    txHash: tx.hash(),
  }))
  const bloom = new Uint8Array(256)
  const allLogs = receipts.flatMap((r) => r.logs)
  for (const [address, topics] of allLogs) {
    for (const item of [address, ...topics]) {
      const h = crypto.keccak256(item)
      for (let i = 0; i < 6; i += 2) {
        const bit = ((h[i] << 8) | h[i + 1]) & 2047
        bloom[255 - (bit >> 3)] |= 1 << (bit & 7)
      }
    }
  }
  const block = createBlock(
    {
      header: {
        number: parent.header.number + 1n,
        parentHash: parent.hash(),
        timestamp: parent.header.timestamp + 1n,
        gasLimit: parent.header.gasLimit,
        gasUsed: gasPerTx * BigInt(txs.length),
        baseFeePerGas: opts.baseFeePerGas ?? GWEI,
        coinbase: VALIDATOR,
        extraData: HASHING_EXTRA,
        logsBloom: bloom,
        difficulty: 1n,
        mixHash: parent.header.mixHash,
        parentBeaconBlockRoot: new Uint8Array(32),
      },
      transactions: txs,
    },
    { common: spec.common, skipConsensusFormatValidation: true },
  )
  return { block, receipts, seals: { round: 1, committedSeals: [new Uint8Array(65).fill(7)] } }
}

/** The parts of Chain the RPC reads, over an array of blocks. */
/** The chain's read side plus its 'block' events (filters listen to them). */
export class FakeChain extends EventEmitter {
  readonly blocks: FakeBlock[]

  constructor() {
    super()
    const genesis = createGenesisBlock(spec, new Uint8Array(32))
    this.blocks = [{ block: genesis, receipts: [], seals: undefined }]
  }

  add(
    txs: TypedTransaction[],
    logs: LogTuple[][] = [],
    opts: { baseFeePerGas?: bigint; gasPerTx?: bigint } = {},
  ): Block {
    const next = nextBlock(this.head, txs, logs, opts)
    this.blocks.push(next)
    return next.block
  }

  get head(): Block {
    return this.blocks[this.blocks.length - 1].block
  }

  /** The log-index query of ChainIndex, answered from the receipts: a block qualifies per address and per position. */
  readonly index = {
    logBlocks: async (query: LogIndexQuery): Promise<bigint[]> => {
      const has = (list: readonly Uint8Array[], item: Uint8Array | undefined) =>
        item !== undefined && list.some((x) => bytesToHex(x) === bytesToHex(item))
      return this.blocks
        .filter(({ block, receipts }) => {
          const n = block.header.number
          const logs = receipts.flatMap((r) => r.logs)
          if (n < query.fromBlock || n > query.toBlock || logs.length === 0) return false
          if (query.addresses.length > 0 && !logs.some(([a]) => has(query.addresses, a))) return false
          return query.topics.every(
            (topics, i) => topics === undefined || topics.length === 0 || logs.some(([, t]) => has(topics, t[i])),
          )
        })
        .map(({ block }) => block.header.number)
    },
  }

  get genesis(): Block {
    return this.blocks[0].block
  }

  private byHash(hash: Uint8Array): FakeBlock | undefined {
    const hex = bytesToHex(hash)
    return this.blocks.find((b) => bytesToHex(b.block.hash()) === hex)
  }

  async getBlockByNumber(number: bigint): Promise<Block | undefined> {
    return this.blocks[Number(number)]?.block
  }

  async getHeaderByNumber(number: bigint): Promise<BlockHeader | undefined> {
    return this.blocks[Number(number)]?.block.header
  }

  async getBlockByHash(hash: Uint8Array): Promise<Block | undefined> {
    return this.byHash(hash)?.block
  }

  async getSeals(hash: Uint8Array): Promise<Seals | undefined> {
    return this.byHash(hash)?.seals
  }

  async getReceipts(hash: Uint8Array): Promise<StoredReceipt[] | undefined> {
    return this.byHash(hash)?.receipts
  }

  /** As the chain records them at import: the senders of each block's transactions. */
  async getSenders(hash: Uint8Array): Promise<Uint8Array[] | undefined> {
    return this.byHash(hash)?.block.transactions.map((tx) => tx.getSenderAddress().bytes)
  }

  async getTxLocation(hash: Uint8Array): Promise<{ blockNumber: bigint; index: number } | undefined> {
    const hex = bytesToHex(hash)
    for (const { block } of this.blocks) {
      const index = block.transactions.findIndex((tx) => bytesToHex(tx.hash()) === hex)
      if (index >= 0) return { blockNumber: block.header.number, index }
    }
    return undefined
  }
}

export function silentLogger(): Logger {
  return { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() } as unknown as Logger
}

/** RPC dependencies over a FakeChain: balances of 5 ether, a pool holding `pooled`, pending nonce 7. */
export function fakeDeps(chain: FakeChain, pooled: TypedTransaction[] = []): RpcDeps {
  const state = {
    stateRoot: new Uint8Array(32),
    getAccount: async () => ({
      nonce: 3n,
      balance: 5n * 10n ** 18n,
      codeHash: new Uint8Array(32),
      storageRoot: new Uint8Array(32),
    }),
    getCode: async () => hexToBytes('0x6000'),
    getStorage: async () => hexToBytes('0x2a'),
  }
  return {
    spec,
    chain: chain as never,
    execution: {
      stateAt: vi.fn(async () => state),
      call: vi.fn(async () => ({ returnValue: hexToBytes('0xbeef'), gasUsed: 21_000n })),
      estimateGas: vi.fn(async () => 21_000n),
    } as never,
    txpool: {
      pendingNonce: vi.fn(async () => 7n),
      get: (hash: Uint8Array) => pooled.find((tx) => bytesToHex(tx.hash()) === bytesToHex(hash)),
      sender: (tx: TypedTransaction) => tx.getSenderAddress(),
      addRaw: vi.fn(async (raw: Uint8Array) => crypto.keccak256(raw)),
      onAdded: () => () => {},
    } as never,
    crypto,
    clientVersion: 'Polis/test',
    coinbase: VALIDATOR.bytes,
    log: silentLogger(),
  }
}
