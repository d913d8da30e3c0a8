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
export { defaultTxPoolOptions, type TxPoolOptions } from './options.js'
export { TxPool } from './pool.js'
