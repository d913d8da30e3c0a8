import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hardfork } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { createAccessList2930Tx, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import {
  decodeJournal,
  defaultTxPoolOptions,
  encodeJournal,
  TxJournal,
  type TxJournalOptions,
  TxPool,
} from '../../../src/txpool/index.js'
import { fixtureCommon, readIoFile } from '../../helpers/executionApis.js'
import { addressOf, common, customCommon, FakeChain, feeMarketTx, legacyTx, privateKey, RECIPIENT } from './helpers.js'

const alice = privateKey(1)
const bob = privateKey(2)
const carol = privateKey(3)

function accessListTx(key: Uint8Array, nonce = 0n): TypedTransaction {
  return createAccessList2930Tx(
    { chainId: 1337n, nonce, gasPrice: 100n * 10n ** 9n, gasLimit: 21_000n, to: RECIPIENT },
    { common },
  ).sign(key)
}

/** A pino logger whose lines the test can read. */
function recordingLogger() {
  const lines: { level: number; msg: string; [field: string]: unknown }[] = []
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) })
  return { log, lines, warnings: () => lines.filter((line) => line.level === 40) }
}

const hashes = (txs: TypedTransaction[]) => txs.map((tx) => bytesToHex(tx.hash()))

describe('txpool journal codec', () => {
  it("writes geth's format: concatenated RLP items, a legacy tx as its list, a typed tx as a string", () => {
    const txs = [legacyTx(alice), feeMarketTx(bob), accessListTx(carol)]
    const raws = txs.map((tx) => tx.serialize())
    const data = encodeJournal(raws)
    // Read back as a plain RLP stream, the way geth's journal loader does.
    const items: unknown[] = []
    let rest: Uint8Array = data
    while (rest.length > 0) {
      const { data: item, remainder } = RLP.decode(rest, true)
      items.push(item)
      rest = remainder
    }
    expect(Array.isArray(items[0])).toBe(true)
    expect(RLP.encode(items[0] as Uint8Array[])).toEqual(raws[0])
    expect(items.slice(1)).toEqual(raws.slice(1))
    expect(decodeJournal(data)).toEqual({ raws, validBytes: data.length })
  })

  it('stops at a record cut short or a zero-filled tail, keeping what precedes it', () => {
    const raws = [feeMarketTx(alice).serialize(), legacyTx(bob).serialize()]
    const whole = encodeJournal(raws)
    const third = encodeJournal([feeMarketTx(carol).serialize()])
    const cut = Buffer.concat([whole, third.subarray(0, 40)])
    expect(decodeJournal(cut)).toEqual({ raws, validBytes: whole.length })
    const zeros = Buffer.concat([whole, new Uint8Array(4096)])
    expect(decodeJournal(zeros)).toEqual({ raws, validBytes: whole.length })
    // A header whose length runs past the end.
    expect(decodeJournal(Uint8Array.of(0xb9, 0x01))).toEqual({ raws: [], validBytes: 0 })
  })
})

