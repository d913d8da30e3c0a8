import { bytesToHex } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { RpcError } from '../../../src/rpc/errors.js'
import {
  address,
  blockParam,
  bool,
  callObject,
  decodeAddress,
  decodeBlockNumber,
  decodeBlockParam,
  decodeData,
  decodeHash,
  decodeQuantity,
  decodeStorageKey,
  decodeUint64,
  filterObject,
  optional,
  ParamError,
  required,
  withParams,
} from '../../../src/rpc/params.js'

function problem(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    if (e instanceof ParamError || e instanceof RpcError) return e.message
    throw e
  }
  throw new Error('expected an error')
}

const HASH = `0x${'ab'.repeat(32)}`

describe('hex quantities', () => {
  it('decodes minimal hex', () => {
    expect(decodeQuantity('0x0')).toBe(0n)
    expect(decodeQuantity('0x1a')).toBe(26n)
    expect(decodeQuantity('0X1A')).toBe(26n)
    expect(decodeQuantity(`0x${'f'.repeat(64)}`)).toBe((1n << 256n) - 1n)
  })

  it("refuses malformed quantities with geth's messages", () => {
    expect(problem(() => decodeQuantity('12'))).toBe('hex string without 0x prefix')
    expect(problem(() => decodeQuantity('0x'))).toBe('hex string "0x"')
    expect(problem(() => decodeQuantity('0x01'))).toBe('hex number with leading zero digits')
    expect(problem(() => decodeQuantity('0xzz'))).toBe('invalid hex string')
    expect(problem(() => decodeQuantity(''))).toBe('empty hex string')
    expect(problem(() => decodeQuantity(`0x1${'0'.repeat(64)}`))).toBe('hex number > 256 bits')
    expect(problem(() => decodeUint64(`0x1${'0'.repeat(16)}`))).toBe('hex number > 64 bits')
    expect(problem(() => decodeQuantity(5))).toBe(
      'json: cannot unmarshal non-string into Go value of type *hexutil.Big',
    )
  })
})

describe('hex data, addresses and hashes', () => {
  it('decodes even-length data; the empty string and 0x are empty', () => {
    expect(bytesToHex(decodeData('0xdeadBEEF'))).toBe('0xdeadbeef')
    expect(decodeData('0x')).toEqual(new Uint8Array())
    expect(decodeData('')).toEqual(new Uint8Array())
  })

  it('refuses odd-length, unprefixed and non-hex data', () => {
    expect(problem(() => decodeData('0xabc'))).toBe('hex string of odd length')
    expect(problem(() => decodeData('abcd'))).toBe('hex string without 0x prefix')
    expect(problem(() => decodeData('0xgg'))).toBe('invalid hex string')
  })

  it('checks the length of addresses and hashes', () => {
    expect(decodeAddress(`0x${'Ab'.repeat(20)}`)).toHaveLength(20)
    expect(problem(() => decodeAddress(`0x${'ab'.repeat(19)}`))).toBe(
      'hex string has length 38, want 40 for common.Address',
    )
    expect(problem(() => decodeHash('0x00'))).toBe('hex string has length 2, want 64 for common.Hash')
  })

  it("decodes storage keys like geth's eth_getStorageAt: short, odd length, left-padded", () => {
    expect(bytesToHex(decodeStorageKey('0x0'))).toBe(`0x${'00'.repeat(32)}`)
    expect(bytesToHex(decodeStorageKey('0x102'))).toBe(`0x${'00'.repeat(30)}0102`)
    expect(problem(() => decodeStorageKey('0xasdf'))).toBe('invalid hex in storage key: "0xasdf"')
    expect(problem(() => decodeStorageKey(`0x0${'0'.repeat(64)}`))).toBe(
      `storage key too long (want at most 32 bytes): "0x0${'0'.repeat(64)}"`,
    )
  })
})

describe('block parameters', () => {
  it('parses tags and numbers', () => {
    for (const tag of ['latest', 'pending', 'safe', 'finalized', 'earliest']) {
      expect(decodeBlockNumber(tag)).toEqual({ kind: 'tag', tag })
    }
    expect(decodeBlockNumber('0x2d')).toEqual({ kind: 'number', number: 45n })
    expect(problem(() => decodeBlockNumber('45'))).toBe('hex string without 0x prefix')
    expect(problem(() => decodeBlockNumber('newest'))).toBe('hex string without 0x prefix')
    expect(problem(() => decodeBlockNumber(45))).toBe('hex string without 0x prefix')
    expect(problem(() => decodeBlockNumber('0x8000000000000000'))).toBe('block number larger than int64')
  })

  it('parses EIP-1898 objects and bare 32-byte hashes', () => {
    expect(decodeBlockParam({ blockNumber: '0x1' })).toEqual({ kind: 'number', number: 1n })
    expect(decodeBlockParam({ blockNumber: 'safe' })).toEqual({ kind: 'tag', tag: 'safe' })
    const byHash = decodeBlockParam({ blockHash: HASH, requireCanonical: true })
    expect(byHash.kind === 'hash' && bytesToHex(byHash.hash) === HASH && byHash.requireCanonical).toBe(true)
    const bare = decodeBlockParam(HASH)
    expect(bare.kind === 'hash' && !bare.requireCanonical).toBe(true)
  })

  it('refuses objects with both or neither of blockHash and blockNumber', () => {
    expect(problem(() => decodeBlockParam({ blockHash: HASH, blockNumber: '0x1' }))).toBe(
      'cannot specify both BlockHash and BlockNumber, choose one or the other',
    )
    expect(problem(() => decodeBlockParam({}))).toBe('either blockHash or blockNumber must be specified')
  })
})

