import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CLI, freePort, removeDir, rpc, tempDir, waitFor } from '../helpers/node.js'

const children: ChildProcess[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
  }
  for (const dir of dirs.splice(0)) removeDir(dir)
})

/** Starts `polis run` with a config file, environment variables and flags; resolves with its output so far. */
function start(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [CLI, 'run', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  child.stdout?.on('data', (d) => {
    output += d
  })
  child.stderr?.on('data', (d) => {
    output += d
  })
  return { child, output: () => output }
}

async function chainIdAt(port: number): Promise<string | undefined> {
  try {
    return (await rpc(`http://127.0.0.1:${port}`, 'eth_chainId', [])).result as string
  } catch {
    return undefined
  }
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode
  return new Promise((r) => child.once('exit', (code) => r(code)))
}

describe('configuration precedence: flags over environment over config file over defaults', () => {
  it('takes the file, then the environment over it, then a flag over both', async () => {
    const dir = tempDir('polis-config-')
    dirs.push(dir)
    const [filePort, envPort, flagPort] = [await freePort(), await freePort(), await freePort()]
    const config = join(dir, 'polis.toml')
    writeFileSync(config, `datadir = "data"\nlog-level = "warn"\n[rpc]\nhost = "127.0.0.1"\nport = ${filePort}\n`)
    const cases: { env: Record<string, string>; flags: string[]; port: number }[] = [
      { env: {}, flags: [], port: filePort },
      { env: { POLIS_RPC_PORT: String(envPort) }, flags: [], port: envPort },
      { env: { POLIS_RPC_PORT: String(envPort) }, flags: ['--rpc-port', String(flagPort)], port: flagPort },
    ]
    for (const c of cases) {
      const { child } = start(['--config', config, ...c.flags], c.env)
      expect(await waitFor(`the node on port ${c.port}`, () => chainIdAt(c.port))).toBe('0x539')
      for (const other of [filePort, envPort, flagPort].filter((p) => p !== c.port)) {
        expect(await chainIdAt(other)).toBeUndefined()
      }
      child.kill('SIGTERM')
      expect(await exitOf(child)).toBe(0)
    }
  })

  it('POLIS_CONFIG names the file; the environment sets any option and is checked like the flag', async () => {
    const dir = tempDir('polis-config-')
    dirs.push(dir)
    const port = await freePort()
    const config = join(dir, 'polis.toml')
    writeFileSync(config, `datadir = "data"\nlog-level = "warn"\n[rpc]\nport = ${port}\n`)
    const { child } = start([], { POLIS_CONFIG: config, POLIS_TXPOOL_ORDER: 'fifo' })
    expect(await waitFor('the node', () => chainIdAt(port))).toBe('0x539')
    child.kill('SIGTERM')
    expect(await exitOf(child)).toBe(0)

    const bad = start(['--datadir', join(dir, 'd2')], { POLIS_RPC_PORT: 'eighty' })
    expect(await exitOf(bad.child)).not.toBe(0)
    expect(bad.output()).toContain("value 'eighty' from env 'POLIS_RPC_PORT' is invalid")
    const badChoice = start(['--datadir', join(dir, 'd3')], { POLIS_TXPOOL_ORDER: 'fastest' })
    expect(await exitOf(badChoice.child)).not.toBe(0)
    expect(badChoice.output()).toMatch(/POLIS_TXPOOL_ORDER.*Allowed choices are price, fifo/)
    const badFile = join(dir, 'bad.toml')
    writeFileSync(badFile, `datadir = "data"\nrpc-port = 8545\n`)
    const unknownKey = start(['--config', badFile], {})
    expect(await exitOf(unknownKey.child)).toBe(1)
    expect(unknownKey.output()).toMatch(/bad\.toml.*rpc-port/)
  })

  it('documents every option with its environment variable in --help', async () => {
    const help = start(['--help'], {})
    expect(await exitOf(help.child)).toBe(0)
    const text = help.output()
    for (const flag of ['--datadir', '--rpc-port', '--txpool-order', '--log-level', '--rpc-admin-port']) {
      const variable = `POLIS_${flag.slice(2).replaceAll('-', '_').toUpperCase()}`
      expect(text.replace(/\s+/g, ' ')).toContain(`env: ${variable})`)
    }
  })
})
