/**
 * `npm run devnet`: a local QBFT network of validator processes on 127.0.0.1 (default 4, JSON-RPC on 8545, 8555,
 * 8565, 8575), with the first well-known dev account prefunded. Ctrl-C or SIGTERM stops every node cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { generateNetwork } from '../src/cli/genesis.js'
import { NODE_RUNTIME_FLAGS } from '../src/cli/runtime.js'
import { createCrypto } from '../src/crypto/index.js'
import { DEV_ACCOUNTS } from '../src/genesis/index.js'

const { values } = parseArgs({
  options: {
    validators: { type: 'string', default: '4' },
    'rpc-port': { type: 'string', default: '8545' },
    'p2p-port': { type: 'string', default: '30303' },
    dir: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
  },
})

const CLI = resolve(import.meta.dirname, '../dist/cli/main.js')
const dir = values.dir ? resolve(values.dir) : mkdtempSync(join(tmpdir(), 'polis-devnet-'))
const nodes = await generateNetwork(
  {
    validators: Number(values.validators),
    out: dir,
    chainId: 1337,
    host: '127.0.0.1',
    rpcPort: Number(values['rpc-port']),
    rpcPortStep: 10,
    p2pPort: Number(values['p2p-port']),
    blockPeriodSeconds: 1,
    devAccount: true,
  },
  createCrypto(),
)

const children: ChildProcess[] = nodes.map((node, i) => {
  const child = spawn(
    process.execPath,
    [...NODE_RUNTIME_FLAGS, CLI, 'run', '--config', node.configFile, '--log-level', values['log-level']],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const prefix = `[node-${i}] `
  const forward = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) stream.write(`${prefix}${line}\n`)
  }
  child.stdout?.on('data', forward(process.stdout))
  child.stderr?.on('data', forward(process.stderr))
  child.on('exit', (code, signal) => process.stdout.write(`${prefix}exited (${signal ?? code})\n`))
  return child
})

process.stdout.write(
  [
    '',
    `Polis devnet: ${nodes.length} validators, chain id 1337, data in ${dir}`,
    ...nodes.map((n, i) => `  node-${i}  ${n.rpcUrl}  validator ${n.address}`),
    `  prefunded dev account ${DEV_ACCOUNTS[0].address} (public key: never use it on a real network)`,
    '  Ctrl-C stops the network.',
    '',
  ].join('\n'),
)

let stopping = false
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return
  stopping = true
  const exits = children.map((c) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => c.once('exit', () => r())),
  )
  for (const child of children) child.kill('SIGTERM')
  const timeout = setTimeout(() => {
    for (const child of children) child.kill('SIGKILL')
  }, 15_000)
  await Promise.all(exits)
  clearTimeout(timeout)
  if (!values.dir) rmSync(dir, { recursive: true, force: true })
  process.stdout.write(`devnet stopped (${signal})\n`)
  process.exit(0)
}
process.on('SIGINT', () => void stop('SIGINT'))
process.on('SIGTERM', () => void stop('SIGTERM'))
