import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { removeDir, tempDir } from '../helpers/node.js'
import { IoFileError, loadIoTests, parseIoFile } from './iofile.js'

describe('.io file loader', () => {
  it('reads comments, the speconly marker and request/response pairs in order', () => {
    const test = parseIoFile(
      'eth_gasPrice/get-price',
      [
        '// gets the gas price',
        '// speconly: client response is only checked for schema validity.',
        '',
        '>> {"jsonrpc":"2.0","id":1,"method":"eth_gasPrice"}',
        '<< {"jsonrpc":"2.0","id":1,"result":"0x1"}',
        '// a comment after a message is ignored',
        '  >>   {"jsonrpc":"2.0","id":2,"method":"eth_chainId"}  ',
        '<< {"jsonrpc":"2.0","id":2,"result":"0x2"}',
      ].join('\n'),
    )
    expect(test.method).toBe('eth_gasPrice')
    expect(test.speconly).toBe(true)
    expect(test.comment).toBe('gets the gas price\nspeconly: client response is only checked for schema validity.\n')
    expect(test.messages).toEqual([
      { send: true, data: '{"jsonrpc":"2.0","id":1,"method":"eth_gasPrice"}' },
      { send: false, data: '{"jsonrpc":"2.0","id":1,"result":"0x1"}' },
      { send: true, data: '{"jsonrpc":"2.0","id":2,"method":"eth_chainId"}' },
      { send: false, data: '{"jsonrpc":"2.0","id":2,"result":"0x2"}' },
    ])
  })

  it('is not speconly when the marker is only mentioned, or comes after a message', () => {
    expect(parseIoFile('a/b', '// not speconly: here\n>> {}\n<< {}').speconly).toBe(false)
    expect(parseIoFile('a/b', '>> {}\n// speconly: late\n<< {}').speconly).toBe(false)
  })

  it('rejects invalid JSON and unknown lines with the file and line number', () => {
    expect(() => parseIoFile('a/b', '// c\n>> {"jsonrpc":')).toThrow(new IoFileError('a/b:2: invalid JSON'))
    expect(() => parseIoFile('a/b', '>> {}\n<< {}\nhello')).toThrow(/a\/b:3: invalid test line "hello"/)
  })

  const root = tempDir('polis-conf-io-')
  afterAll(() => removeDir(root))

  it("walks folders depth-first in byte order, as hive's filepath.Walk", () => {
    for (const dir of ['txpool_status', 'eth_sendRawTransaction', 'eth_getBalance', 'Z_upper']) {
      mkdirSync(join(root, dir))
    }
    const write = (path: string) => writeFileSync(join(root, path), '>> {}\n<< {}\n')
    write('txpool_status/get-status.io')
    write('eth_sendRawTransaction/send-legacy.io')
    write('eth_sendRawTransaction/send-blob.io')
    write('eth_getBalance/get-balance.io')
    write('eth_getBalance/get-balance-blockhash.io')
    write('Z_upper/x.io')
    writeFileSync(join(root, 'genesis.json'), '{}')
    expect(loadIoTests(root).map((t) => t.name)).toEqual([
      'Z_upper/x',
      'eth_getBalance/get-balance-blockhash',
      'eth_getBalance/get-balance',
      'eth_sendRawTransaction/send-blob',
      'eth_sendRawTransaction/send-legacy',
      'txpool_status/get-status',
    ])
    expect(loadIoTests(root, /^eth_getBalance\//).map((t) => t.name)).toEqual([
      'eth_getBalance/get-balance-blockhash',
      'eth_getBalance/get-balance',
    ])
  })

  it('loads every fixture of the execution-apis suite', () => {
    const tests = loadIoTests(join(import.meta.dirname, '../fixtures/execution-apis/tests'))
    expect(tests).toHaveLength(232)
    expect(new Set(tests.map((t) => t.method)).size).toBe(41)
    expect(tests.filter((t) => t.speconly)).toHaveLength(22)
    for (const t of tests) {
      expect(t.messages.length % 2, t.name).toBe(0)
      expect(
        t.messages.map((m) => m.send),
        t.name,
      ).toEqual(t.messages.map((_, i) => i % 2 === 0))
    }
  })
})
