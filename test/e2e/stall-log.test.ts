import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { hexToBytes } from '@ethereumjs/util'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { generateNetwork } from '../../src/cli/genesis.js'
import { createCrypto } from '../../src/crypto/index.js'
import { PolisNode } from '../../src/node.js'
import { freePort, removeDir, tempDir, waitFor } from '../helpers/node.js'

describe('a stalled network says so', () => {
  const dir = tempDir('polis-stall-')
  let node: PolisNode | undefined
  afterAll(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('logs a WARN summary while no block is decided: height, time stuck, round, proposer, quorum', async () => {
    // Two validators, one running: quorum (2) is never reached, so height 1 is never decided.
    const nodes = await generateNetwork(
      {
        validators: 2,
        out: dir,
        chainId: 4242,
        host: '127.0.0.1',
        rpcPort: await freePort(),
        rpcPortStep: 1,
        p2pPort: await freePort(),
        blockPeriodSeconds: 1,
        devAccount: false,
      },
      createCrypto(),
    )
    const lines: Record<string, unknown>[] = []
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
    node = await PolisNode.start({
      datadir: join(dir, 'node-0', 'data'),
      genesisFile: join(dir, 'genesis.json'),
      validatorKey: hexToBytes(readFileSync(join(nodes[0].dir, 'key'), 'utf8').trim() as `0x${string}`),
      rpc: { host: '127.0.0.1', port: 0 },
      qbft: { stallLogIntervalMs: 250, maxRoundTimeoutSeconds: 1 },
      log,
    })
    const stalled = await waitFor(
      'a stall summary',
      async () => lines.find((l) => l.msg === 'consensus stalled: no block decided'),
      15_000,
    )
    expect(stalled).toMatchObject({ level: 40, module: 'qbft', height: 1, quorum: 2 })
    expect(stalled.stuckSeconds).toBeGreaterThanOrEqual(3)
    expect(typeof stalled.round).toBe('number')
    expect(nodes.map((n) => n.address.toLowerCase())).toContain(String(stalled.proposer))
    expect(node.chain.head.header.number).toBe(0n)
  })
})
