/**
 * Parameter decoding with geth's rules and messages (hexutil, common.Address/Hash, rpc.BlockNumberOrHash,
 * TransactionArgs, FilterCriteria), so that a bad argument gets -32602 "invalid argument N: <problem>".
 */
import { z } from 'zod'
import type { RpcMethod } from './dispatcher.js'
import { invalidParams, type RpcError } from './errors.js'

/** A problem with one argument; withParams turns it into -32602 "invalid argument N: message". */
export class ParamError extends Error {
  override readonly name = 'ParamError'
}

const MAX_INT64 = (1n << 63n) - 1n

function nonString(type: string): ParamError {
  return new ParamError(`json: cannot unmarshal non-string into Go value of type ${type}`)
}

function has0x(s: string): boolean {
  return s.length >= 2 && s[0] === '0' && (s[1] === 'x' || s[1] === 'X')
}

const HEX_DIGITS = /^[0-9a-fA-F]*$/

/** Checks a `0x` quantity's text like hexutil.checkNumberText and returns its digits. */
function quantityDigits(input: string, maxDigits: number, rangeError: string): string {
  if (input.length === 0) throw new ParamError('empty hex string')
  if (!has0x(input)) throw new ParamError('hex string without 0x prefix')
  const digits = input.slice(2)
  if (digits.length === 0) throw new ParamError('hex string "0x"')
  if (digits.length > 1 && digits[0] === '0') throw new ParamError('hex number with leading zero digits')
  if (digits.length > maxDigits) throw new ParamError(rangeError)
  if (!HEX_DIGITS.test(digits)) throw new ParamError('invalid hex string')
  return digits
}

/** hexutil.Big: a minimal `0x` quantity of at most 256 bits. */
export function decodeQuantity(value: unknown): bigint {
  if (typeof value !== 'string') throw nonString('*hexutil.Big')
  return BigInt(`0x${quantityDigits(value, 64, 'hex number > 256 bits')}`)
}

/** hexutil.Uint64: a minimal `0x` quantity of at most 64 bits. */
export function decodeUint64(value: unknown): bigint {
  if (typeof value !== 'string') throw nonString('hexutil.Uint64')
  return BigInt(`0x${quantityDigits(value, 16, 'hex number > 64 bits')}`)
}

/** Text of even-length hex after `0x`, checked like hexutil.checkText. */
function hexDigits(input: string): string {
  if (input.length === 0) return ''
  if (!has0x(input)) throw new ParamError('hex string without 0x prefix')
  const digits = input.slice(2)
  if (digits.length % 2 !== 0) throw new ParamError('hex string of odd length')
  return digits
}

function digitsToBytes(digits: string): Uint8Array {
  if (!HEX_DIGITS.test(digits)) throw new ParamError('invalid hex string')
  const out = new Uint8Array(digits.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16)
  return out
}

/** hexutil.Bytes: `0x`-prefixed even-length hex; the empty string is empty data. */
export function decodeData(value: unknown): Uint8Array {
  if (typeof value !== 'string') throw nonString('hexutil.Bytes')
  return digitsToBytes(hexDigits(value))
}

function decodeFixed(value: unknown, length: number, type: string): Uint8Array {
  if (typeof value !== 'string') throw nonString(type)
  const digits = hexDigits(value)
  if (digits.length !== length * 2) {
    throw new ParamError(`hex string has length ${digits.length}, want ${length * 2} for ${type}`)
  }
  return digitsToBytes(digits)
}

/** A 20-byte address (checksums are not enforced, as in geth). */
export const decodeAddress = (value: unknown): Uint8Array => decodeFixed(value, 20, 'common.Address')
/** A 32-byte hash. */
export const decodeHash = (value: unknown): Uint8Array => decodeFixed(value, 32, 'common.Hash')

/** eth_getStorageAt's slot: up to 32 bytes of hex, odd length allowed, left-padded (geth's decodeHash). */
export function decodeStorageKey(input: string): Uint8Array {
  let digits = has0x(input) ? input.slice(2) : input
  if (digits.length % 2 !== 0) digits = `0${digits}`
  if (!HEX_DIGITS.test(digits)) throw invalidParams(`invalid hex in storage key: ${JSON.stringify(input)}`)
  if (digits.length > 64) throw invalidParams(`storage key too long (want at most 32 bytes): ${JSON.stringify(input)}`)
  return digitsToBytes(digits.padStart(64, '0'))
}

export type BlockTag = 'latest' | 'pending' | 'safe' | 'finalized' | 'earliest'
const BLOCK_TAGS: readonly string[] = ['latest', 'pending', 'safe', 'finalized', 'earliest']

