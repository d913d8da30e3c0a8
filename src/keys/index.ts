/**
 * Key files: Web3 Secret Storage v3 keystores (geth's format: scrypt or pbkdf2, aes-128-ctr, keccak MAC) unlocked
 * with a password file, and plain hex keys for development. The crypto is micro-eth-signer's v3 keystore.
 */
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { bytesToHex, hexToBytes, isValidPrivate, privateToAddress, toChecksumAddress } from '@ethereumjs/util'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { privFromLegacyKeystore, privToLegacyKeystore } from 'micro-eth-signer/keystore.js'

export type KeyFileErrorCode =
  | 'UNREADABLE'
  | 'INSECURE_PERMISSIONS'
  | 'NOT_A_KEY_FILE'
  | 'UNSUPPORTED_KEYSTORE'
  | 'PASSWORD_REQUIRED'
  | 'WRONG_PASSWORD'
  | 'ADDRESS_MISMATCH'
  | 'ACCOUNT_EXISTS'

/** A key or password file problem; the message names the file and what to do. */
export class KeyFileError extends Error {
  readonly code: KeyFileErrorCode
  readonly file: string

  constructor(code: KeyFileErrorCode, file: string, message: string) {
    super(message)
    this.name = 'KeyFileError'
    this.code = code
    this.file = file
  }
}

export type KeyFileKind = 'keystore' | 'plain'

export interface KeyFile {
  privateKey: Uint8Array
  /** EIP-55 checksummed. */
  address: string
  kind: KeyFileKind
}

export interface ReadKeyOptions {
  /** File whose first line is the keystore's password (geth's --password). Needed for keystores. */
  passwordFile?: string
  /** Refuse a key file that group or others may access (default true; never on Windows). Password files always are. */
  checkPermissions?: boolean
}

/** geth's scrypt costs: standard (N = 2^18, p = 1) and --lightkdf (N = 2^12, p = 6). */
export const SCRYPT_STANDARD = { n: 1 << 18, p: 1 } as const
export const SCRYPT_LIGHT = { n: 1 << 12, p: 6 } as const

const SUPPORTED_KDFS = ['scrypt', 'pbkdf2']
const SUPPORTED_CIPHERS = ['aes-128-ctr']

/** Refuses a secret file that group or others may read or write (as OpenSSH does with private keys). */
export async function checkOwnerOnly(file: string, what: string): Promise<void> {
  if (process.platform === 'win32') return
  const mode = (await statFile(file)).mode & 0o777
  if ((mode & 0o077) !== 0) {
    const octal = mode.toString(8).padStart(4, '0')
    throw new KeyFileError(
      'INSECURE_PERMISSIONS',
      file,
      `${what} ${file} has mode ${octal}: group or others may read it; run \`chmod 600 ${file}\``,
    )
  }
}

async function statFile(file: string) {
  try {
    const s = await stat(file)
    if (!s.isFile()) throw new KeyFileError('UNREADABLE', file, `${file} is not a file`)
    return s
  } catch (e) {
    if (e instanceof KeyFileError) throw e
    throw new KeyFileError('UNREADABLE', file, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`)
  }
}

async function readText(file: string): Promise<string> {
  await statFile(file)
  try {
    return await readFile(file, 'utf8')
  } catch (e) {
    throw new KeyFileError('UNREADABLE', file, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`)
  }
}

/** The password in a password file: its first line, as geth reads `--password` files. */
export async function readPasswordFile(file: string): Promise<string> {
  await checkOwnerOnly(file, 'password file')
  return (await readText(file)).split('\n')[0].replace(/\r$/, '')
}

export function addressOf(privateKey: Uint8Array): string {
  return toChecksumAddress(bytesToHex(privateToAddress(privateKey)))
}

/** A 32-byte hex private key (with or without 0x), or undefined when `text` is not one. */
export function parseHexKey(text: string): Uint8Array | undefined {
  const trimmed = text.trim()
  const hex = trimmed.startsWith('0x') || trimmed.startsWith('0X') ? trimmed.slice(2) : trimmed
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined
  const key = hexToBytes(`0x${hex}`)
  return isValidPrivate(key) ? key : undefined
}

