export type QbftErrorCode =
  | 'INVALID_EXTRA_DATA'
  | 'INVALID_SEAL'
  | 'INSUFFICIENT_SEALS'
  | 'DUPLICATE_SEAL'
  | 'SEAL_NOT_FROM_VALIDATOR'
  | 'INVALID_VALIDATORS'
  | 'INVALID_ROUND'
  | 'INVALID_BLOCK'
  | 'INVALID_MESSAGE'

/** Error of the QBFT block format; `code` is stable and safe to match on, `data` carries structured detail. */
export class QbftError extends Error {
  readonly code: QbftErrorCode
  readonly data: Record<string, unknown> | undefined

  constructor(code: QbftErrorCode, message: string, data?: Record<string, unknown>) {
    super(message)
    this.name = 'QbftError'
    this.code = code
    this.data = data
  }
}
