/**
 * Who may call what on a JSON-RPC listener:
 * - JWT (HS256 with a shared secret file, as Besu's and geth's authenticated endpoints): with a secret configured,
 *   methods of the protected namespaces (admin, debug, txpool, qbft, testing by default) answer -40100 "Unauthorized"
 *   unless the request (HTTP) or the WebSocket upgrade carries `Authorization: Bearer <token>` signed with it, whose
 *   `iat` is within 60 s of the node's clock; a token that is present but invalid gets HTTP 401.
 * - Host allowlist (geth's --http.vhosts): a request whose Host header names a host (not an IP address) must name one
 *   listed, which stops DNS-rebinding pages from reaching a node on localhost; '*' allows any.
 * - Namespaces that control or inspect the node (admin, debug, txpool, qbft) are off on a listener bound to a
 *   non-loopback address unless named explicitly.
 */
import { readFile, stat } from 'node:fs/promises'
import { isIP } from 'node:net'
import { jwtVerify } from 'jose'
import type { MethodTable } from './dispatcher.js'
import { RpcError } from './errors.js'

/** Besu's JSON-RPC error for a call the request is not authorised to make. */
export const UNAUTHORIZED_CODE = -40100
/** How far a token's `iat` may be from the node's clock (the Engine API's rule). */
export const JWT_IAT_TOLERANCE_SECONDS = 60
/** Namespaces a JWT secret protects unless told otherwise. */
export const DEFAULT_JWT_APIS: readonly string[] = ['admin', 'debug', 'txpool', 'qbft', 'testing']
/** Namespaces that stay off on a non-loopback listener unless named explicitly. */
export const LOCAL_ONLY_APIS: readonly string[] = ['admin', 'debug', 'txpool', 'qbft']
export const DEFAULT_HOST_ALLOWLIST: readonly string[] = ['localhost']

export class AuthConfigError extends Error {
  override readonly name = 'AuthConfigError'
}

/** A JWT secret file: 32 bytes or more as hex (0x optional, as geth's jwtsecret), not readable by others. */
export async function readJwtSecret(file: string): Promise<Uint8Array> {
  let text: string
  try {
    const info = await stat(file)
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new AuthConfigError(
        `JWT secret file ${file} is readable by others (mode ${(info.mode & 0o777).toString(8)}): chmod 600 ${file}`,
      )
    }
    text = (await readFile(file, 'utf8')).trim()
  } catch (e) {
    if (e instanceof AuthConfigError) throw e
    throw new AuthConfigError(`cannot read JWT secret file ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`)
  }
  const hex = text.startsWith('0x') ? text.slice(2) : text
  if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length % 2 !== 0 || hex.length < 64) {
    throw new AuthConfigError(`JWT secret file ${file} must hold at least 32 bytes as hex (e.g. openssl rand -hex 32)`)
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/**
 * Checks an Authorization header against the secret: undefined when it carries a valid HS256 token, 'missing' when
 * there is none, else why the token is refused.
 */
export async function checkBearer(
  header: string | undefined,
  secret: Uint8Array,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<'missing' | string | undefined> {
  if (header === undefined || header === '') return 'missing'
  const match = /^Bearer\s+(\S+)$/i.exec(header)
  if (match === null) return 'the Authorization header is not "Bearer <token>"'
  let iat: unknown
  try {
    const { payload } = await jwtVerify(match[1], secret, {
      algorithms: ['HS256'],
      currentDate: new Date(nowSeconds * 1000),
    })
    iat = payload.iat
  } catch (e) {
    return `invalid token: ${(e as Error).message}`
  }
  if (typeof iat !== 'number') return 'the token has no iat claim'
  if (Math.abs(nowSeconds - iat) > JWT_IAT_TOLERANCE_SECONDS) {
    return `the token's iat is more than ${JWT_IAT_TOLERANCE_SECONDS} s from the node's clock`
  }
  return undefined
}

/** The method table an unauthenticated caller gets: methods of `namespaces` answer -40100 "Unauthorized". */
export function guardMethods(methods: MethodTable, namespaces: readonly string[]): MethodTable {
  const protectedNames = new Set(namespaces)
  return Object.fromEntries(
    Object.entries(methods).map(([name, method]) => {
      const namespace = name.slice(0, name.indexOf('_'))
      if (!protectedNames.has(namespace)) return [name, method]
      const refuse = () => {
        throw new RpcError(UNAUTHORIZED_CODE, `Unauthorized: ${namespace}_ methods need a JWT (Authorization: Bearer)`)
      }
      return [name, refuse]
    }),
  )
}

/** True for a loopback listen address (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'))
}

/** geth's virtual-host rule: IP literals always pass; names must be listed (case-insensitive); '*' allows all. */
export function hostAllowed(hostHeader: string | undefined, allowlist: readonly string[]): boolean {
  if (allowlist.includes('*')) return true
  if (hostHeader === undefined || hostHeader === '') return true
  // Host: name[:port] or [v6]:port.
  const host = hostHeader.startsWith('[')
    ? hostHeader.slice(1, hostHeader.indexOf(']'))
    : hostHeader.replace(/:\d+$/, '')
  if (isIP(host) !== 0) return true
  return allowlist.some((allowed) => allowed.toLowerCase() === host.toLowerCase())
}