/** A block by tag or number (rpc.BlockNumber). */
export type BlockNumberParam = { kind: 'tag'; tag: BlockTag } | { kind: 'number'; number: bigint }
/** A block by tag, number or hash (rpc.BlockNumberOrHash, EIP-1898). */
export type BlockParam = BlockNumberParam | { kind: 'hash'; hash: Uint8Array; requireCanonical: boolean }

export const LATEST: BlockNumberParam = { kind: 'tag', tag: 'latest' }

/** rpc.BlockNumber: a tag or a hex number up to int64. */
export function decodeBlockNumber(value: unknown): BlockNumberParam {
  // geth strips quotes from whatever JSON it gets, so a bare number fails on its missing 0x prefix.
  const input = typeof value === 'string' ? value : JSON.stringify(value)
  if (BLOCK_TAGS.includes(input)) return { kind: 'tag', tag: input as BlockTag }
  const number = BigInt(`0x${quantityDigits(input, 16, 'hex number > 64 bits')}`)
  if (number > MAX_INT64) throw new ParamError('block number larger than int64')
  return { kind: 'number', number }
}

/** rpc.BlockNumberOrHash: a tag, a hex number, a 32-byte hash, or {blockHash, requireCanonical?} | {blockNumber}. */
export function decodeBlockParam(value: unknown): BlockParam {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { blockHash, blockNumber, requireCanonical } = value as Record<string, unknown>
    const hasHash = blockHash !== undefined && blockHash !== null
    const hasNumber = blockNumber !== undefined && blockNumber !== null
    if (hasHash && hasNumber) {
      throw new ParamError('cannot specify both BlockHash and BlockNumber, choose one or the other')
    }
    if (hasHash) {
      if (requireCanonical !== undefined && requireCanonical !== null && typeof requireCanonical !== 'boolean') {
        throw new ParamError('json: cannot unmarshal non-bool into Go struct field .requireCanonical of type bool')
      }
      return { kind: 'hash', hash: decodeHash(blockHash), requireCanonical: requireCanonical === true }
    }
    if (hasNumber) return decodeBlockNumber(blockNumber)
    throw new ParamError('either blockHash or blockNumber must be specified')
  }
  if (typeof value !== 'string') throw nonString('string')
  if (value.length === 66) return { kind: 'hash', hash: decodeHash(value), requireCanonical: false }
  return decodeBlockNumber(value)
}

/** A zod schema that runs a decoder and reports its ParamError as the issue message. */
export function decoded<T>(decode: (value: unknown) => T): z.ZodType<T> {
  return z.unknown().transform((value, ctx) => {
    try {
      return decode(value)
    } catch (e) {
      if (!(e instanceof ParamError)) throw e
      ctx.addIssue({ code: 'custom', message: e.message })
      return z.NEVER
    }
  }) as unknown as z.ZodType<T>
}

/** An object field that may be absent or null (a Go pointer field). */
function field<T>(decode: (value: unknown) => T): z.ZodOptional<z.ZodType<T | undefined>> {
  return decoded((value) => (value === null || value === undefined ? undefined : decode(value))).optional()
}

export const quantity = decoded(decodeQuantity)
export const uint64 = decoded(decodeUint64)
export const data = decoded(decodeData)
export const address = decoded(decodeAddress)
export const hash = decoded(decodeHash)
export const blockNumber = decoded(decodeBlockNumber)
export const blockParam = decoded(decodeBlockParam)
export const bool = z.boolean({
  error: (issue) => `json: cannot unmarshal ${jsonType(issue.input)} into Go value of type bool`,
})
export const string = z.string({
  error: (issue) => `json: cannot unmarshal ${jsonType(issue.input)} into Go value of type string`,
})

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array'
  if (value === null) return 'null'
  return typeof value === 'bigint' ? 'number' : typeof value
}

const accessList = z.array(
  z.object(
    { address: decoded(decodeAddress), storageKeys: z.array(decoded(decodeHash)).nullish() },
    { error: 'access list entries must be objects' },
  ),
  { error: 'accessList must be an array' },
)

const authorization = z.object({
  chainId: decoded(decodeQuantity),
  address: decoded(decodeAddress),
  nonce: decoded(decodeUint64),
  yParity: decoded(decodeUint64),
  r: decoded(decodeQuantity),
  s: decoded(decodeQuantity),
})

