/** Stable codes of admission failures; the RPC layer maps them to JSON-RPC errors. */
export type TxPoolErrorCode =
  | 'INVALID_RLP'
  | 'INVALID_SENDER'
  | 'BLOB_NOT_SUPPORTED'
  | 'TX_TYPE_NOT_SUPPORTED'
  | 'INVALID_CHAIN_ID'
  | 'UNPROTECTED'
  | 'OVERSIZED'
  | 'GAS_LIMIT'
  | 'GAS_LIMIT_TOO_HIGH'
  | 'TIP_ABOVE_FEE_CAP'
  | 'INTRINSIC_GAS'
  | 'FEE_CAP_TOO_LOW'
  | 'ALREADY_KNOWN'
  | 'NONCE_TOO_LOW'
  | 'INSUFFICIENT_FUNDS'
  | 'REPLACEMENT_UNDERPRICED'
  | 'ACCOUNT_LIMIT'
  | 'POOL_FULL'

/** geth's wording for each code: clients (ethers, viem, wallets) match on these strings. */
export const txPoolErrorMessages: Readonly<Record<TxPoolErrorCode, string>> = {
  INVALID_RLP: 'rlp',
  INVALID_SENDER: 'invalid sender',
  BLOB_NOT_SUPPORTED: 'blob transactions are not supported',
  TX_TYPE_NOT_SUPPORTED: 'transaction type not supported',
  INVALID_CHAIN_ID: 'invalid chain id for signer',
  UNPROTECTED: 'only replay-protected (EIP-155) transactions allowed over RPC',
  OVERSIZED: 'oversized data',
  GAS_LIMIT: 'exceeds block gas limit',
  GAS_LIMIT_TOO_HIGH: 'transaction gas limit too high',
  TIP_ABOVE_FEE_CAP: 'max priority fee per gas higher than max fee per gas',
  INTRINSIC_GAS: 'intrinsic gas too low',
  FEE_CAP_TOO_LOW: 'max fee per gas less than block base fee',
  ALREADY_KNOWN: 'already known',
  NONCE_TOO_LOW: 'nonce too low',
  INSUFFICIENT_FUNDS: 'insufficient funds for gas * price + value',
  REPLACEMENT_UNDERPRICED: 'replacement transaction underpriced',
  ACCOUNT_LIMIT: 'account limit exceeded',
  POOL_FULL: 'txpool is full',
}

/** An admission failure: `message` is geth's word for `code`, optionally followed by `: detail`. */
export class TxPoolError extends Error {
  readonly code: TxPoolErrorCode
  readonly data?: Record<string, unknown>

  constructor(code: TxPoolErrorCode, detail?: string, data?: Record<string, unknown>) {
    const word = txPoolErrorMessages[code]
    super(detail === undefined ? word : `${word}: ${detail}`)
    this.name = 'TxPoolError'
    this.code = code
    if (data !== undefined) this.data = data
  }
}
