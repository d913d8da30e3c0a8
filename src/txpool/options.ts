export interface TxPoolOptions {
  /** Total number of transactions (pending + queued) the pool holds. */
  maxSlots: number
  /** Transactions one sender may keep behind a nonce gap. */
  maxQueuedPerAccount: number
  /** Largest accepted serialized transaction, in bytes. */
  maxTxBytes: number
  /** Minimum fee increase, in percent, for a same-nonce replacement. */
  priceBumpPercent: number
}

export const defaultTxPoolOptions: TxPoolOptions = {
  // A city chain takes bursts of tens of thousands of transactions (geth keeps 6,144; a 20,000-transaction burst is
  // a normal load here). A pooled transaction costs about 2 KiB, so this is ~64 MiB at most.
  maxSlots: 32_768,
  maxQueuedPerAccount: 256,
  maxTxBytes: 128 * 1024,
  priceBumpPercent: 10,
}

/** Every this many imported blocks, all pooled senders are re-read (balances may change through others' txs). */
export const FULL_RESYNC_INTERVAL_BLOCKS = 32
