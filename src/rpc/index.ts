/**
 * JSON-RPC 2.0 server (HTTP; WebSocket will reuse the dispatcher): eth_, net_ and web3_ with geth's shapes,
 * error codes and limits.
 */

export type { AdminBackend } from './admin.js'
export {
  AuthConfigError,
  DEFAULT_JWT_APIS,
  isLoopbackHost,
  LOCAL_ONLY_APIS,
  readJwtSecret,
  UNAUTHORIZED_CODE,
} from './auth.js'
export type { RpcMetrics } from './dispatcher.js'
export {
  Dispatcher,
  type DispatcherOptions,
  type JsonRpcId,
  type JsonRpcResponse,
  type MethodTable,
  type RpcMethod,
} from './dispatcher.js'
export { ErrorCode, type JsonRpcErrorObject, RpcError, toRpcError } from './errors.js'
export { checkRpcOptions, sameListenAddress } from './limits.js'
export {
  defaultRpcAdminOptions,
  defaultRpcOptions,
  RPC_NAMESPACES,
  type RpcAdminOptions,
  type RpcContext,
  type RpcDeps,
  type RpcOptions,
} from './options.js'
export type { QbftBackend } from './qbft.js'
export { createDispatcher, createMethods, RpcServer } from './server.js'
