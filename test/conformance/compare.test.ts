import { describe, expect, it } from 'vitest'
import { compareResponses, diffJson, formatComparison, type Json, redactErrorMessages } from './compare.js'

const parse = (s: string) => JSON.parse(s) as Json

describe('response comparison (as hive)', () => {
  it('accepts equal responses whatever their key order and number spelling', () => {
    const c = compareResponses(
      parse('{"jsonrpc":"2.0","id":1,"result":{"a":"0x1","b":[1,2.0,{"c":null}]}}'),
      parse('{"result":{"b":[1,2,{"c":null}],"a":"0x1"},"id":1.0,"jsonrpc":"2.0"}'),
    )
    expect(c).toEqual({ equal: true, differences: [], count: 0, redacted: false })
  })

  it('reports the first differing path with expected and actual values', () => {
    const c = compareResponses(
      parse('{"jsonrpc":"2.0","id":1,"result":{"number":"0x1","transactions":[{"hash":"0xaa"}]}}'),
      parse('{"jsonrpc":"2.0","id":1,"result":{"number":"0x1","transactions":[{"hash":"0xab"}]}}'),
    )
    expect(c.equal).toBe(false)
    expect(c.differences).toEqual([
      { path: '$.result.transactions[0].hash', kind: 'changed', expected: '0xaa', actual: '0xab' },
    ])
    expect(formatComparison(c)).toBe('$.result.transactions[0].hash: expected "0xaa", got "0xab"')
  })

  it('counts missing and unexpected keys, array lengths and type changes, id and jsonrpc included', () => {
    const { differences, count } = diffJson(
      parse('{"jsonrpc":"2.0","id":1,"result":{"a":"0x1","b":[1,2],"c":"0x0"}}'),
      parse('{"jsonrpc":"2.0","id":2,"result":{"b":[1],"c":0,"d":true}}'),
    )
    expect(count).toBe(5)
    expect(differences).toEqual([
      { path: '$.id', kind: 'changed', expected: 1, actual: 2 },
      { path: '$.result.a', kind: 'missing', expected: '0x1' },
      { path: '$.result.b[1]', kind: 'missing', expected: 2 },
      { path: '$.result.c', kind: 'changed', expected: '0x0', actual: 0 },
      { path: '$.result.d', kind: 'unexpected', actual: true },
    ])
  })

  it('distinguishes null from a missing key and from an empty array', () => {
    expect(compareResponses(parse('{"result":null}'), parse('{}')).equal).toBe(false)
    expect(compareResponses(parse('{"result":null}'), parse('{"result":[]}')).equal).toBe(false)
    expect(compareResponses(parse('{"result":[]}'), parse('{"result":{}}')).equal).toBe(false)
  })

  it('ignores error messages but not error codes or data', () => {
    const expected = parse('{"jsonrpc":"2.0","id":1,"error":{"code":3,"message":"execution reverted","data":"0x01"}}')
    const sameCode = compareResponses(
      expected,
      parse('{"jsonrpc":"2.0","id":1,"error":{"code":3,"message":"reverted!","data":"0x01"}}'),
    )
    expect(sameCode).toMatchObject({ equal: true, redacted: true })
    const otherCode = compareResponses(
      expected,
      parse('{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"x","data":"0x01"}}'),
    )
    expect(formatComparison(otherCode)).toBe('$.error.code: expected 3, got -32000')
    const noData = compareResponses(expected, parse('{"jsonrpc":"2.0","id":1,"error":{"code":3,"message":"x"}}'))
    expect(formatComparison(noData)).toBe('$.error.data: missing (expected "0x01")')
  })

  it('ignores nested error messages (eth_simulateV1 calls) only where both sides have one', () => {
    const expected = parse('{"result":[{"calls":[{"status":"0x0","error":{"code":-32015,"message":"out of gas"}}]}]}')
    expect(
      compareResponses(
        expected,
        parse('{"result":[{"calls":[{"status":"0x0","error":{"code":-32015,"message":"oog"}}]}]}'),
      ).equal,
    ).toBe(true)
    const noMessage = compareResponses(
      expected,
      parse('{"result":[{"calls":[{"status":"0x0","error":{"code":-32015}}]}]}'),
    )
    expect(formatComparison(noMessage)).toBe('$.result[0].calls[0].error.message: missing (expected "out of gas")')
    // a result where an error was expected is a difference, not something redaction hides
    expect(compareResponses(parse('{"error":{"code":3,"message":"m"}}'), parse('{"result":"0x"}')).count).toBe(2)
  })

  it('redaction copies and leaves its inputs untouched', () => {
    const expected = parse('{"error":{"code":1,"message":"a"}}')
    const actual = parse('{"error":{"code":1,"message":"b"}}')
    expect(redactErrorMessages(expected, actual)).toEqual({
      expected: { error: { code: 1 } },
      actual: { error: { code: 1 } },
      redacted: true,
    })
    expect(expected).toEqual({ error: { code: 1, message: 'a' } })
  })

  it('formats long values shortened and says how many differences it left out', () => {
    const long = `0x${'ab'.repeat(100)}`
    const c = compareResponses(parse(`{"a":"${long}","b":1,"c":2,"d":3}`), parse('{"a":"0x","b":2,"c":3,"d":4}'))
    const text = formatComparison(c, 2, 20)
    expect(text.split('\n')).toEqual([
      `$.a: expected "0xababababababababa…(204 chars), got "0x"`,
      '$.b: expected 1, got 2',
      '… 2 more difference(s)',
    ])
  })

  it('quotes keys that are not identifiers in paths', () => {
    const c = compareResponses(parse('{"result":{"0xAbC":{"0":"x"}}}'), parse('{"result":{"0xAbC":{"0":"y"}}}'))
    expect(c.differences[0].path).toBe('$.result["0xAbC"]["0"]')
  })
})
