/**
 * docs/operators.md, run as written: every ```sh block (each tagged `<!-- step: name -->`) in its own
 * `bash -euo pipefail`, in order, with the variables (`export`) and functions of the earlier blocks, `polis` on the
 * PATH as this checkout's dist/cli/main.js, and the network's ports and directories set through the environment.
 * Every process a step starts is killed at the end, even when a step fails.
 */
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeDir, rpc, tempDir } from '../helpers/node.js'

const GUIDE = resolve(import.meta.dirname, '../../docs/operators.md')
const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')
const STEP_TIMEOUT_MS = 150_000

interface Step {
  name: string
  code: string
}

/** The tagged shell blocks of the guide, in order; throws on a shell block without a tag. */
function guideSteps(markdown: string): Step[] {
  const lines = markdown.split('\n')
  const steps: Step[] = []
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i])
    if (!fence) continue
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'))
    if (end < 0) throw new Error(`unclosed code block at line ${i + 1}`)
    const language = fence[1]
    if (['', 'sh', 'bash', 'shell', 'console'].includes(language)) {
      const tag = /^<!-- step: ([\w-]+) -->$/.exec(lines[i - 1] ?? '')
      if (!tag || language !== 'sh')
        throw new Error(`line ${i + 1}: a shell block needs \`<!-- step: name -->\` on the line before \`\`\`sh`)
      steps.push({ name: tag[1], code: lines.slice(i + 1, end).join('\n') })
    }
    i = end
  }
  return steps
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const server = createServer()
    server.once('error', () => r(false))
    server.listen(port, '127.0.0.1', () => server.close(() => r(true)))
  })
}

/** A base port with `count` free ports at `base + i * step`, away from the ranges of other bases taken. */
async function freeBase(count: number, step: number, taken: number[]): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    if (taken.some((t) => Math.abs(t - base) < 100)) continue
    let ok = true
    for (let i = 0; i < count && ok; i++) ok = await isFree(base + i * step)
    if (ok) {
      taken.push(base)
      return base
    }
  }
  throw new Error('no free port range')
}

