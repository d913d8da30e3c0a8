export { TxPoolError, type TxPoolErrorCode, txPoolErrorMessages } from './errors.js'
export type { AccountState, TxPoolDeps } from './interface.js'
export { defaultTxPoolOptions, type TxPoolOptions } from './options.js'
export { TxPool } from './pool.js'
