/**
 * The pool's journal (geth's `transactions.rlp`, `--txpool.journal`): pooled transactions survive a restart.
 *
 * File format, as geth's journal: the raw signed transactions as concatenated RLP items. A legacy tx is its own RLP
 * list; a typed tx (EIP-2718 `type || payload`) is wrapped in an RLP string, as geth's `rlp.Encode(tx)` writes it.
 * Blob transactions are not journaled (a sidecar is ~128 KiB per blob; geth keeps them in its blob pool's own store,
 * and a QBFT chain refuses them anyway).
 *
 * At start the file is read and every transaction re-admitted through the pool's normal rules, in file order (mined
 * or no longer valid ones are dropped); then the file is rewritten from the pool. While the node runs, every admitted
 * transaction is appended: records wait `flushDelayMs` to share one write with the rest of a burst, without fsync.
 * The file is rewritten from the pool's content, in arrival order, every `rejournalMs`, after `rewriteAfterAppends`
 * appends (so that a busy hour does not leave a file of mostly mined txs to re-check at the next start), and at clean
 * shutdown: temp file, fsync, rename. A crash loses at most the last flush delay of admissions; a record cut short by
 * a crash ends the readable part of the file: what precedes it is kept, with a warning, and the rewrite drops it.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { RLP } from '@ethereumjs/rlp'
import { TransactionType, type TypedTransaction } from '@ethereumjs/tx'
import type { Logger } from '../log/index.js'
import { TxPoolError } from './errors.js'
import type { AddedListener } from './pool.js'

/** What the journal needs of the pool (TxPool implements it). */
export interface JournaledPool {
  addRaw(raw: Uint8Array): Promise<Uint8Array>
  onAdded(listener: AddedListener): () => void
  transactionsInArrivalOrder(): TypedTransaction[]
}

export interface TxJournalOptions {
  /** Absolute path of the journal file. */
  path: string
  /** Period of the rewrite from the pool's content (geth's `--txpool.rejournal`). */
  rejournalMs: number
  /** An appended record waits at most this long to share one write with others. */
  flushDelayMs: number
  /** The file is rewritten early after this many appends since the last rewrite. */
  rewriteAfterAppends: number
}

/** Appended records of a burst share one write after this delay. */
export const JOURNAL_FLUSH_DELAY_MS = 20

/** What start-up made of the journal. */
export interface JournalRestore {
  /** Transactions the pool admitted again. */
  loaded: number
  /** Transactions it refused (mined meanwhile, replaced, no longer affordable, ...), by error code. */
  dropped: number
  droppedBy: Record<string, number>
  /** Bytes at the end of the file that held no complete record (a write cut short by a crash). */
  ignoredBytes: number
}

/** One journal record: a legacy tx's RLP list as it is, a typed tx as an RLP string. */
export function journalRecord(raw: Uint8Array): Uint8Array {
  return raw.length > 0 && raw[0] >= 0xc0 ? raw : RLP.encode(raw)
}

export function encodeJournal(raws: readonly Uint8Array[]): Uint8Array {
  const records = raws.map(journalRecord)
  const out = new Uint8Array(records.reduce((total, record) => total + record.length, 0))
  let offset = 0
  for (const record of records) {
    out.set(record, offset)
    offset += record.length
  }
  return out
}

/** Length of the RLP item at `offset` (header + payload), or undefined when it runs past the end or is no tx. */
function recordLength(data: Uint8Array, offset: number): { header: number; length: number } | undefined {
  const first = data[offset]
  // A single byte below 0x80 is an RLP item, but never a transaction: a zero-filled tail after a crash looks so.
  if (first < 0x80) return undefined
  let header = 1
  let payload: number
  const short = first < 0xc0 ? 0x80 : 0xc0
  if (first - short <= 55) {
    payload = first - short
  } else {
    const lengthOfLength = first - short - 55
    header += lengthOfLength
    if (offset + header > data.length) return undefined
    payload = 0
    for (let i = 1; i <= lengthOfLength; i++) payload = payload * 256 + data[offset + i]
  }
  const length = header + payload
  return offset + length <= data.length ? { header, length } : undefined
}

/**
 * The raw transactions of a journal, and how many bytes they fill: reading stops at the first record that is cut
 * short or malformed, so `validBytes < data.length` means a damaged tail.
 */
export function decodeJournal(data: Uint8Array): { raws: Uint8Array[]; validBytes: number } {
  const raws: Uint8Array[] = []
  let offset = 0
  while (offset < data.length) {
    const record = recordLength(data, offset)
    if (record === undefined) break
    const isList = data[offset] >= 0xc0
    // Copied, so that pooled txs do not keep the whole file's buffer alive.
    raws.push(new Uint8Array(data.subarray(isList ? offset : offset + record.header, offset + record.length)))
    offset += record.length
  }
  return { raws, validBytes: offset }
}

