/**
 * Import benchmark: builds a dev chain of `blocks` blocks holding `transfers` transfers in-process (not timed), then
 * measures (1) `polis export`, (2) `polis import` of that file into an empty data directory, and (3) catch-up of an
 * empty follower from a node serving the chain over libp2p on 127.0.0.1.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { hexToBytes } from '@ethereumjs/util'
import { NODE_RUNTIME_FLAGS } from '../../src/cli/runtime.js'
import { createCrypto } from '../../src/crypto/index.js'
import { DEV_VALIDATOR } from '../../src/genesis/index.js'
import { peerIdOfPrivateKey } from '../../src/net/index.js'
import { openChain } from '../../src/open.js'
import { buildDevChain, senderKeys } from '../../test/helpers/chain.js'
import { freePort, LOOPBACK, writeBenchGenesis } from './node.js'
import { formatTable } from './report.js'
import { RpcClient } from './rpc.js'

export interface ImportBenchOptions {
  cliPath: string
  devGenesisFile: string
  tempDir: string
  blocks: number
  transfers: number
  senders: number
  progress: (message: string) => void
}

const SENDER_BALANCE = 1000n * 10n ** 18n
const SYNC_TIMEOUT_MS = 600_000

function timedCli(cliPath: string, args: string[]): { ms: number; stdout: string } {
  const started = performance.now()
  const run = spawnSync(process.execPath, [...NODE_RUNTIME_FLAGS, cliPath, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  })
  const ms = performance.now() - started
  if (run.status !== 0) throw new Error(`polis ${args[0]} failed (${run.status}): ${run.stderr.slice(-2000)}`)
  return { ms, stdout: run.stdout }
}

function startNode(cliPath: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [...NODE_RUNTIME_FLAGS, cliPath, 'run', '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
}

async function stopNode(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

async function waitForHead(rpc: RpcClient, head: bigint, timeoutMs: number): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < timeoutMs) {
    try {
      if (BigInt(await rpc.call<string>('eth_blockNumber')) >= head) return performance.now() - started
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`head ${head} not reached within ${timeoutMs / 1000} s`)
}

export async function runImportBench(opts: ImportBenchOptions): Promise<string> {
  const crypto = createCrypto()
  const keys = senderKeys(opts.senders)
  const genesisFile = join(opts.tempDir, 'genesis.json')
  const addresses = keys.map((k) => `0x${Buffer.from(crypto.privateKeyToAddress(k)).toString('hex')}`)
  writeBenchGenesis(opts.devGenesisFile, genesisFile, addresses, SENDER_BALANCE)

  const source = join(opts.tempDir, 'source')
  opts.progress(`building ${opts.blocks} blocks holding ${opts.transfers} transfers (not timed)`)
  const built = await buildDevChain(source, genesisFile, {
    blocks: opts.blocks,
    transfersPerBlock: Math.ceil(opts.transfers / opts.blocks),
    senderKeys: keys,
    onBlock: (n) => {
      if (n % 250 === 0) opts.progress(`built ${n} of ${opts.blocks} blocks`)
    },
  })

  const file = join(opts.tempDir, 'chain.rlp')
  opts.progress('polis export')
  const exported = timedCli(opts.cliPath, ['export', '--datadir', source, '--genesis', genesisFile, file])
  opts.progress('polis import into an empty data directory')
  const copy = join(opts.tempDir, 'copy')
  const imported = timedCli(opts.cliPath, ['import', '--datadir', copy, '--genesis', genesisFile, file])
  const check = await openChain(copy, genesisFile, crypto)
  const sameHead =
    check.chain.head.header.number === built.head &&
    Buffer.from(check.chain.head.hash()).equals(Buffer.from(built.hash)) &&
    Buffer.from(check.chain.head.header.stateRoot).equals(Buffer.from(built.stateRoot))
  await check.db.close()
  if (!sameHead) throw new Error('the imported chain does not end in the same head and state root')

  opts.progress('catch-up of an empty follower from a peer over libp2p')
  const keyFile = join(opts.tempDir, 'validator.key')
  writeFileSync(keyFile, `${DEV_VALIDATOR.privateKey}\n`, { mode: 0o600 })
  const [servePort, serveRpc, followPort, followRpc] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ]
  const server = startNode(opts.cliPath, [
    '--datadir',
    source,
    '--genesis',
    genesisFile,
    '--validator-key',
    keyFile,
    '--rpc-port',
    String(serveRpc),
    '--p2p-listen',
    `/ip4/${LOOPBACK}/tcp/${servePort}`,
  ])
  let follower: ChildProcess | undefined
  let syncMs: number
  try {
    await waitForHead(new RpcClient(`http://${LOOPBACK}:${serveRpc}`), built.head, 60_000)
    const peerId = peerIdOfPrivateKey(hexToBytes(DEV_VALIDATOR.privateKey))
    follower = startNode(opts.cliPath, [
      '--datadir',
      join(opts.tempDir, 'follower'),
      '--genesis',
      genesisFile,
      '--rpc-port',
      String(followRpc),
      '--p2p-listen',
      `/ip4/${LOOPBACK}/tcp/${followPort}`,
      '--static-peers',
      `/ip4/${LOOPBACK}/tcp/${servePort}/p2p/${peerId}`,
    ])
    syncMs = await waitForHead(new RpcClient(`http://${LOOPBACK}:${followRpc}`), built.head, SYNC_TIMEOUT_MS)
  } finally {
    if (follower) await stopNode(follower)
    await stopNode(server)
  }

  const txs = opts.transfers
  const blocks = Number(built.head)
  const row = (label: string, ms: number) => [
    label,
    (ms / 1000).toFixed(2),
    Math.round(blocks / (ms / 1000)).toLocaleString('en-US'),
    Math.round(txs / (ms / 1000)).toLocaleString('en-US'),
  ]
  return formatTable([
    ['', 'seconds', 'blocks/s', 'tx/s'],
    row('polis export', exported.ms),
    row('polis import (empty datadir)', imported.ms),
    row('follower catch-up over libp2p', syncMs),
  ])
}
