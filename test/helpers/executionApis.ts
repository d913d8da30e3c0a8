/** Reading Ethereum's execution-apis rpc-compat fixtures (test/fixtures/execution-apis): .io files, chain, genesis. */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { createCrypto } from '../../src/crypto/index.js'
import { parseGenesis } from '../../src/genesis/index.js'

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/execution-apis/', import.meta.url))
const TESTS_DIR = `${FIXTURES_DIR}tests/`

/** One request and its expected response from an .io file. */
export interface IoExchange {
  request: { jsonrpc: '2.0'; id: number; method: string; params?: unknown[] }
  response: { jsonrpc: '2.0'; id: number; result?: unknown; error?: { code: number; message: string } }
}

export interface IoFile {
  /** `// speconly`: the result is only checked against the OpenRPC schema. */
  specOnly: boolean
  exchanges: IoExchange[]
}

/** Parses tests/<method>/<name>.io: `>>` request lines, each followed by its `<<` response line. */
export function readIoFile(method: string, name: string): IoFile {
  const lines = readFileSync(`${TESTS_DIR}${method}/${name}.io`, 'utf8').split('\n')
  const exchanges: IoExchange[] = []
  let request: IoExchange['request'] | undefined
  let specOnly = false
  for (const line of lines) {
    if (line.startsWith('// speconly')) specOnly = true
    else if (line.startsWith('>> ')) request = JSON.parse(line.slice(3))
    else if (line.startsWith('<< ')) {
      if (request === undefined) throw new Error(`${method}/${name}.io: response without request`)
      exchanges.push({ request, response: JSON.parse(line.slice(3)) })
      request = undefined
    }
  }
  return { specOnly, exchanges }
}

/** The geth genesis file the fixtures' chain starts from. */
export function readFixtureGenesis(): Record<string, unknown> & { config: Record<string, unknown> } {
  return JSON.parse(readFileSync(`${TESTS_DIR}genesis.json`, 'utf8'))
}

/** The Common of the fixture genesis, as the node builds it (src/genesis: kind 'ethereum', BPO schedules). */
export function fixtureCommon(): Common {
  // The node's own genesis parsing (kind 'ethereum'), so that tests see the Common the node runs with.
  return parseGenesis(readFixtureGenesis(), createCrypto().customCrypto).common
}

/** The RLP of every block in tests/chain.rlp (blocks 1 … head; the genesis is not in it). */
export function readFixtureChain(): Uint8Array[] {
  let rest: Uint8Array = readFileSync(`${TESTS_DIR}chain.rlp`)
  const blocks: Uint8Array[] = []
  while (rest.length > 0 && blocks.length < 100_000) {
    const { remainder } = RLP.decode(rest, true)
    blocks.push(rest.subarray(0, rest.length - remainder.length))
    rest = remainder
  }
  return blocks
}

/** The OpenRPC document of execution-apis, with its component schemas. */
export function readOpenRpc(): {
  methods: { name: string; result: { schema: unknown } }[]
  components: { schemas: Record<string, unknown> }
} {
  return JSON.parse(readFileSync(`${FIXTURES_DIR}openrpc.refs.json`, 'utf8'))
}
