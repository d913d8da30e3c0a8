import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt, bytesToHex, bytesToInt, hexToBytes } from '@ethereumjs/util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Chain } from '../../src/chain/index.js'
import { decodeExtraData, encodeExtraData, encodeSealedBlock } from '../../src/consensus/qbft/index.js'
import { createCrypto } from '../../src/crypto/index.js'
import type { Database } from '../../src/db/index.js'
import { DEV_GENESIS_FILE, DEV_VALIDATOR } from '../../src/genesis/index.js'
import { createLogger } from '../../src/log/index.js'
import { Network, peerIdOfPrivateKey } from '../../src/net/index.js'
import { PolisNode } from '../../src/node.js'
import { openChain } from '../../src/open.js'
import { BLOCKS_PROTOCOL } from '../../src/sync/index.js'
import { buildDevChain, senderKeys } from '../helpers/chain.js'
import { freePort, removeDir, tempDir, waitFor } from '../helpers/node.js'

const crypto = createCrypto()
// Enough blocks for many range requests, so that the liar is asked for some whatever the order peers connect in.
const BLOCKS = 600
const CHECKED = 40n

/** A JSON-RPC call to an in-process node. */
async function rpc<T>(node: PolisNode, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(node.rpc.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await res.json()) as { result: T }
  return body.result
}

describe('catching up from peers', () => {
  let dir: string
  let genesisFile: string
  let source: { chain: Chain; db: Database }
  let honest: PolisNode | undefined
  let follower: PolisNode | undefined
  let liar: Network | undefined

  beforeAll(async () => {
    dir = tempDir('polis-sync-')
    const keys = senderKeys(20)
    const genesis = JSON.parse(readFileSync(DEV_GENESIS_FILE, 'utf8'))
    for (const key of keys)
      genesis.alloc[bytesToHex(crypto.privateKeyToAddress(key))] = { balance: '0x3635c9adc5dea00000' }
    genesisFile = join(dir, 'genesis.json')
    writeFileSync(genesisFile, JSON.stringify(genesis))
    await buildDevChain(join(dir, 'built'), genesisFile, { blocks: BLOCKS, transfersPerBlock: 2, senderKeys: keys })
    cpSync(join(dir, 'built'), join(dir, 'honest'), { recursive: true })
    const opened = await openChain(join(dir, 'built'), genesisFile, crypto)
    source = { chain: opened.chain, db: opened.db }
  }, 120_000)

  afterAll(async () => {
    await follower?.stop()
    await honest?.stop()
    await liar?.stop()
    await source?.db.close()
    removeDir(dir)
  })

  it('an empty follower syncs from an honest peer, reporting eth_syncing, and drops a peer serving a forged seal', async () => {
    const log = createLogger('silent')
    const honestPort = await freePort()
    honest = await PolisNode.start({
      datadir: join(dir, 'honest'),
      genesisFile,
      validatorKey: hexToBytes(DEV_VALIDATOR.privateKey),
      rpc: { host: '127.0.0.1', port: 0 },
      p2p: { listen: [`/ip4/127.0.0.1/tcp/${honestPort}`] },
      log,
    })
    // The liar speaks the real protocol, claims a far higher head and serves the real blocks, each with a flipped
    // byte in its committed seal.
    const liarKey = new Uint8Array(32).fill(0x77)
    const liarPort = await freePort()
    liar = await Network.create(
      { listen: [`/ip4/127.0.0.1/tcp/${liarPort}`] },
      {
        privateKey: liarKey,
        crypto,
        log,
        status: () => ({
          chainId: 1337n,
          genesisHash: source.chain.genesis.hash(),
          head: { number: 1_000_000n, hash: new Uint8Array(32).fill(1) },
        }),
      },
    )
    let forgedServed = 0
    await liar.handle(BLOCKS_PROTOCOL, async (request) => {
      const [fromBytes, countBytes] = RLP.decode(request) as Uint8Array[]
      const from = bytesToBigInt(fromBytes)
      const out: Uint8Array[] = []
      for (let n = from; n < from + BigInt(bytesToInt(countBytes)) && n <= source.chain.head.header.number; n++) {
        const block = (await source.chain.getBlockByNumber(n))!
        const seals = (await source.chain.getSeals(block.hash()))!
        const item = RLP.decode(encodeSealedBlock({ block, seals })) as unknown as Uint8Array[][]
        const extra = decodeExtraData(item[0][12])
        const seal = extra.committedSeals[0].slice()
        seal[5] ^= 0xff
        item[0][12] = encodeExtraData({ ...extra, committedSeals: [seal] })
        forgedServed++
        out.push(item as unknown as Uint8Array)
      }
      return RLP.encode(out as never)
    })
    await liar.start()

    follower = await PolisNode.start({
      datadir: join(dir, 'follower'),
      genesisFile,
      rpc: { host: '127.0.0.1', port: 0 },
      p2p: {
        listen: ['/ip4/127.0.0.1/tcp/0'],
        staticPeers: [
          `/ip4/127.0.0.1/tcp/${liarPort}/p2p/${peerIdOfPrivateKey(liarKey)}`,
          `/ip4/127.0.0.1/tcp/${honestPort}/p2p/${peerIdOfPrivateKey(hexToBytes(DEV_VALIDATOR.privateKey))}`,
        ],
      },
      log,
    })
    const seen: unknown[] = []
    const target = BigInt(BLOCKS)
    const node = follower
    await waitFor(
      'the follower to reach the built head',
      async () => {
        seen.push(await rpc(node, 'eth_syncing'))
        return node.chain.head.header.number >= target ? true : undefined
      },
      60_000,
    )
    // It asked the liar, met the forged block, dropped the liar and finished from the honest node.
    expect(forgedServed).toBeGreaterThan(0)
    expect(follower.network?.peers().map((p) => p.peerId)).not.toContain(liar.peerId)
    expect(follower.network?.stats().peersBanned).toBe(1)
    for (const n of [CHECKED, target]) {
      expect((await follower.chain.getBlockByNumber(n))?.hash()).toEqual(
        (await source.chain.getBlockByNumber(n))?.hash(),
      )
    }
    // eth_syncing reported the catch-up as geth does, and false once at the head.
    const progress = seen.filter((s): s is Record<string, string> => typeof s === 'object' && s !== null)
    expect(progress.length).toBeGreaterThan(0)
    expect(Object.keys(progress[0]).sort()).toEqual(['currentBlock', 'highestBlock', 'startingBlock'])
    expect(progress[0].startingBlock).toBe('0x0')
    await waitFor(
      'eth_syncing to be false',
      async () => ((await rpc(node, 'eth_syncing')) === false ? true : undefined),
      10_000,
    )
  }, 120_000)
})
