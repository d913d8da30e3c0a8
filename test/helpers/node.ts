/** Starting real Polis nodes for tests: in-process or as a child process, on 127.0.0.1 with free ports. */
import { type ChildProcess, spawn } from 'node:child_process'
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { hexToBytes } from '@ethereumjs/util'
import { defineChain } from 'viem'
import { DEV_GENESIS_FILE, DEV_VALIDATOR } from '../../src/genesis/index.js'
import { createLogger } from '../../src/log/index.js'
import { type NodeOptions, PolisNode } from '../../src/node.js'
import type { RpcOptions } from '../../src/rpc/index.js'

export const devChain = (url: string) =>
  defineChain({
    id: 1337,
    name: 'Polis dev',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  })

export function tempDir(prefix = 'polis-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** Starts a dev-chain node in this process on a free port; `datadir` defaults to a new temp dir. */
export async function startNode(
  opts: {
    datadir?: string
    genesisFile?: string
    rpc?: Partial<RpcOptions>
    rpcAdmin?: NodeOptions['rpcAdmin']
    txpool?: NodeOptions['txpool']
    txpoolJournal?: NodeOptions['txpoolJournal']
    metrics?: NodeOptions['metrics']
  } = {},
): Promise<PolisNode> {
  return PolisNode.start({
    datadir: opts.datadir ?? tempDir(),
    genesisFile: opts.genesisFile ?? DEV_GENESIS_FILE,
    validatorKey: hexToBytes(DEV_VALIDATOR.privateKey),
    rpc: { host: '127.0.0.1', port: 0, ...opts.rpc },
    rpcAdmin: opts.rpcAdmin,
    txpool: opts.txpool,
    txpoolJournal: opts.txpoolJournal,
    metrics: opts.metrics,
    log: createLogger('silent'),
  })
}

export interface ChildNode {
  url: string
  process: ChildProcess
  output: () => string
  /** Sends `signal` and waits (bounded) for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')

/** Starts `polis run` as a child process (needs `npm run build`) and waits until its RPC answers. */
export async function startChildNode(datadir: string, extraArgs: string[] = []): Promise<ChildNode> {
  const port = await freePort()
  const child = spawn(
    process.execPath,
    [
      CLI,
      'run',
      '--datadir',
      datadir,
      '--rpc-host',
      '127.0.0.1',
      '--rpc-port',
      String(port),
      '--log-level',
      'warn',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  // POLIS_TEST_NODE_LOG=<prefix>: also append each child's output to <prefix>-<pid>.log, for diagnosis.
  const logFile = process.env.POLIS_TEST_NODE_LOG && `${process.env.POLIS_TEST_NODE_LOG}-${child.pid}.log`
  const keep = (d: Buffer) => {
    output += d
    if (logFile) appendFileSync(logFile, d)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const url = `http://127.0.0.1:${port}`
  const node: ChildNode = {
    url,
    process: child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill(signal)
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`node did not exit after ${signal}`)), 15_000).unref(),
      )
      return Promise.race([exited, timeout])
    },
  }
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`node exited with ${child.exitCode}: ${output}`)
    try {
      const res = await rpc(url, 'eth_blockNumber', [])
      if (res.result !== undefined) return node
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  await node.stop('SIGKILL')
  throw new Error(`node did not answer on ${url} within 30 s: ${output}`)
}

export interface RpcResponse {
  jsonrpc: '2.0'
  id: number | string | null
  result?: unknown
  error?: { code: number; message: string; data?: unknown }
}

/** A raw JSON-RPC call (for checking exact error codes and messages). */
export async function rpc(url: string, method: string, params: unknown[]): Promise<RpcResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return (await res.json()) as RpcResponse
}

/** Polls `check` every 100 ms until it returns a value other than undefined, failing after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const value = await check()
    if (value !== undefined) return value
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