describe('withParams', () => {
  const method = withParams([required(address), optional(blockParam), optional(bool)], (a, b, full) => ({ a, b, full }))

  it('fills omitted and null optional arguments with undefined', async () => {
    const result = (await method([`0x${'11'.repeat(20)}`, null])) as { b: unknown; full: unknown }
    expect(result.b).toBeUndefined()
    expect(result.full).toBeUndefined()
  })

  it('names the argument and the problem in -32602 errors', () => {
    const error = (params: unknown[]) => problem(() => method(params))
    expect(error([])).toBe('missing value for required argument 0')
    expect(error([null])).toBe('missing value for required argument 0')
    expect(error(['0x11'])).toBe('invalid argument 0: hex string has length 2, want 40 for common.Address')
    expect(error([`0x${'11'.repeat(20)}`, 'newest'])).toBe('invalid argument 1: hex string without 0x prefix')
    expect(error([`0x${'11'.repeat(20)}`, 'latest', 'yes'])).toBe(
      'invalid argument 2: json: cannot unmarshal string into Go value of type bool',
    )
    expect(error([`0x${'11'.repeat(20)}`, 'latest', true, 1])).toBe('too many arguments, want at most 3')
  })

  it('throws RpcErrors with code -32602', () => {
    try {
      method([])
    } catch (e) {
      expect((e as RpcError).code).toBe(-32602)
    }
  })
})

describe('call objects', () => {
  it('decodes every TransactionArgs field and ignores unknown ones', () => {
    const parsed = callObject.parse({
      from: `0x${'01'.repeat(20)}`,
      to: null,
      gas: '0x5208',
      maxFeePerGas: '0x10',
      value: '0x1',
      input: '0x1234',
      accessList: [{ address: `0x${'02'.repeat(20)}`, storageKeys: [HASH] }],
      somethingElse: 1,
    })
    expect(parsed.to).toBeUndefined()
    expect(parsed.gas).toBe(21000n)
    expect(parsed.value).toBe(1n)
    expect(bytesToHex(parsed.input as Uint8Array)).toBe('0x1234')
    expect(parsed.accessList?.[0].storageKeys).toHaveLength(1)
    expect('somethingElse' in parsed).toBe(false)
  })

  it('names the bad field', () => {
    const method = withParams([required(callObject)], () => 0)
    expect(problem(() => method([{ from: '0x12' }]))).toBe(
      'invalid argument 0: from: hex string has length 2, want 40 for common.Address',
    )
    expect(problem(() => method(['0x12']))).toBe(
      'invalid argument 0: json: cannot unmarshal string into Go value of type ethapi.TransactionArgs',
    )
  })
})

describe('log filters', () => {
  const method = withParams([required(filterObject)], (f) => f)
  const filter = (f: unknown) => method([f]) as ReturnType<typeof filterObject.parse>

  it('decodes one address or a list, and topics with null and nested-null wildcards', () => {
    const single = filter({ address: `0x${'aa'.repeat(20)}`, topics: [HASH, null, [HASH, null], []] })
    expect(single.address).toHaveLength(1)
    expect(single.topics).toEqual([[decodeHash(HASH)], undefined, undefined, undefined])
    expect(filter({ address: [`0x${'aa'.repeat(20)}`, `0x${'bb'.repeat(20)}`] }).address).toHaveLength(2)
  })

  it('refuses blockHash with a range, more than 4 topics and bad addresses', () => {
    expect(problem(() => filter({ blockHash: HASH, fromBlock: '0x1' }))).toBe(
      'invalid argument 0: cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other',
    )
    expect(problem(() => filter({ topics: [null, null, null, null, null] }))).toBe(
      'invalid argument 0: topics: exceed max topics',
    )
    expect(problem(() => filter({ address: ['0x12'] }))).toBe(
      'invalid argument 0: address: invalid address at index 0: hex string has length 2, want 40 for common.Address',
    )
    expect(problem(() => filter({ topics: [5] }))).toBe('invalid argument 0: topics: invalid topic(s)')
  })
})
