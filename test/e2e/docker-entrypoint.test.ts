/**
 * docker/entrypoint.sh, docker/healthcheck.mjs and docker/init-network.sh outside Docker: the scripts run with
 * POLIS_APP_DIR at this repository (its dist/, so `npm run build` first). Tests run as root here, hence
 * POLIS_ALLOW_ROOT=1 except where the refusal is the point.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readConfigFile } from '../../src/config/index.js'
import { peerIdOfMultiaddr } from '../../src/net/index.js'
import { freePort, removeDir, rpc, tempDir, waitFor } from '../helpers/node.js'

const ROOT = resolve(import.meta.dirname, '../..')
const ENTRYPOINT = join(ROOT, 'docker/entrypoint.sh')
const HEALTHCHECK = join(ROOT, 'docker/healthcheck.mjs')
const INIT_NETWORK = join(ROOT, 'docker/init-network.sh')
const isRoot = process.getuid?.() === 0

/** The environment of the scripts: this repository as the app dir, and the test's node first on PATH. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    POLIS_APP_DIR: ROOT,
    POLIS_ALLOW_ROOT: '1',
    ...extra,
  }
}

function sh(script: string, args: string[], extra: Record<string, string> = {}) {
  return spawnSync('sh', [script, ...args], { env: env(extra), encoding: 'utf8', timeout: 30_000 })
}

describe('docker/entrypoint.sh', () => {
  const dirs: string[] = []
  const children: ChildProcess[] = []

  afterEach(() => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    for (const dir of dirs.splice(0)) removeDir(dir)
  })

  it('defaults to run --datadir /data --rpc-host 0.0.0.0, and puts leading flags after that', () => {
    const none = sh(ENTRYPOINT, [], { POLIS_ENTRYPOINT_DRY_RUN: '1' })
    expect(none.status).toBe(0)
    expect(none.stdout.trim()).toBe(
      `node --max-semi-space-size=64 ${ROOT}/dist/cli/main.js run --datadir /data --rpc-host 0.0.0.0`,
    )
    const flags = sh(ENTRYPOINT, ['--config', '/network/node-0/config.toml'], {
      POLIS_ENTRYPOINT_DRY_RUN: '1',
      POLIS_DATADIR: '/elsewhere',
    })
    expect(flags.stdout.trim()).toBe(
      `node --max-semi-space-size=64 ${ROOT}/dist/cli/main.js run --datadir /elsewhere --rpc-host 0.0.0.0 --config /network/node-0/config.toml`,
    )
    const command = sh(ENTRYPOINT, ['genesis', '--validators', '4', '--out', '/network'], {
      POLIS_ENTRYPOINT_DRY_RUN: '1',
    })
    expect(command.stdout.trim()).toBe(
      `node --max-semi-space-size=64 ${ROOT}/dist/cli/main.js genesis --validators 4 --out /network`,
    )
  })

  it.runIf(isRoot)('refuses to run as root without POLIS_ALLOW_ROOT=1', () => {
    const result = sh(ENTRYPOINT, ['--version'], { POLIS_ALLOW_ROOT: '' })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('refusing to run as root')
    expect(sh(ENTRYPOINT, ['--version']).stdout.trim()).toBe('0.1.0')
  })

  it('refuses a datadir that is a file', () => {
    const dir = tempDir()
    dirs.push(dir)
    const file = join(dir, 'not-a-dir')
    writeFileSync(file, '')
    const result = sh(ENTRYPOINT, ['run', `--datadir=${file}`])
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('is not a directory')
  })

  it('execs a dev node (same pid) that answers eth_blockNumber and the healthcheck, stops on SIGTERM, restarts cleanly', async () => {
    const dir = tempDir()
    dirs.push(dir)
    const datadir = join(dir, 'data', 'nested') // created by the entrypoint
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`

    const start = () => {
      const child = spawn(
        'sh',
        [
          ENTRYPOINT,
          '--datadir',
          datadir,
          '--rpc-host',
          '127.0.0.1',
          '--rpc-port',
          String(port),
          '--log-level',
          'info',
        ],
        { env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
      )
      children.push(child)
      let output = ''
      child.stdout?.on('data', (d) => {
        output += d
      })
      child.stderr?.on('data', (d) => {
        output += d
      })
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
        child.once('exit', (code, signal) => r({ code, signal })),
      )
      return { child, exited, output: () => output }
    }
    const head = async () =>
      waitFor('eth_blockNumber', async () => {
        try {
          const res = await rpc(url, 'eth_blockNumber', [])
          return typeof res.result === 'string' ? Number(res.result) : undefined
        } catch {
          return undefined
        }
      })

    // The RPC listener answers before the node installs its SIGTERM handler (after 'node started'): a SIGTERM in
    // between ends node by the default action. Wait for the log line before signalling.
    const started = (run: ReturnType<typeof start>) =>
      waitFor('node started', async () => (run.output().includes('"node started"') ? true : undefined))

    const first = start()
    const before = await head()
    await started(first)
    expect(statSync(datadir).isDirectory()).toBe(true)
    // exec: the shell's process is now node running main.js with the V8 flag.
    const cmdline = readFileSync(`/proc/${first.child.pid}/cmdline`, 'utf8').split('\0')
    expect(cmdline).toContain('--max-semi-space-size=64')
    expect(cmdline).toContain(`${ROOT}/dist/cli/main.js`)
    expect(cmdline.at(0)).not.toBe('sh')

    const health = spawnSync(process.execPath, [HEALTHCHECK], {
      env: env({ POLIS_HEALTHCHECK_URL: url }),
      encoding: 'utf8',
    })
    expect(health.status).toBe(0)
    expect(health.stdout).toContain('healthy')

    first.child.kill('SIGTERM')
    const { code, signal } = await first.exited
    expect(signal).toBeNull()
    expect(code).toBe(0)
    expect(first.output()).toContain('shutting down')

    const unhealthy = spawnSync(process.execPath, [HEALTHCHECK], {
      env: env({ POLIS_HEALTHCHECK_URL: url }),
      encoding: 'utf8',
    })
    expect(unhealthy.status).toBe(1)

    const second = start()
    expect(await head()).toBeGreaterThanOrEqual(before)
    await started(second)
    second.child.kill('SIGTERM')
    expect((await second.exited).code).toBe(0)
  })
})

describe('docker/init-network.sh', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) removeDir(dir)
  })

  it('generates 4 validators and a follower addressed for the compose network, once', async () => {
    const dir = tempDir()
    dirs.push(dir)
    const out = join(dir, 'network')
    const result = sh(INIT_NETWORK, [], { POLIS_NETWORK_DIR: out, POLIS_IP_PREFIX: '172.30.0', POLIS_DEV_ACCOUNT: '1' })
    expect(result.status, result.stderr).toBe(0)
    expect(readdirSync(out).sort()).toEqual(['genesis.json', 'node-0', 'node-1', 'node-2', 'node-3', 'node-follower'])

    const peerIds: string[] = []
    for (let i = 0; i < 4; i++) {
      const config = await readConfigFile(join(out, `node-${i}`, 'config.toml'))
      expect(config.genesis).toBe(join(out, 'genesis.json'))
      expect(config.validatorKey).toBe(join(out, `node-${i}`, 'key'))
      expect(statSync(join(out, `node-${i}`, 'key')).mode & 0o077).toBe(0)
      expect(config.datadir).toBe('/data')
      expect(config).toMatchObject({ rpcHost: '0.0.0.0', rpcPort: 8545, p2pListen: ['/ip4/0.0.0.0/tcp/30303'] })
      expect(config.staticPeers).toHaveLength(3)
      for (const peer of config.staticPeers ?? []) expect(peer).toMatch(/^\/ip4\/172\.30\.0\.1[1-4]\/tcp\/30303\/p2p\//)
      peerIds.push(...(config.staticPeers ?? []))
    }
    // Every validator is addressed the same way by the others: 172.30.0.(11+i) with one peer id.
    const byAddress = new Map<string, Set<string>>()
    for (const peer of peerIds) {
      const ip = peer.split('/')[2]
      byAddress.set(ip, (byAddress.get(ip) ?? new Set()).add(peerIdOfMultiaddr(peer)))
    }
    expect([...byAddress.keys()].sort()).toEqual(['172.30.0.11', '172.30.0.12', '172.30.0.13', '172.30.0.14'])
    for (const ids of byAddress.values()) expect(ids.size).toBe(1)

    const follower = await readConfigFile(join(out, 'node-follower', 'config.toml'))
    expect(follower.validatorKey).toBeUndefined()
    expect(new Set(follower.staticPeers)).toEqual(new Set(peerIds))
    expect(follower.staticPeers).toHaveLength(4)
    const genesis = JSON.parse(readFileSync(join(out, 'genesis.json'), 'utf8'))
    expect(genesis.config.chainId).toBe(1337)

    // A second start keeps the network (and its keys).
    const key = readFileSync(join(out, 'node-0', 'key'), 'utf8')
    const again = sh(INIT_NETWORK, [], { POLIS_NETWORK_DIR: out })
    expect(again.status).toBe(0)
    expect(again.stdout).toContain('already holds a network')
    expect(readFileSync(join(out, 'node-0', 'key'), 'utf8')).toBe(key)
    expect(existsSync(join(out, '.generating'))).toBe(false)
  })
})
