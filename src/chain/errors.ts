export type BlockImportErrorCode =
  | 'ALREADY_KNOWN'
  | 'NOT_NEXT_BLOCK'
  | 'UNKNOWN_PARENT'
  | 'INVALID_HEADER'
  | 'INVALID_TIMESTAMP'
  | 'INVALID_GAS_LIMIT'
  | 'INVALID_BASE_FEE'
  | 'INVALID_GAS_USED'
  | 'INVALID_PROPOSER'
  | 'INVALID_VALIDATORS'
  | 'INVALID_SEALS'
  | 'INVALID_STATE_ROOT'
  | 'INVALID_RECEIPTS_ROOT'
  | 'INVALID_BLOOM'
  | 'INVALID_TRANSACTIONS'
  | 'INVALID_EXECUTION'

/** A block was refused; nothing of it was written. */
export class BlockImportError extends Error {
  override readonly name = 'BlockImportError'
  constructor(
    readonly code: BlockImportErrorCode,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message)
  }
}

export class ChainError extends Error {
  override readonly name = 'ChainError'
  constructor(
    readonly code: 'GENESIS_MISMATCH' | 'CORRUPT_DATABASE' | 'SCHEMA_OUTDATED',
    message: string,
  ) {
    super(message)
  }
}