interface V3Keystore {
  version: 3
  id?: string
  address?: string
  crypto: {
    cipher: string
    ciphertext: string
    cipherparams: { iv: string }
    kdf: string
    kdfparams: Record<string, unknown>
    mac: string
  }
}

/** The v3 keystore in `text`, or undefined when `text` is not JSON; throws when it is JSON of another kind. */
function parseKeystore(file: string, text: string): V3Keystore | undefined {
  if (!text.trimStart().startsWith('{')) return undefined
  let json: Record<string, unknown>
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new KeyFileError('NOT_A_KEY_FILE', file, `${file} is not a keystore: invalid JSON (${(e as Error).message})`)
  }
  // Go's JSON decoding is case-insensitive: some wallets write "Crypto".
  const crypto = (json.crypto ?? json.Crypto) as Record<string, unknown> | undefined
  if (json.version !== 3) {
    throw new KeyFileError(
      'UNSUPPORTED_KEYSTORE',
      file,
      `${file}: keystore version ${JSON.stringify(json.version)} is not supported (only Web3 Secret Storage v3)`,
    )
  }
  if (crypto === null || typeof crypto !== 'object')
    throw new KeyFileError('NOT_A_KEY_FILE', file, `${file} is not a keystore: no "crypto" section`)
  const missing = ['cipher', 'ciphertext', 'cipherparams', 'kdf', 'kdfparams', 'mac'].filter(
    (k) => crypto[k] === undefined,
  )
  if (missing.length > 0)
    throw new KeyFileError('NOT_A_KEY_FILE', file, `${file} is not a keystore: crypto lacks ${missing.join(', ')}`)
  if (!SUPPORTED_KDFS.includes(String(crypto.kdf)))
    throw new KeyFileError(
      'UNSUPPORTED_KEYSTORE',
      file,
      `${file}: key derivation function ${JSON.stringify(crypto.kdf)} is not supported (scrypt or pbkdf2)`,
    )
  if (!SUPPORTED_CIPHERS.includes(String(crypto.cipher)))
    throw new KeyFileError(
      'UNSUPPORTED_KEYSTORE',
      file,
      `${file}: cipher ${JSON.stringify(crypto.cipher)} is not supported (aes-128-ctr)`,
    )
  return { ...json, crypto } as unknown as V3Keystore
}

async function decrypt(file: string, keystore: V3Keystore, password: string): Promise<Uint8Array> {
  let key: Uint8Array
  try {
    key = await privFromLegacyKeystore(keystore as Parameters<typeof privFromLegacyKeystore>[0], password)
  } catch (e) {
    const message = (e as Error).message
    if (/passphrase|mac/i.test(message))
      throw new KeyFileError('WRONG_PASSWORD', file, `could not decrypt ${file} with the given password`)
    throw new KeyFileError('UNSUPPORTED_KEYSTORE', file, `cannot decrypt keystore ${file}: ${message}`)
  }
  if (keystore.address !== undefined) {
    const stated = normaliseAddress(keystore.address)
    if (stated !== undefined && stated !== addressOf(key).toLowerCase())
      throw new KeyFileError(
        'ADDRESS_MISMATCH',
        file,
        `${file}: the decrypted key's address ${addressOf(key)} is not the file's address 0x${keystore.address}`,
      )
  }
  return key
}

function normaliseAddress(address: string): string | undefined {
  const hex = address.toLowerCase().replace(/^0x/, '')
  return /^[0-9a-f]{40}$/.test(hex) ? `0x${hex}` : undefined
}

/**
 * Reads a key file: a v3 keystore (unlocked with `passwordFile`) or a plain hex private key. Refuses a key file that
 * group or others may access unless `checkPermissions` is false, and such a password file always.
 */
export async function readKeyFile(file: string, opts: ReadKeyOptions = {}): Promise<KeyFile> {
  const checkPermissions = opts.checkPermissions ?? true
  const text = await readText(file)
  if (checkPermissions) await checkOwnerOnly(file, 'key file')
  const keystore = parseKeystore(file, text)
  if (keystore === undefined) {
    const privateKey = parseHexKey(text)
    if (privateKey === undefined)
      throw new KeyFileError(
        'NOT_A_KEY_FILE',
        file,
        `${file} is neither a keystore (Web3 Secret Storage v3 JSON) nor a 32-byte hex private key`,
      )
    return { privateKey, address: addressOf(privateKey), kind: 'plain' }
  }
  if (opts.passwordFile === undefined)
    throw new KeyFileError('PASSWORD_REQUIRED', file, `${file} is a keystore: give its password with --password-file`)
  const password = await readPasswordFile(opts.passwordFile)
  const privateKey = await decrypt(file, keystore, password)
  return { privateKey, address: addressOf(privateKey), kind: 'keystore' }
}

