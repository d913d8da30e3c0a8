/** The node under test: bench genesis, a free loopback port, and the child process with a bounded start and stop. */
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { NODE_RUNTIME_FLAGS } from '../../src/cli/runtime.js'
import type { RpcClient } from './rpc.js'

export const LOOPBACK = '127.0.0.1'

/** A port that was free on 127.0.0.1 a moment ago (listen on port 0, read it, close). */
/** True when nothing listens on 127.0.0.1:`port`. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, LOOPBACK, () => server.close(() => resolve(true)))
  })
}

/** A base port such that `base + i * step` is free for every i < count (bounded number of tries). */
export async function freePortRange(count: number, step: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    let free = true
    for (let i = 0; i < count && free; i++) free = await isPortFree(base + i * step)
    if (free) return base
  }
  throw new Error(`no ${count} free loopback ports found`)
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, LOOPBACK, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the free port'))))
    })
  })
}

/** Writes `base` with each of `addresses` prefunded with `balance` wei; returns the chain id. */
export function writeBenchGenesis(base: string, out: string, addresses: readonly string[], balance: bigint): number {
  const genesis = JSON.parse(readFileSync(base, 'utf8')) as {
    config: { chainId: number }
    alloc: Record<string, { balance: string }>
  }
  for (const address of addresses) genesis.alloc[address] = { balance: `0x${balance.toString(16)}` }
  writeFileSync(out, `${JSON.stringify(genesis, null, 2)}\n`)
  return genesis.config.chainId
}

export interface NodeProcessOptions {
  cliPath: string
  datadir: string
  genesisFile: string
  validatorKeyFile: string
  rpcPort: number
  /** JSON-RPC namespaces (--rpc-api); the node's default when absent. */
  rpcApis?: string[]
}

/** A node of a generated network, started from its config file (`polis genesis` output). */
export interface ConfiguredNodeOptions {
  cliPath: string
  configFile: string
}

const STDERR_TAIL_LINES = 40

export class NodeProcess {
  private readonly tail: string[] = []
  private exitCode: number | null = null
  private exitSignal: NodeJS.Signals | null = null
  private readonly exited: Promise<void>

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code
        this.exitSignal = signal
        resolve()
      })
      // A failed spawn emits 'error' and never 'exit'.
      child.once('error', (e) => {
        this.tail.push(`spawn error: ${e.message}`)
        this.exitCode = -1
        resolve()
      })
    })
    // POLIS_BENCH_NODE_LOG=<prefix>: also write every node's output to <prefix>-<pid>.log, for diagnosis.
    const logPrefix = process.env.POLIS_BENCH_NODE_LOG
    const file = logPrefix ? createWriteStream(`${logPrefix}-${child.pid}.log`) : undefined
    const keep = (chunk: Buffer) => {
      file?.write(chunk)
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') this.tail.push(line)
      if (this.tail.length > STDERR_TAIL_LINES) this.tail.splice(0, this.tail.length - STDERR_TAIL_LINES)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
  }

  static start(opts: NodeProcessOptions | ConfiguredNodeOptions): NodeProcess {
    const level = process.env.POLIS_BENCH_LOG_LEVEL ?? 'warn'
    const nodeFlags = [...NODE_RUNTIME_FLAGS, ...(process.env.POLIS_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)]
    if ('configFile' in opts) {
      const args = [opts.cliPath, 'run', '--config', opts.configFile, '--log-level', level]
      return new NodeProcess(spawn(process.execPath, [...nodeFlags, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }))
    }
    const args = [
      opts.cliPath,
      'run',
      '--datadir',
      opts.datadir,
      '--genesis',
      opts.genesisFile,
      '--rpc-host',
      LOOPBACK,
      '--rpc-port',
      String(opts.rpcPort),
      '--validator-key',
      opts.validatorKeyFile,
      '--log-level',
      level,
      ...(opts.rpcApis ? ['--rpc-api', opts.rpcApis.join(',')] : []),
    ]
    return new NodeProcess(spawn(process.execPath, [...nodeFlags, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }))
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null
  }

  /** Why the process is no longer running, or undefined while it is. */
  get exitReason(): string | undefined {
    if (this.running) return undefined
    return this.exitSignal !== null ? `signal ${this.exitSignal}` : `exit code ${this.exitCode}`
  }

  /** The last lines the node wrote to stdout/stderr. */
  outputTail(): string {
    return this.tail.join('\n')
  }

  /** Resolves once eth_blockNumber answers; throws when the node exits first or `timeoutMs` passes. */
  async waitReady(rpc: RpcClient, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs
    let lastError = 'no answer yet'
    for (let attempt = 0; attempt < 10_000 && performance.now() < deadline; attempt++) {
      if (!this.running) throw new Error(`node exited before serving RPC (${this.exitReason})`)
      try {
        await rpc.call<string>('eth_blockNumber')
        return
      } catch (e) {
        lastError = (e as Error).message
      }
      await sleep(100)
    }
    throw new Error(`node did not answer eth_blockNumber on ${rpc.url} within ${timeoutMs} ms (last: ${lastError})`)
  }

  /** Peak resident set size (VmHWM) in MiB, from /proc; undefined where /proc is unavailable. */
  async peakRssMiB(): Promise<number | undefined> {
    if (this.pid === undefined || !this.running) return undefined
    try {
      const status = await readFile(`/proc/${this.pid}/status`, 'utf8')
      const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)
      return match === null ? undefined : Number(match[1]) / 1024
    } catch {
      return undefined
    }
  }

  /** SIGTERM, then SIGKILL if the node has not exited within `timeoutMs`; resolves once it has exited. */
  async stop(timeoutMs: number): Promise<string> {
    if (!this.running) return `already stopped (${this.exitReason})`
    this.child.kill('SIGTERM')
    const stopped = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)])
    if (stopped) return `stopped (${this.exitReason})`
    this.child.kill('SIGKILL')
    await Promise.race([this.exited, sleep(5_000)])
    return `killed after ${timeoutMs} ms without exiting (${this.exitReason ?? 'still running'})`
  }

  /** Synchronous last resort for signal handlers. */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL')
  }
}

export const benchPaths = (dir: string) => ({
  genesisFile: join(dir, 'genesis.json'),
  validatorKeyFile: join(dir, 'validator.key'),
  datadir: join(dir, 'data'),
})
