export type NetworkErrorCode =
  | 'NOT_STARTED'
  | 'INVALID_MULTIADDR'
  | 'UNSUPPORTED_PEER_KEY'
  | 'MESSAGE_TOO_LARGE'
  | 'MALFORMED_STATUS'
  | 'REQUEST_TIMEOUT'
  | 'REQUEST_FAILED'
  | 'REMOTE_ERROR'
  | 'PEER_BANNED'

/** A network failure with a stable `code`, e.g. `NetworkError('REQUEST_TIMEOUT', {peerId, protocol})`. */
export class NetworkError extends Error {
  readonly code: NetworkErrorCode
  readonly details: Record<string, unknown>

  constructor(code: NetworkErrorCode, details: Record<string, unknown> = {}, message?: string) {
    super(message ?? `${code}${Object.keys(details).length > 0 ? ` ${JSON.stringify(details, bigintReplacer)}` : ''}`)
    this.name = 'NetworkError'
    this.code = code
    this.details = details
  }
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}