/** geth's TransactionArgs, as eth_call and eth_estimateGas take it; unknown fields are ignored. */
export const callObject = z.object(
  {
    from: field(decodeAddress),
    to: field(decodeAddress),
    gas: field(decodeUint64),
    gasPrice: field(decodeQuantity),
    maxFeePerGas: field(decodeQuantity),
    maxPriorityFeePerGas: field(decodeQuantity),
    maxFeePerBlobGas: field(decodeQuantity),
    value: field(decodeQuantity),
    nonce: field(decodeUint64),
    data: field(decodeData),
    input: field(decodeData),
    accessList: accessList.nullish(),
    chainId: field(decodeQuantity),
    blobVersionedHashes: z.array(decoded(decodeHash)).nullish(),
    authorizationList: z.array(authorization).nullish(),
  },
  { error: (issue) => `json: cannot unmarshal ${jsonType(issue.input)} into Go value of type ethapi.TransactionArgs` },
)
export type CallObject = z.output<typeof callObject>

/** geth's limits on a log filter (filters.maxTopics, filters.maxAddresses). */
export const MAX_TOPICS = 4
export const MAX_ADDRESSES = 1000

/** One topic position: undefined matches anything, else any of the listed topics. */
export type TopicFilter = Uint8Array[] | undefined

function decodeTopics(value: unknown): TopicFilter[] {
  if (!Array.isArray(value)) throw new ParamError('invalid topic(s)')
  if (value.length > MAX_TOPICS) throw new ParamError('exceed max topics')
  return value.map((position): TopicFilter => {
    if (position === null) return undefined
    if (typeof position === 'string') return [decodeTopic(position)]
    if (!Array.isArray(position)) throw new ParamError('invalid topic(s)')
    // An empty list or a null inside one matches anything at this position.
    if (position.length === 0 || position.includes(null)) return undefined
    return position.map(decodeTopic)
  })
}

function decodeTopic(value: unknown): Uint8Array {
  if (typeof value !== 'string') throw new ParamError('invalid topic(s)')
  return decodeHash(value)
}

function decodeAddresses(value: unknown): Uint8Array[] {
  if (!Array.isArray(value)) {
    try {
      return [decodeAddress(value)]
    } catch (e) {
      throw new ParamError(`invalid address: ${(e as Error).message}`)
    }
  }
  if (value.length > MAX_ADDRESSES) throw new ParamError('exceed max addresses')
  return value.map((item, index) => {
    try {
      return decodeAddress(item)
    } catch (e) {
      throw new ParamError(`invalid address at index ${index}: ${(e as Error).message}`)
    }
  })
}

/** geth's FilterCriteria: a block range or one block hash, addresses, and topics by position. */
export const filterObject = z
  .object(
    {
      fromBlock: field(decodeBlockNumber),
      toBlock: field(decodeBlockNumber),
      blockHash: field(decodeHash),
      address: field(decodeAddresses),
      topics: field(decodeTopics),
    },
    {
      error: (issue) => `json: cannot unmarshal ${jsonType(issue.input)} into Go value of type filters.FilterCriteria`,
    },
  )
  .superRefine((filter, ctx) => {
    if (filter.blockHash !== undefined && (filter.fromBlock !== undefined || filter.toBlock !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other',
      })
    }
  })
export type FilterObject = z.output<typeof filterObject>

/** One positional parameter: its schema and whether it may be omitted (or null). */
export interface Param<T> {
  readonly schema: z.ZodType<T>
  readonly required: boolean
}

export function required<T>(schema: z.ZodType<T>): Param<T> {
  return { schema, required: true }
}

export function optional<T>(schema: z.ZodType<T>): Param<T | undefined> {
  return { schema, required: false }
}

type Args<P extends readonly Param<unknown>[]> = { [K in keyof P]: P[K] extends Param<infer T> ? T : never }

function issueMessage(error: z.ZodError): string {
  const issue = error.issues[0]
  if (issue === undefined) return 'invalid value'
  return issue.path.length === 0 ? issue.message : `${issue.path.map(String).join('.')}: ${issue.message}`
}

/** Wraps a handler with positional parameter checks, with geth's messages for missing, extra and bad arguments. */
export function withParams<const P extends readonly Param<unknown>[]>(
  params: P,
  handler: (...args: Args<P>) => unknown,
): RpcMethod {
  return (raw) => {
    if (raw.length > params.length) throw invalidParams(`too many arguments, want at most ${params.length}`)
    const args = params.map((param, index) => {
      const value = raw[index]
      if (value === undefined || value === null) {
        if (param.required) throw invalidParams(`missing value for required argument ${index}`)
        return undefined
      }
      const result = param.schema.safeParse(value)
      if (!result.success) throw invalidParams(`invalid argument ${index}: ${issueMessage(result.error)}`)
      return result.data
    })
    return handler(...(args as Args<P>))
  }
}

/** A -32602 error about an argument that decoded but makes no sense (e.g. a reversed range). */
export function argumentError(index: number, message: string): RpcError {
  return invalidParams(`invalid argument ${index}: ${message}`)
}
