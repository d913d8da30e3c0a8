import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readRlpItems } from '../../src/cli/blocks.js'
import { createCrypto } from '../../src/crypto/index.js'
import { createLogger } from '../../src/log/index.js'
import { PolisNode } from '../../src/node.js'
import { attachEthereumRules, openChain } from '../../src/open.js'
import { removeDir, rpc, tempDir } from '../helpers/node.js'

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')
const FIXTURES = resolve(import.meta.dirname, '../fixtures/execution-apis/tests')
const GENESIS = join(FIXTURES, 'genesis.json')
const CHAIN = join(FIXTURES, 'chain.rlp')
const polis = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 })
/** Block 54's hash, the head of headfcu.json. */
const HEAD_HASH = (
  JSON.parse(readFileSync(join(FIXTURES, 'headfcu.json'), 'utf8')) as { params: [{ headBlockHash: string }] }
).params[0].headBlockHash

describe("importing a chain that is not QBFT (Ethereum's rpc-compat test chain)", () => {
  let dir: string

  beforeAll(() => {
    dir = tempDir('polis-ethimport-')
  })
  afterAll(() => removeDir(dir))

  it('imports proof-of-work blocks with ommers, the merge, withdrawals, blob and set-code transactions', async () => {
    const datadir = join(dir, 'data')
    const out = polis('import', '--datadir', datadir, '--genesis', GENESIS, CHAIN)
    expect(out.stderr).not.toMatch(/polis:/)
    expect(out.status).toBe(0)
    expect(out.stdout).toContain('imported 54 blocks (249 txs)')
    // Importing again skips what the chain already has.
    expect(polis('import', '--datadir', datadir, '--genesis', GENESIS, CHAIN).stdout).toContain(
      'skipped 54 already known',
    )

    const node = await PolisNode.start({
      datadir,
      genesisFile: GENESIS,
      rpc: { host: '127.0.0.1', port: 0 },
      log: createLogger('silent'),
    })
    try {
      const call = async (method: string, params: unknown[] = []) => (await rpc(node.rpc.url, method, params)).result
      expect(await call('eth_blockNumber')).toBe('0x36')
      expect(await call('eth_chainId')).toBe('0xc72dd9d5e883e')
      const head = (await call('eth_getBlockByNumber', ['latest', false])) as { hash: string }
      expect(head.hash).toBe(HEAD_HASH)
      for (const tag of ['safe', 'finalized']) {
        expect(((await call('eth_getBlockByNumber', [tag, false])) as { hash: string }).hash).toBe(HEAD_HASH)
      }
      // A block with an ommer (proof of work) and one with a withdrawal.
      expect(((await call('eth_getBlockByNumber', ['0x3', false])) as { uncles: string[] }).uncles).toHaveLength(1)
      expect(
        ((await call('eth_getBlockByNumber', ['0x27', false])) as { withdrawals: unknown[] }).withdrawals,
      ).toHaveLength(1)
    } finally {
      await node.stop()
    }
    await expect(() =>
      PolisNode.start({
        datadir,
        genesisFile: GENESIS,
        rpc: { host: '127.0.0.1', port: 0 },
        p2p: {},
        log: createLogger('silent'),
      }),
    ).rejects.toThrow(/networking is for QBFT chains/)
  }, 180_000)

  it("refuses a block that breaks the chain's rules and keeps every block before it", async () => {
    const datadir = join(dir, 'tampered')
    // Block 20 with another difficulty: its proof-of-work difficulty rule fails.
    const items: Uint8Array[] = []
    for await (const { bytes } of readRlpItems(CHAIN)) items.push(bytes.slice())
    const { RLP } = await import('@ethereumjs/rlp')
    const block = RLP.decode(items[19]) as unknown as Uint8Array[][]
    block[0][7] = Uint8Array.of(0x03, 0x00, 0x00)
    items[19] = RLP.encode(block as never)
    const file = join(dir, 'tampered.rlp')
    writeFileSync(file, Buffer.concat(items))
    const out = polis('import', '--datadir', datadir, '--genesis', GENESIS, file)
    expect(out.status).not.toBe(0)
    expect(out.stderr).toMatch(/block 20: .*difficulty/)
    expect(out.stderr).toContain('keeps every block before it (head 19)')
    const crypto = createCrypto()
    const opened = await openChain(datadir, GENESIS, crypto)
    try {
      attachEthereumRules(opened)
      expect(opened.chain.head.header.number).toBe(19n)
      expect(bytesToHex(opened.chain.genesis.hash())).toBe(
        '0x44fd89d504659cd58f48f4796b77a7e7012cf296a2409afa2f6c3cb99b5b3d99',
      )
    } finally {
      await opened.db.close()
    }
  }, 120_000)
})
