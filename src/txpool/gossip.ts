/**
 * Transactions travel between nodes in batches: one gossip message carries the RLP list of the raw transactions a
 * node accepted over a few tens of milliseconds, so gossipsub's per-message work (message id, seen cache, framing,
 * encryption, forwarding) is paid per batch rather than per transaction. Received batches are admitted one
 * transaction at a time in arrival order, so a burst of gossip never floods the event loop with concurrent
 * admissions while the node builds or checks a block.
 */
import { RLP } from '@ethereumjs/rlp'

export interface TxGossipOptions {
  /** A transaction waits at most this long for others to share its message. */
  maxDelayMs: number
  /** A batch is sent once it holds this many bytes of raw transactions (a larger single tx goes alone). */
  maxBatchBytes: number
  /** ... or this many transactions; a received batch with more is refused whole. */
  maxBatchCount: number
  /** Received transactions waiting for admission beyond this are dropped (geth drops when its queue is full). */
  maxQueued: number
}

export const defaultTxGossipOptions: TxGossipOptions = {
  maxDelayMs: 50,
  maxBatchBytes: 256 * 1024,
  maxBatchCount: 1_000,
  maxQueued: 20_000,
}

export class TxBatchError extends Error {}

export function encodeTxBatch(raws: readonly Uint8Array[]): Uint8Array {
  return RLP.encode(raws as Uint8Array[])
}

/** The raw transactions of a batch; throws TxBatchError unless `data` is an RLP list of at most `maxCount` strings. */
export function decodeTxBatch(data: Uint8Array, maxCount: number): Uint8Array[] {
  let decoded: unknown
  try {
    decoded = RLP.decode(data)
  } catch (e) {
    throw new TxBatchError(`malformed transaction batch: ${(e as Error).message}`)
  }
  if (!Array.isArray(decoded)) throw new TxBatchError('transaction batch is not a list')
  if (decoded.length > maxCount) throw new TxBatchError(`transaction batch of ${decoded.length} > ${maxCount}`)
  for (const item of decoded) {
    if (!(item instanceof Uint8Array) || item.length === 0) {
      throw new TxBatchError('transaction batch holds an item that is not a raw transaction')
    }
  }
  return decoded as Uint8Array[]
}

/** Collects raw transactions to send and hands out encoded batches when full or after `maxDelayMs`. */
export class TxBatcher {
  private raws: Uint8Array[] = []
  private bytes = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly opts: TxGossipOptions,
    private readonly send: (batch: Uint8Array) => void,
  ) {}

  add(raw: Uint8Array): void {
    if (this.raws.length > 0 && this.bytes + raw.length > this.opts.maxBatchBytes) this.flush()
    this.raws.push(raw)
    this.bytes += raw.length
    if (this.raws.length >= this.opts.maxBatchCount || this.bytes >= this.opts.maxBatchBytes) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), this.opts.maxDelayMs)
  }

  /** Sends what is collected now. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (this.raws.length === 0) return
    const batch = encodeTxBatch(this.raws)
    this.raws = []
    this.bytes = 0
    this.send(batch)
  }

  /** Sends what is left and stops the timer. */
  stop(): void {
    this.flush()
  }
}

export interface TxIngressStats {
  batches: number
  malformed: number
  queued: number
  dropped: number
  admitted: number
  refused: number
}

/**
 * Admits received transactions one at a time in arrival order. `admit` rejects for a transaction the pool refuses
 * (known, underpriced, nonce too low, …): that is normal gossip, counted and otherwise ignored.
 */
/** Received transactions decoded and recovered together before they are admitted one by one. */
const PREPARED_CHUNK = 256

export class TxIngress {
  private readonly queue: Uint8Array[] = []
  private head = 0
  private running = false
  private idle: Promise<void> = Promise.resolve()
  private readonly counters: TxIngressStats = {
    batches: 0,
    malformed: 0,
    queued: 0,
    dropped: 0,
    admitted: 0,
    refused: 0,
  }

  constructor(
    private readonly opts: TxGossipOptions,
    private readonly admit: (raw: Uint8Array) => Promise<unknown>,
    /** Decodes a chunk and recovers its senders together before its admissions (TxPool.prepareRaw). */
    private readonly prepare?: (raws: readonly Uint8Array[]) => Promise<() => void>,
  ) {}

  /** Queues the transactions of a received batch; a malformed batch is counted and dropped. */
  onBatch(data: Uint8Array): void {
    let raws: Uint8Array[]
    try {
      raws = decodeTxBatch(data, this.opts.maxBatchCount)
    } catch {
      this.counters.malformed++
      return
    }
    this.counters.batches++
    for (const raw of raws) {
      if (this.queue.length - this.head >= this.opts.maxQueued) {
        this.counters.dropped++
        continue
      }
      this.queue.push(raw)
    }
    if (!this.running) {
      this.running = true
      this.idle = this.drain()
    }
  }

  stats(): TxIngressStats {
    return { ...this.counters, queued: this.queue.length - this.head }
  }

  /** Resolves once everything queued so far has been admitted or refused. */
  settled(): Promise<void> {
    return this.idle
  }

  private async drain(): Promise<void> {
    try {
      while (this.head < this.queue.length) {
        // Counted as queued until each one's admission starts.
        const chunk = this.queue.slice(this.head, this.head + PREPARED_CHUNK)
        const release = this.prepare === undefined ? undefined : await this.prepare(chunk).catch(() => undefined)
        try {
          for (const raw of chunk) {
            this.head++
            try {
              await this.admit(raw)
              this.counters.admitted++
            } catch {
              this.counters.refused++
            }
          }
        } finally {
          release?.()
        }
        // Compact now and then so that a long-lived queue does not keep every processed entry.
        if (this.head >= 1_024 && this.head * 2 >= this.queue.length) {
          this.queue.splice(0, this.head)
          this.head = 0
        }
      }
      this.queue.length = 0
      this.head = 0
    } finally {
      this.running = false
    }
  }
}