function fileError(path: string, verb: string, e: unknown): Error {
  return new Error(
    `txpool journal ${path}: cannot ${verb}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
  )
}

async function readJournalFile(path: string): Promise<Uint8Array> {
  try {
    await mkdir(dirname(path), { recursive: true })
    return await readFile(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Uint8Array()
    throw fileError(path, 'read', e)
  }
}

function isBlob(tx: TypedTransaction): boolean {
  return tx.type === TransactionType.BlobEIP4844
}

/** The journal file of a running pool: restore at open, appends while running, rewrites; see the file comment. */
export class TxJournal {
  private handle: Awaited<ReturnType<typeof open>> | undefined
  /** Raw txs admitted since the last flush. */
  private buffer: Uint8Array[] = []
  private flushTimer: NodeJS.Timeout | undefined
  private rejournalTimer: NodeJS.Timeout | undefined
  /** Every file operation runs in turn on this chain. */
  private queue: Promise<void> = Promise.resolve()
  private appendsSinceRewrite = 0
  private rewriting: Promise<void> | undefined
  private unsubscribe: (() => void) | undefined
  private closed = false
  /** Batched appends written so far. */
  appendWrites = 0

  private constructor(
    private readonly opts: TxJournalOptions,
    private readonly deps: { pool: JournaledPool; log: Logger },
    readonly restored: JournalRestore,
  ) {}

  /**
   * Reads the journal into the pool, rewrites it from the pool and starts journaling admissions. A file that cannot
   * be read or written stops start-up (a bad path is a configuration error); later write failures are logged.
   */
  static async open(opts: TxJournalOptions, deps: { pool: JournaledPool; log: Logger }): Promise<TxJournal> {
    const { pool, log } = deps
    const file = opts.path
    const data = await readJournalFile(file)
    const { raws, validBytes } = decodeJournal(data)
    const ignoredBytes = data.length - validBytes
    if (ignoredBytes > 0) {
      log.warn(
        { file, records: raws.length, ignoredBytes },
        'txpool journal ends with a partial or malformed record (a write cut short?): kept what precedes it',
      )
    }
    const restored: JournalRestore = { loaded: 0, dropped: 0, droppedBy: {}, ignoredBytes }
    for (const raw of raws) {
      try {
        await pool.addRaw(raw)
        restored.loaded++
      } catch (e) {
        const code = e instanceof TxPoolError ? e.code : 'OTHER'
        restored.dropped++
        restored.droppedBy[code] = (restored.droppedBy[code] ?? 0) + 1
      }
    }
    log.info(
      { file, loaded: restored.loaded, dropped: restored.dropped, droppedBy: restored.droppedBy },
      'txpool journal loaded',
    )
    const journal = new TxJournal(opts, deps, restored)
    journal.unsubscribe = pool.onAdded(journal.onAdded)
    // Appends of admissions made meanwhile queue behind the first rewrite.
    const first = journal.replaceFile(pool.transactionsInArrivalOrder())
    journal.queue = first.catch(() => {})
    try {
      await first
    } catch (e) {
      journal.unsubscribe()
      throw fileError(file, 'write', e)
    }
    journal.rejournalTimer = setInterval(() => void journal.rewrite(), opts.rejournalMs)
    journal.rejournalTimer.unref()
    return journal
  }

  /** Writes what was appended since the last write; settles when every file operation so far is done. */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    if (this.buffer.length === 0) return this.queue
    const batch = this.buffer
    this.buffer = []
    return this.enqueue(async () => {
      if (this.handle === undefined) return
      await this.handle.write(encodeJournal(batch))
      this.appendWrites++
    })
  }

  /**
   * Replaces the file with the pool's content now (pending and queued, arrival order). Admissions from here on are
   * appended to the new file; a rewrite already running is waited for instead.
   */
  rewrite(): Promise<void> {
    if (this.closed) return this.queue
    if (this.rewriting !== undefined) return this.rewriting
    // The pool's content supersedes every record appended or buffered so far.
    const txs = this.deps.pool.transactionsInArrivalOrder()
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    this.buffer = []
    this.appendsSinceRewrite = 0
    const rewriting = this.enqueue(() => this.replaceFile(txs)).finally(() => {
      this.rewriting = undefined
    })
    this.rewriting = rewriting
    return rewriting
  }

  /** Stops journaling and leaves the file holding exactly the pool's content (clean shutdown). */
  async close(): Promise<void> {
    if (this.closed) return
    this.unsubscribe?.()
    clearInterval(this.rejournalTimer)
    // A rewrite already running holds an older snapshot: wait for it, then write the content as it is now.
    await this.rewriting
    await this.rewrite()
    this.closed = true
    await this.enqueue(async () => {
      await this.handle?.close()
      this.handle = undefined
    })
  }

  private readonly onAdded: AddedListener = (tx, raw) => {
    if (isBlob(tx)) return
    this.buffer.push(raw)
    if (++this.appendsSinceRewrite >= this.opts.rewriteAfterAppends && this.rewriting === undefined) {
      void this.rewrite()
      return
    }
    if (this.flushTimer === undefined) this.flushTimer = setTimeout(() => void this.flush(), this.opts.flushDelayMs)
  }

  private async replaceFile(txs: readonly TypedTransaction[]): Promise<void> {
    const temp = `${this.opts.path}.tmp`
    const out = await open(temp, 'w')
    try {
      let chunk: Uint8Array[] = []
      for (const tx of txs) {
        if (isBlob(tx)) continue
        chunk.push(tx.serialize())
        if (chunk.length === 1024) {
          await out.write(encodeJournal(chunk))
          chunk = []
        }
      }
      if (chunk.length > 0) await out.write(encodeJournal(chunk))
      await out.sync()
    } finally {
      await out.close()
    }
    await rename(temp, this.opts.path)
    const previous = this.handle
    this.handle = await open(this.opts.path, 'a')
    await previous?.close()
  }

  /** Runs `operation` after every earlier one; a failure is logged (the pool goes on without that write). */
  private enqueue(operation: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(operation).catch((err) => {
      this.deps.log.warn({ err, file: this.opts.path }, 'txpool journal write failed')
    })
    return this.queue
  }
}
