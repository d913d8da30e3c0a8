export { TxPoolError, type TxPoolErrorCode, txPoolErrorMessages } from './errors.js'
export {
  decodeTxBatch,
  defaultTxGossipOptions,
  encodeTxBatch,
  TxBatchError,
  TxBatcher,
  type TxGossipOptions,
  TxIngress,
  type TxIngressStats,
} from './gossip.js'
export type { AccountState, TxPoolDeps } from './interface.js'
export {
  decodeJournal,
  encodeJournal,
  JOURNAL_FLUSH_DELAY_MS,
  type JournaledPool,
  type JournalRestore,
  TxJournal,
  type TxJournalOptions,
} from './journal.js'
export {
  defaultTxPoolJournalOptions,
  defaultTxPoolOptions,
  TX_POOL_ORDERS,
  type TxPoolJournalOptions,
  type TxPoolOptions,
  type TxPoolOrder,
} from './options.js'
export { type AddedListener, TxPool } from './pool.js'
