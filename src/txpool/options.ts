/**
 * How block building orders pending transactions across senders (within a sender always by nonce):
 * - 'price' (geth): highest effective tip first, earlier arrival among equal tips;
 * - 'fifo' (Besu's `--tx-pool=sequenced`, for zero-fee city networks): arrival order.
 */
export const TX_POOL_ORDERS = ['price', 'fifo'] as const
export type TxPoolOrder = (typeof TX_POOL_ORDERS)[number]

export interface TxPoolOptions {
  /** Total number of transactions (pending + queued) the pool holds. */
  maxSlots: number
  /** Transactions one sender may keep behind a nonce gap. */
  maxQueuedPerAccount: number
  /** Largest accepted serialized transaction, in bytes. */
  maxTxBytes: number
  /** Minimum fee increase, in percent, for a same-nonce replacement. */
  priceBumpPercent: number
  /** Block building order, and with it the eviction rule of a full pool (see `TxPool.makeRoom`). */
  order: TxPoolOrder
}

export const defaultTxPoolOptions: TxPoolOptions = {
  // A city chain takes bursts of tens of thousands of transactions (geth keeps 6,144; a 20,000-transaction burst is
  // a normal load here). A pooled transaction costs about 2 KiB, so this is ~64 MiB at most.
  maxSlots: 32_768,
  maxQueuedPerAccount: 256,
  maxTxBytes: 128 * 1024,
  priceBumpPercent: 10,
  order: 'price',
}

/** Every this many imported blocks, all pooled senders are re-read (balances may change through others' txs). */
export const FULL_RESYNC_INTERVAL_BLOCKS = 32

/** The pool's journal across restarts (geth's `--txpool.journal` / `--txpool.rejournal`). */
export interface TxPoolJournalOptions {
  /** Journal file; relative paths are relative to the data directory; '' = no journal. */
  path: string
  /** The journal is rewritten from the pool's content this often (and at start and clean shutdown). */
  rejournalSeconds: number
}

export const defaultTxPoolJournalOptions: TxPoolJournalOptions = {
  path: 'txpool.rlp',
  rejournalSeconds: 3600,
}