describe('docs/operators.md', () => {
  const markdown = readFileSync(GUIDE, 'utf8')

  it('tags every shell block with a unique step name', () => {
    const steps = guideSteps(markdown)
    expect(steps.map((s) => s.name)).toEqual([
      'setup',
      'genesis',
      'start',
      'health',
      'add-validator',
      'remove-validator',
      'rotate-key',
      'backup',
      'restore',
      'upgrade',
      'stall',
      'recover',
      'shutdown',
    ])
    expect(() => guideSteps('text\n```sh\npolis run\n```\n')).toThrow(/step: name/)
    expect(() => guideSteps('<!-- step: x -->\n```bash\npolis run\n```\n')).toThrow(/step: name/)
    expect(guideSteps('```toml\na = 1\n```\n')).toEqual([])
  })

  describe('run as written', () => {
    let dir: string
    let state: string
    let pids: string
    const groups: number[] = []
    const env: Record<string, string> = {}
    const timings: string[] = []

    beforeAll(async () => {
      dir = tempDir('polis-operators-')
      const bin = join(dir, 'bin')
      mkdirSync(bin)
      writeFileSync(join(bin, 'polis'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`)
      chmodSync(join(bin, 'polis'), 0o755)
      state = join(dir, 'state.sh')
      pids = join(dir, 'pids')
      writeFileSync(state, '')
      writeFileSync(pids, '')
      const taken: number[] = []
      Object.assign(env, {
        PATH: `${bin}:${process.env.PATH}`,
        OUT: join(dir, 'net'),
        BACKUP: join(dir, 'backups'),
        RPC_PORT: String(await freeBase(5, 10, taken)),
        P2P_PORT: String(await freeBase(5, 1, taken)),
        METRICS_PORT: String(await freeBase(5, 1, taken)),
        KDF_FLAGS: '--lightkdf',
      })
    })

    afterAll(async () => {
      if (dir === undefined) return
      const all = new Set<number>()
      for (const line of readFileSync(pids, 'utf8').split('\n')) if (/^\d+$/.test(line)) all.add(Number(line))
      const out = join(dir, 'net')
      if (existsSync(out))
        for (const entry of readdirSync(out)) {
          const file = join(out, entry, 'pid')
          if (existsSync(file)) all.add(Number(readFileSync(file, 'utf8').trim()))
        }
      for (const pid of all) kill(pid)
      for (const group of groups) kill(-group)
      console.log(`operators guide steps: ${timings.join(', ')}`)
      removeDir(dir)
    })

    const kill = (pid: number) => {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }

    /** Runs one step in `bash -euo pipefail` after the state of the earlier ones; saves its exports and functions. */
    const runStep = (step: Step): Promise<{ code: number | null; output: string }> => {
      const script = [
        `source ${JSON.stringify(state)}`,
        step.code,
        `jobs -p >> ${JSON.stringify(pids)}`,
        `{ export -p | grep -v '^declare -[a-zA-Z]*r'; declare -f; } > ${JSON.stringify(`${state}.next`)}`,
        `mv ${JSON.stringify(`${state}.next`)} ${JSON.stringify(state)}`,
      ].join('\n')
      const started = Date.now()
      return new Promise((done) => {
        const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
          cwd: dir,
          env: { ...process.env, ...env },
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        if (child.pid !== undefined) groups.push(child.pid)
        let output = ''
        child.stdout.on('data', (d) => {
          output += d
        })
        child.stderr.on('data', (d) => {
          output += d
        })
        const timer = setTimeout(() => {
          output += `\n[step ${step.name} timed out after ${STEP_TIMEOUT_MS} ms]`
          if (child.pid !== undefined) kill(-child.pid)
        }, STEP_TIMEOUT_MS)
        child.once('exit', (code) => {
          clearTimeout(timer)
          timings.push(`${step.name} ${((Date.now() - started) / 1000).toFixed(1)} s`)
          done({ code, output })
        })
      })
    }

    /** A variable the steps exported. */
    const exported = (name: string): string => {
      const m = new RegExp(`^declare -x ${name}="(.*)"$`, 'm').exec(readFileSync(state, 'utf8'))
      if (!m) throw new Error(`${name} was not exported`)
      return m[1]
    }
    const url = (i: number) => `http://127.0.0.1:${Number(env.RPC_PORT) + 10 * i}`
    const call = async <T>(i: number, method: string, params: unknown[] = []): Promise<T> => {
      const res = await rpc(url(i), method, params)
      if (res.error) throw new Error(`${method}: ${res.error.message}`)
      return res.result as T
    }
    const validators = async () =>
      (await call<string[]>(0, 'qbft_getValidatorsByBlockNumber', ['latest'])).map((a) => a.toLowerCase())
    const head = async (i: number) => Number(BigInt(await call<string>(i, 'eth_blockNumber')))

    // Checks after some steps, beyond the step's own exit code.
    const checks: Record<string, (output: string) => Promise<void>> = {
      genesis: async (output) => {
        const out = env.OUT
        expect(existsSync(join(out, 'genesis.json'))).toBe(true)
        for (let i = 0; i < 4; i++) {
          expect(existsSync(join(out, `node-${i}`, 'key'))).toBe(false)
          expect(readdirSync(join(out, `node-${i}`, 'keystore'))).toHaveLength(1)
          expect(readFileSync(join(out, `node-${i}`, 'config.toml'), 'utf8')).toContain('password-file = "password"')
        }
        expect(output.match(/^Public address of the key: +0x[0-9a-fA-F]{40}$/gm)).toHaveLength(4)
      },
      start: async () => {
        expect(await validators()).toHaveLength(4)
        for (let i = 0; i < 4; i++) expect(await head(i)).toBeGreaterThanOrEqual(3)
      },
      health: async (output) => {
        expect(output).toMatch(/^polis_chain_head_block \d+$/m)
        expect(output).toContain('{"status":"UP"}')
        expect(output).toMatch(/^503 \{"status":"DOWN"/m)
      },
      'add-validator': async () => {
        expect(await validators()).toContain(exported('NEW_VALIDATOR').toLowerCase())
      },
      'remove-validator': async () => {
        const set = await validators()
        expect(set).toHaveLength(4)
        expect(set).not.toContain(exported('NEW_VALIDATOR').toLowerCase())
      },
      'rotate-key': async () => {
        const set = await validators()
        expect(set).toHaveLength(4)
        expect(set).toContain(exported('NEW_KEY').toLowerCase())
        expect(set).not.toContain(exported('OLD_KEY').toLowerCase())
      },
      backup: async () => {
        expect(Number(exported('BACKUP_HEAD'))).toBeGreaterThan(3)
      },
      restore: async () => {
        const n = `0x${Number(exported('BACKUP_HEAD')).toString(16)}`
        const [a, b] = await Promise.all(
          [0, 1].map((i) => call<{ hash: string }>(i, 'eth_getBlockByNumber', [n, false])),
        )
        expect(b.hash).toBe(a.hash)
      },
      upgrade: async () => {
        expect((await fetch(`${url(2)}/readiness`)).status).toBe(200)
      },
      stall: async (output) => {
        expect(output).toContain('consensus stalled: no block decided')
      },
      recover: async () => {
        expect(await head(0)).toBeGreaterThanOrEqual(Number(exported('STALLED')) + 2)
      },
    }

    for (const step of guideSteps(readFileSync(GUIDE, 'utf8'))) {
      it(
        `step ${step.name}`,
        async () => {
          const { code, output } = await runStep(step)
          const logs = () => {
            const out = env.OUT
            if (!existsSync(out)) return ''
            return readdirSync(out)
              .filter((d) => existsSync(join(out, d, 'node.log')))
              .map((d) => `--- ${d}:\n${readFileSync(join(out, d, 'node.log'), 'utf8').slice(-2000)}`)
              .join('\n')
          }
          expect(code, `${output}\n${logs()}`).toBe(0)
          await checks[step.name]?.(output)
        },
        STEP_TIMEOUT_MS + 10_000,
      )
    }
  })
})
