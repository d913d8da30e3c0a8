import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Block, createBlock } from '@ethereumjs/block'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { Address, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BlockImportError, type Chain } from '../../../src/chain/index.js'
import {
  createCommitSeal,
  encodeExtraData,
  headerView,
  ISTANBUL_MIX_HASH,
  QbftRules,
  ValidatorProvider,
} from '../../../src/consensus/qbft/index.js'
import { createCrypto } from '../../../src/crypto/index.js'
import type { Database } from '../../../src/db/index.js'
import type { Execution } from '../../../src/execution/index.js'
import {
  type ChainSpec,
  DEV_ACCOUNTS,
  DEV_GENESIS_FILE,
  DEV_VALIDATOR,
  qbftParams,
} from '../../../src/genesis/index.js'
import { openChain } from '../../../src/open.js'

const crypto = createCrypto()
const validatorKey = hexToBytes(DEV_VALIDATOR.privateKey)
const outsiderKey = hexToBytes(DEV_ACCOUNTS[5].privateKey)

describe('block import', () => {
  let dir: string
  let spec: ChainSpec
  let db: Database
  let chain: Chain
  let execution: Execution
  let rules: QbftRules

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'polis-import-'))
    await open()
  })

  /** Opens the data directory (again, for a restart) and attaches the QBFT rules. */
  async function open(): Promise<void> {
    ;({ spec, db, chain, execution } = await openChain(dir, DEV_GENESIS_FILE, crypto))
    const validators = new ValidatorProvider(
      { epochLength: qbftParams(spec).epochLength },
      { getHeader: async (n) => ((h) => (h ? headerView(h) : undefined))(await chain.getHeaderByNumber(n)) },
    )
    rules = new QbftRules(qbftParams(spec), crypto, validators)
    chain.attach(execution, rules)
  }

  afterEach(async () => {
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Builds the next block with one transfer; leaves the execution state reset so the block can be imported fresh. */
  async function buildNext(opts: { proposer?: Uint8Array; to?: Uint8Array; empty?: boolean } = {}): Promise<Block> {
    const parent = chain.head
    const tx = createFeeMarket1559Tx(
      {
        chainId: spec.chainId,
        nonce: 0n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
        gasLimit: 100_000n,
        to: new Address(opts.to ?? hexToBytes(DEV_ACCOUNTS[1].address)),
        value: 5n,
      },
      { common: spec.common },
    ).sign(hexToBytes(DEV_ACCOUNTS[0].privateKey))
    const built = await execution.buildBlock(
      parent,
      {
        timestamp: parent.header.timestamp + 1n,
        gasLimit: parent.header.gasLimit,
        baseFeePerGas: parent.header.calcNextBaseFee(),
        coinbase: new Address(opts.proposer ?? hexToBytes(DEV_VALIDATOR.address)),
        difficulty: 1n,
        mixHash: ISTANBUL_MIX_HASH,
        nonce: new Uint8Array(8),
        extraData: encodeExtraData({
          vanity: new Uint8Array(32),
          validators: await rules.validatorsAfter(parent),
          vote: undefined,
          round: 0,
          committedSeals: [],
        }),
      },
      opts.empty ? [] : [tx],
    )
    await execution.reset(parent.header.stateRoot)
    return built.block
  }

  const seal = (block: Block, key = validatorKey) => ({
    block,
    seals: { round: 0, committedSeals: [createCommitSeal(block.header, 0, key, crypto)] },
  })

  async function expectRejected(promise: Promise<unknown>, code: string): Promise<void> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(BlockImportError)
    expect((error as BlockImportError).code).toBe(code)
  }

  it('imports a valid sealed block by executing it and indexes its receipts and transactions', async () => {
    const block = await buildNext()
    await chain.importBlock(seal(block))
    expect(chain.head.header.number).toBe(1n)
    const receipts = await chain.getReceipts(block.hash())
    expect(receipts?.map((r) => r.status)).toEqual([1])
    expect(await chain.getTxLocation(block.transactions[0].hash())).toEqual({ blockNumber: 1n, index: 0 })
    // The senders recovered for execution are recorded for the RPC; an empty block records none.
    expect((await chain.getSenders(block.hash()))?.map((s) => bytesToHex(s))).toEqual([
      DEV_ACCOUNTS[0].address.toLowerCase(),
    ])
    const state = await execution.stateAt(chain.head.header.stateRoot)
    expect((await state.getAccount(new Address(hexToBytes(DEV_ACCOUNTS[1].address))))?.balance).toBe(10n ** 22n + 5n)
  })

  it('executes a block to the same state whatever this node ran before: no trace of a build or of a restart', async () => {
    const proposer = new Address(hexToBytes(DEV_VALIDATOR.address))
    const first = await buildNext({ empty: true })
    await chain.importBlock(seal(first))
    // No block reward in QBFT, and (as in Besu) no empty account for the proposer of an empty block.
    expect(await (await execution.stateAt(first.header.stateRoot)).getAccount(proposer)).toBeUndefined()
    // This node builds the next block (then drops it), restarts, and imports the same block as a stranger's.
    const second = await buildNext({ empty: true })
    await db.close()
    await open()
    await chain.importBlock(seal(second))
    expect(chain.head.hash()).toEqual(second.hash())
    const third = await buildNext()
    await chain.importBlock(seal(third))
    expect(chain.head.header.number).toBe(3n)
  })

  it('includes a call to the KZG point-evaluation precompile as a failed transaction, not a broken block', async () => {
    const block = await buildNext({ to: hexToBytes(`0x${'0a'.padStart(40, '0')}`) })
    expect(block.transactions).toHaveLength(1)
    await chain.importBlock(seal(block))
    expect((await chain.getReceipts(block.hash()))?.map((r) => r.status)).toEqual([0])
  })

  it('rejects a block sealed by a key outside the validator set, and keeps the head', async () => {
    const block = await buildNext()
    await expectRejected(chain.importBlock(seal(block, outsiderKey)), 'INVALID_SEALS')
    expect(chain.head.header.number).toBe(0n)
    await chain.importBlock(seal(block))
    expect(chain.head.header.number).toBe(1n)
  })

  it('rejects a block without seals', async () => {
    const block = await buildNext()
    await expectRejected(chain.importBlock({ block, seals: { round: 0, committedSeals: [] } }), 'INVALID_SEALS')
  })

  it('rejects a block whose state root is wrong, without writing anything', async () => {
    const block = await buildNext()
    const tampered = createBlock(
      { header: { ...block.header.toJSON(), stateRoot: new Uint8Array(32).fill(7) }, transactions: block.transactions },
      { common: spec.common, skipConsensusFormatValidation: true },
    )
    await expectRejected(chain.importBlock(seal(tampered)), 'INVALID_STATE_ROOT')
    expect(chain.head.header.number).toBe(0n)
    expect(await chain.getTxLocation(block.transactions[0].hash())).toBeUndefined()
    expect(db.pendingWrites).toBe(0)
    await chain.importBlock(seal(block))
    expect(chain.head.header.number).toBe(1n)
  })

  it('rejects a block proposed by a non-validator', async () => {
    const block = await buildNext({ proposer: hexToBytes(DEV_ACCOUNTS[5].address) })
    await expectRejected(chain.importBlock(seal(block)), 'INVALID_PROPOSER')
  })

  it('rejects wrong timestamps and base fees', async () => {
    const block = await buildNext()
    const header = block.header.toJSON()
    const sameTime = createBlock(
      { header: { ...header, timestamp: chain.head.header.timestamp }, transactions: block.transactions },
      { common: spec.common, skipConsensusFormatValidation: true },
    )
    await expectRejected(chain.importBlock(seal(sameTime)), 'INVALID_TIMESTAMP')
    const badFee = createBlock(
      { header: { ...header, baseFeePerGas: 1n }, transactions: block.transactions },
      { common: spec.common, skipConsensusFormatValidation: true },
    )
    await expectRejected(chain.importBlock(seal(badFee)), 'INVALID_BASE_FEE')
  })

  it('refuses to open a data directory made from another genesis or chain id', async () => {
    await db.close()
    const json = JSON.parse(readFileSync(DEV_GENESIS_FILE, 'utf8'))
    const otherChainId = join(dir, 'other-chain-id.json')
    writeFileSync(otherChainId, JSON.stringify({ ...json, config: { ...json.config, chainId: 4242 } }))
    await expect(openChain(dir, otherChainId, crypto)).rejects.toThrow(
      /chain id 1337, but the genesis file is for chain id 4242/,
    )
    const otherAlloc = join(dir, 'other-alloc.json')
    writeFileSync(otherAlloc, JSON.stringify({ ...json, gasLimit: '0x1c9c380' }))
    await expect(openChain(dir, otherAlloc, crypto)).rejects.toThrow(/holds a chain with genesis 0x/)
    ;({ db } = await openChain(dir, DEV_GENESIS_FILE, crypto))
  })
})