describe('txpool journal file', () => {
  const dirs: string[] = []
  const journals: TxJournal[] = []
  afterEach(async () => {
    for (const journal of journals.splice(0)) await journal.close()
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  function journalPath(): string {
    const dir = mkdtempSync(join(tmpdir(), 'polis-journal-'))
    dirs.push(dir)
    return join(dir, 'txpool.rlp')
  }

  async function openJournal(pool: TxPool, path: string, opts: Partial<TxJournalOptions> = {}) {
    const { log, lines, warnings } = recordingLogger()
    const journal = await TxJournal.open(
      { path, rejournalMs: 3_600_000, flushDelayMs: 5, rewriteAfterAppends: 1_000_000, ...opts },
      { pool, log },
    )
    journals.push(journal)
    return { journal, lines, warnings }
  }

  const fileRaws = (path: string) => {
    const data = readFileSync(path)
    const decoded = decodeJournal(data)
    expect(decoded.validBytes).toBe(data.length)
    return decoded.raws.map(bytesToHex)
  }

  it('restores pending and queued transactions after a clean close, in arrival order', async () => {
    const path = journalPath()
    const pool = new FakeChain().pool()
    const { journal } = await openJournal(pool, path)
    const txs = [
      feeMarketTx(alice, { nonce: 1n }),
      legacyTx(carol),
      feeMarketTx(bob, { nonce: 2n }),
      feeMarketTx(alice, { nonce: 0n }),
      accessListTx(carol, 1n),
    ]
    for (const tx of txs) await pool.addRaw(tx.serialize())
    await journal.close()
    expect(fileRaws(path)).toEqual(txs.map((tx) => bytesToHex(tx.serialize())))

    const restoredPool = new FakeChain().pool()
    const { journal: reopened, lines } = await openJournal(restoredPool, path)
    expect(reopened.restored).toEqual({ loaded: 5, dropped: 0, droppedBy: {}, ignoredBytes: 0 })
    expect(lines.find((line) => line.msg === 'txpool journal loaded')).toMatchObject({ level: 30, loaded: 5 })
    expect(hashes(restoredPool.transactionsInArrivalOrder())).toEqual(hashes(txs))
    expect(restoredPool.stats()).toEqual({ pending: 4, queued: 1 })
    const queued = restoredPool.content().queued.get(addressOf(bob).toString())
    expect(queued?.map((tx) => tx.nonce)).toEqual([2n])
  })

  it('appends admissions in batched writes, so they survive a crash without a clean close', async () => {
    const path = journalPath()
    const pool = new FakeChain().pool()
    const { journal } = await openJournal(pool, path, { flushDelayMs: 20 })
    const txs = Array.from({ length: 300 }, (_, i) =>
      feeMarketTx(privateKey(10 + (i % 30)), { nonce: BigInt(Math.floor(i / 30)) }),
    )
    const raws = txs.map((tx) => tx.serialize())
    for (const raw of raws) await pool.addRaw(raw)
    await journal.flush()
    // One write per burst, not one per transaction.
    expect(journal.appendWrites).toBeGreaterThan(0)
    expect(journal.appendWrites).toBeLessThanOrEqual(5)
    // The file as a crash would leave it: the journal was never closed.
    expect(fileRaws(path)).toEqual(raws.map(bytesToHex))
    const restoredPool = new FakeChain().pool()
    const { journal: reopened } = await openJournal(restoredPool, path)
    expect(reopened.restored.loaded).toBe(300)
    expect(restoredPool.stats()).toEqual({ pending: 300, queued: 0 })
  })

  it('keeps what precedes a truncated record, warns, and rewrites the file', async () => {
    const path = journalPath()
    const txs = [feeMarketTx(alice), legacyTx(bob), feeMarketTx(carol)]
    const whole = encodeJournal(txs.map((tx) => tx.serialize()))
    const cutShort = encodeJournal([feeMarketTx(alice, { nonce: 1n }).serialize()]).subarray(0, 30)
    writeFileSync(path, Buffer.concat([whole, cutShort]))
    const pool = new FakeChain().pool()
    const { journal, warnings } = await openJournal(pool, path)
    expect(journal.restored).toMatchObject({ loaded: 3, dropped: 0, ignoredBytes: 30 })
    expect(warnings()).toHaveLength(1)
    expect(warnings()[0]).toMatchObject({ records: 3, ignoredBytes: 30 })
    expect(hashes(pool.transactionsInArrivalOrder())).toEqual(hashes(txs))
    // Rewritten at start: the damaged tail is gone, and appends go after whole records.
    expect(fileRaws(path)).toEqual(txs.map((tx) => bytesToHex(tx.serialize())))
    const next = feeMarketTx(alice, { nonce: 1n })
    await pool.add(next)
    await journal.flush()
    expect(fileRaws(path)).toHaveLength(4)
  })

  it('drops mined transactions: at load as nonce too low, and at the next rewrite', async () => {
    const path = journalPath()
    const [a0, a1, b0, c0] = [feeMarketTx(alice), feeMarketTx(alice, { nonce: 1n }), feeMarketTx(bob), legacyTx(carol)]
    writeFileSync(path, encodeJournal([a0, a1, b0, c0].map((tx) => tx.serialize())))
    const chain = new FakeChain()
    // a0 was mined before the restart.
    chain.setAccount(addressOf(alice), { nonce: 1n })
    const pool = chain.pool()
    const { journal, lines } = await openJournal(pool, path)
    expect(journal.restored).toEqual({ loaded: 3, dropped: 1, droppedBy: { NONCE_TOO_LOW: 1 }, ignoredBytes: 0 })
    expect(lines.find((line) => line.msg === 'txpool journal loaded')).toMatchObject({
      level: 30,
      loaded: 3,
      dropped: 1,
      droppedBy: { NONCE_TOO_LOW: 1 },
    })
    expect(fileRaws(path)).toEqual([a1, b0, c0].map((tx) => bytesToHex(tx.serialize())))
    // b0 is mined while the node runs: the next rewrite leaves it out.
    chain.setAccount(addressOf(bob), { nonce: 1n })
    await pool.onBlockImported([b0])
    await journal.rewrite()
    expect(fileRaws(path)).toEqual([a1, c0].map((tx) => bytesToHex(tx.serialize())))
  })

  it('rewrites from the pool every rejournal interval', async () => {
    const path = journalPath()
    const chain = new FakeChain()
    const pool = chain.pool()
    await openJournal(pool, path, { rejournalMs: 50 })
    const [a0, b0] = [feeMarketTx(alice), feeMarketTx(bob)]
    await pool.add(a0)
    await pool.add(b0)
    chain.setAccount(addressOf(alice), { nonce: 1n })
    await pool.onBlockImported([a0])
    const want = [bytesToHex(b0.serialize())]
    const deadline = Date.now() + 5_000
    while (JSON.stringify(fileRaws(path)) !== JSON.stringify(want) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(fileRaws(path)).toEqual(want)
  })

  it('rewrites early after rewriteAfterAppends appends, so the file does not fill with mined txs', async () => {
    const path = journalPath()
    const chain = new FakeChain()
    const pool = chain.pool()
    const { journal } = await openJournal(pool, path, { rewriteAfterAppends: 5 })
    const mined = [0n, 1n, 2n].map((nonce) => feeMarketTx(alice, { nonce }))
    for (const tx of mined) await pool.add(tx)
    chain.setAccount(addressOf(alice), { nonce: 3n })
    await pool.onBlockImported(mined)
    // Appends 4 and 5: the fifth rewrites the file from the pool (b0, c0); d0 is appended after it.
    const live = [feeMarketTx(bob), legacyTx(carol), feeMarketTx(privateKey(4))]
    for (const tx of live) await pool.add(tx)
    await journal.flush()
    expect(fileRaws(path)).toEqual(live.map((tx) => bytesToHex(tx.serialize())))
  })

  it('does not journal blob transactions', async () => {
    const path = journalPath()
    const blobRaw = hexToBytes(
      readIoFile('eth_sendRawTransaction', 'send-blob-tx').exchanges[0].request.params?.[0] as `0x${string}`,
    )
    const chainCommon = fixtureCommon()
    chainCommon.setHardforkBy({ blockNumber: 54n, timestamp: 540n })
    const chain = new FakeChain(chainCommon)
    chain.head = { number: 54n, baseFeePerGas: 27_399_063n, gasLimit: 200_000_000n }
    const pool = new TxPool(defaultTxPoolOptions, { ...chain.deps(), acceptBlobs: true })
    const { journal } = await openJournal(pool, path)
    const plain = feeMarketTx(alice, {}, chainCommon)
    await pool.addRaw(blobRaw)
    await pool.addRaw(plain.serialize())
    expect(pool.stats().pending).toBe(2)
    await journal.flush()
    expect(fileRaws(path)).toEqual([bytesToHex(plain.serialize())])
    await journal.rewrite()
    expect(fileRaws(path)).toEqual([bytesToHex(plain.serialize())])
  })

  it('re-admits through the normal rules: a tx type the chain does not allow is dropped', async () => {
    const path = journalPath()
    writeFileSync(path, encodeJournal([feeMarketTx(alice).serialize(), legacyTx(bob).serialize()]))
    const berlin = new FakeChain(customCommon(Hardfork.Berlin)).pool()
    const { journal } = await openJournal(berlin, path)
    expect(journal.restored).toMatchObject({ loaded: 1, dropped: 1, droppedBy: { TX_TYPE_NOT_SUPPORTED: 1 } })
    expect(fileRaws(path)).toEqual([bytesToHex(legacyTx(bob).serialize())])
  })

  it('stops start-up with the path and the reason when the journal cannot be read or written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'polis-journal-'))
    dirs.push(dir)
    const pool = new FakeChain().pool()
    mkdirSync(join(dir, 'a-directory'))
    await expect(openJournal(pool, join(dir, 'a-directory'))).rejects.toThrow(
      `txpool journal ${join(dir, 'a-directory')}: cannot read: EISDIR`,
    )
    writeFileSync(join(dir, 'a-file'), '')
    await expect(openJournal(pool, join(dir, 'a-file', 'txpool.rlp'))).rejects.toThrow(/cannot read: (EEXIST|ENOTDIR)$/)
  })
})
