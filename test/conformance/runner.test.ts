import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseIoFile } from './iofile.js'
import { formatTable, runIoTest, tallyByMethod } from './runner.js'
import { loadResultSchemas } from './schema.js'

const schemas = loadResultSchemas(join(import.meta.dirname, '../fixtures/execution-apis/openrpc.refs.json'))

// A JSON-RPC endpoint answering from a table, so that the runner's own logic is what is under test.
const answers: Record<string, string> = {
  eth_blockNumber: '{"jsonrpc":"2.0","id":1,"result":"0x36"}',
  eth_chainId: '{"jsonrpc":"2.0","id":1,"result":"0xc72dd9d5e883e"}',
  eth_gasPrice: '{"jsonrpc":"2.0","id":1,"result":"0x05"}',
  eth_call: '{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"boom"}}',
  eth_syncing: 'not json',
}
let server: Server
let url: string

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => {
      body += d
    })
    req.on('end', () => {
      const { method } = JSON.parse(body) as { method: string }
      res.setHeader('content-type', 'application/json')
      res.end(`${answers[method] ?? '{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}}'}\n`)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const address = server.address()
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})
afterAll(async () => {
  await new Promise((r) => server.close(r))
})

const io = (name: string, ...lines: string[]) => parseIoFile(name, lines.join('\n'))

describe('.io runner', () => {
  it('passes an exact match and fails a different value with its path', async () => {
    const ok = await runIoTest(
      url,
      io(
        'eth_blockNumber/a',
        '>> {"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}',
        '<< {"jsonrpc":"2.0","id":1,"result":"0x36"}',
      ),
      schemas,
    )
    expect(ok).toMatchObject({ name: 'eth_blockNumber/a', method: 'eth_blockNumber', passed: true })
    const bad = await runIoTest(
      url,
      io(
        'eth_blockNumber/b',
        '>> {"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}',
        '<< {"jsonrpc":"2.0","id":1,"result":"0x37"}',
      ),
      schemas,
    )
    expect(bad).toMatchObject({ passed: false, reason: '$.result: expected "0x37", got "0x36"' })
  })

  it('checks every exchange of a multi-message test and names the failing one', async () => {
    const t = io(
      'eth_chainId/multi',
      '>> {"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}',
      '<< {"jsonrpc":"2.0","id":1,"result":"0x36"}',
      '>> {"jsonrpc":"2.0","id":1,"method":"eth_chainId"}',
      '<< {"jsonrpc":"2.0","id":1,"result":"0x1"}',
    )
    expect((await runIoTest(url, t, schemas)).reason).toBe('message 4: $.result: expected "0x1", got "0xc72dd9d5e883e"')
  })

  it('speconly: validates a result against the schema only, but compares an error in full', async () => {
    const spec = (method: string, expected: string) =>
      io(
        `${method}/s`,
        '// speconly: schema only',
        `>> {"jsonrpc":"2.0","id":1,"method":"${method}"}`,
        `<< ${expected}`,
      )
    const valid = await runIoTest(url, spec('eth_chainId', '{"jsonrpc":"2.0","id":1,"result":"0x1"}'), schemas)
    expect(valid.passed).toBe(true)
    const invalid = await runIoTest(url, spec('eth_gasPrice', '{"jsonrpc":"2.0","id":1,"result":"0x1"}'), schemas)
    expect(invalid.reason).toMatch(/^result does not match the eth_gasPrice schema: \/ must match pattern/)
    const error = await runIoTest(url, spec('eth_call', '{"jsonrpc":"2.0","id":1,"result":"0x"}'), schemas)
    expect(error.reason).toBe(
      '$.result: missing (expected "0x")\n$.error: unexpected (got {"code":-32000,"message":"boom"})',
    )
    const sameError = await runIoTest(
      url,
      spec('eth_call', '{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"other words"}}'),
      schemas,
    )
    expect(sameError.passed).toBe(true)
  })

  it('fails on an invalid JSON response, a request without an expected response, or a refused connection', async () => {
    const syncing = io(
      'eth_syncing/x',
      '>> {"jsonrpc":"2.0","id":1,"method":"eth_syncing"}',
      '<< {"jsonrpc":"2.0","id":1,"result":false}',
    )
    expect((await runIoTest(url, syncing, schemas)).reason).toBe('invalid JSON response: not json')
    const dangling = io('eth_blockNumber/d', '>> {"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')
    expect((await runIoTest(url, dangling, schemas)).reason).toBe('invalid test: unhandled response')
    const refused = await runIoTest('http://127.0.0.1:1', syncing, schemas)
    expect(refused.reason).toMatch(/^request failed: /)
  })

  it('tallies outcomes per method and prints the table with the total', () => {
    const outcomes = [
      { name: 'a/1', method: 'a', passed: true, ms: 1 },
      { name: 'a/2', method: 'a', passed: false, reason: 'x', ms: 1 },
      { name: 'b/1', method: 'b', passed: true, ms: 1 },
    ]
    expect(tallyByMethod(outcomes)).toEqual([
      { method: 'a', passed: 1, failed: 1 },
      { method: 'b', passed: 1, failed: 0 },
    ])
    const table = formatTable(outcomes).split('\n')
    expect(table[0]).toMatch(/^method\s+passed\s+failed$/)
    expect(table[2]).toMatch(/^a\s+1\s+1$/)
    expect(table.at(-1)).toMatch(/^total \(3 tests\)\s+2\s+1$/)
  })
})
