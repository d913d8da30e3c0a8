import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'
import { createPublicClient, createWalletClient, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readRlpItems } from '../../src/cli/blocks.js'
import { decodeExtraData, encodeExtraData } from '../../src/consensus/qbft/index.js'
import { createCrypto } from '../../src/crypto/index.js'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE } from '../../src/genesis/index.js'
import { openChain } from '../../src/open.js'
import { devChain, removeDir, startNode, tempDir } from '../helpers/node.js'

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')
const polis = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 })

/** Head number, head hash and state root of a data directory (opened after the CLI has closed it). */
async function headOf(datadir: string): Promise<{ number: bigint; hash: string; stateRoot: string }> {
  const { chain, db } = await openChain(datadir, DEV_GENESIS_FILE, createCrypto())
  try {
    const head = chain.head
    return { number: head.header.number, hash: bytesToHex(head.hash()), stateRoot: bytesToHex(head.header.stateRoot) }
  } finally {
    await db.close()
  }
}

describe('polis export / polis import', () => {
  let dir: string
  const source = () => join(dir, 'source')
  const file = () => join(dir, 'chain.rlp')

  beforeAll(async () => {
    dir = tempDir('polis-export-')
    // A dev chain with some transfers in it, stopped so that the CLI can open its data directory.
    const node = await startNode({ datadir: source() })
    try {
      const url = node.rpc.url
      const client = createPublicClient({ chain: devChain(url), transport: http(url), pollingInterval: 100 })
      const senders = DEV_ACCOUNTS.slice(0, 3).map((a) => privateKeyToAccount(a.privateKey))
      const hashes: `0x${string}`[] = []
      for (let round = 0; round < 3; round++) {
        for (const account of senders) {
          const wallet = createWalletClient({ account, chain: devChain(url), transport: http(url) })
          hashes.push(await wallet.sendTransaction({ to: DEV_ACCOUNTS[9].address, value: parseEther('0.01') }))
        }
        await client.waitForTransactionReceipt({ hash: hashes[hashes.length - 1], timeout: 20_000 })
      }
      for (const hash of hashes) await client.waitForTransactionReceipt({ hash, timeout: 20_000 })
    } finally {
      await node.stop()
    }
  })

  afterAll(() => {
    removeDir(dir)
  })

  it('round-trips the chain into a fresh data directory: same head hash and state root', async () => {
    const exported = polis('export', '--datadir', source(), file())
    expect(exported.status, exported.stderr).toBe(0)
    const imported = polis('import', '--datadir', join(dir, 'copy'), file())
    expect(imported.status, imported.stderr).toBe(0)
    const want = await headOf(source())
    expect(want.number).toBeGreaterThan(2n)
    expect(imported.stdout).toContain(
      `imported ${want.number} blocks (9 txs), skipped 1 already known; head ${want.number}`,
    )
    expect(await headOf(join(dir, 'copy'))).toEqual(want)
    // Again: everything is known, nothing changes.
    const again = polis('import', '--datadir', join(dir, 'copy'), file())
    expect(again.status, again.stderr).toBe(0)
    expect(again.stdout).toContain(`imported 0 blocks (0 txs), skipped ${want.number + 1n} already known`)
  })

  it('exports a range, and refuses one beyond the head', async () => {
    const part = join(dir, 'part.rlp')
    const ok = polis('export', '--datadir', source(), part, '--from', '1', '--to', '2')
    expect(ok.status, ok.stderr).toBe(0)
    const items: Uint8Array[] = []
    for await (const { bytes } of readRlpItems(part)) items.push(bytes)
    expect(items).toHaveLength(2)
    const beyond = polis('export', '--datadir', source(), part, '--to', '100000')
    expect(beyond.status).toBe(1)
    expect(beyond.stderr).toMatch(/block 100000 is beyond the head/)
  })

  it('stops at a block with a forged seal, naming it, and keeps every block before it', async () => {
    const items: Uint8Array[] = []
    for await (const { bytes } of readRlpItems(file())) items.push(bytes.slice())
    // Corrupt the committed seal of block 2: flip a byte of its signature.
    const block = RLP.decode(items[2]) as unknown as Uint8Array[][]
    const extra = decodeExtraData(block[0][12])
    const seal = extra.committedSeals[0].slice()
    seal[10] ^= 0xff
    block[0][12] = encodeExtraData({ ...extra, committedSeals: [seal] })
    items[2] = RLP.encode(block as unknown as Uint8Array[])
    const forged = join(dir, 'forged.rlp')
    writeFileSync(forged, Buffer.concat(items))
    const target = join(dir, 'forged-copy')
    const result = polis('import', '--datadir', target, forged)
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/^polis: block 2: .*seal/m)
    expect(result.stderr).toMatch(/keeps every block before it \(head 1\)/)
    expect((await headOf(target)).number).toBe(1n)
  })

  it('refuses a file that is not a block file, and a truncated one', () => {
    const junk = join(dir, 'junk.rlp')
    writeFileSync(junk, 'not a block file\n')
    const notBlocks = polis('import', '--datadir', join(dir, 'junk-copy'), junk)
    expect(notBlocks.status).toBe(1)
    expect(notBlocks.stderr).toMatch(/not an RLP list/)
    const whole = readFileSync(file())
    const truncated = join(dir, 'truncated.rlp')
    writeFileSync(truncated, whole.subarray(0, whole.length - 10))
    const cut = polis('import', '--datadir', join(dir, 'cut-copy'), truncated)
    expect(cut.status).toBe(1)
    expect(cut.stderr).toMatch(/the file ends inside a block/)
  })
})