/**
 * The address of a key file without unlocking it when it is a keystore that states its address (as geth writes
 * them); with `passwordFile`, the key is decrypted and the address derived from it.
 */
export async function keyFileAddress(file: string, opts: ReadKeyOptions = {}): Promise<string> {
  const text = await readText(file)
  const keystore = parseKeystore(file, text)
  if (keystore !== undefined && opts.passwordFile === undefined) {
    const stated = keystore.address === undefined ? undefined : normaliseAddress(keystore.address)
    if (stated === undefined)
      throw new KeyFileError(
        'PASSWORD_REQUIRED',
        file,
        `${file} does not state its address: give its password with --password-file`,
      )
    return toChecksumAddress(stated)
  }
  return (await readKeyFile(file, { checkPermissions: false, ...opts })).address
}

export interface KeystoreAccount {
  /** EIP-55 checksummed. */
  address: string
  path: string
}

export interface CreateKeystoreOptions {
  password: string
  /** geth's --lightkdf: scrypt N = 2^12 instead of 2^18 (fast, weaker; for tests and development). */
  lightKdf?: boolean
  /** Import this key instead of generating one. */
  privateKey?: Uint8Array
  now?: Date
}

/** geth's key file name: `UTC--<ISO 8601 time with '-' for ':'>--<address without 0x, lower case>`. */
export function keyFileName(address: string, now: Date): string {
  const iso = now
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.(\d{3})Z$/, '.$1000000Z')
  return `UTC--${iso}--${address.toLowerCase().replace(/^0x/, '')}`
}

/** Encrypts a new (or the given) key into `dir` as a v3 keystore, owner-only, and returns its address and path. */
export async function createKeystore(dir: string, opts: CreateKeystoreOptions): Promise<KeystoreAccount> {
  const privateKey = opts.privateKey ?? secp256k1.utils.randomSecretKey()
  const address = addressOf(privateKey)
  const existing = (await listKeystore(dir)).find((a) => a.address === address)
  if (existing !== undefined)
    throw new KeyFileError('ACCOUNT_EXISTS', existing.path, `account ${address} already exists: ${existing.path}`)
  const scrypt = opts.lightKdf ? SCRYPT_LIGHT : SCRYPT_STANDARD
  const keystore = await privToLegacyKeystore(privateKey, opts.password, { kdf: 'scrypt', n: scrypt.n, p: scrypt.p })
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const path = join(resolve(dir), keyFileName(address, opts.now ?? new Date()))
  // Written whole under a temporary name, then renamed, as geth does: a crash never leaves half a key file.
  const temporary = join(resolve(dir), `.${keyFileName(address, opts.now ?? new Date())}.tmp`)
  await writeFile(temporary, JSON.stringify(keystore), { mode: 0o600, flag: 'wx' })
  await rename(temporary, path)
  return { address, path }
}

/** The keystores in `dir`, sorted by file name (so by creation time), as geth's `account list`. */
export async function listKeystore(dir: string): Promise<KeystoreAccount[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new KeyFileError('UNREADABLE', dir, `cannot read keystore ${dir}: ${(e as NodeJS.ErrnoException).code}`)
  }
  const accounts: KeystoreAccount[] = []
  for (const name of names.sort()) {
    // Skipped like geth: hidden files, editor backups, and anything that is not a v3 keystore stating its address.
    if (name.startsWith('.') || name.endsWith('~')) continue
    const path = join(resolve(dir), name)
    try {
      const keystore = parseKeystore(path, await readText(path))
      const address = keystore?.address === undefined ? undefined : normaliseAddress(keystore.address)
      if (address !== undefined) accounts.push({ address: toChecksumAddress(address), path })
    } catch {
      // not a keystore
    }
  }
  return accounts
}
