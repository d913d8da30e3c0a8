import { spawnSync } from 'node:child_process'
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Wallet } from 'ethers'
import { afterEach, describe, expect, it } from 'vitest'
import { DEV_VALIDATOR } from '../../src/genesis/index.js'
import { type ChildNode, removeDir, rpc, startChildNode, tempDir, waitFor } from '../helpers/node.js'

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')
const posix = process.platform !== 'win32'

function polis(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('polis account / key commands and run with a keystore', () => {
  const dirs: string[] = []
  const nodes: ChildNode[] = []
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop('SIGKILL')
    for (const dir of dirs.splice(0)) removeDir(dir)
  })
  const dir = () => {
    const d = tempDir('polis-keys-e2e-')
    dirs.push(d)
    return d
  }
  const secret = (d: string, name: string, text: string, mode = 0o600) => {
    const file = join(d, name)
    writeFileSync(file, text, { mode })
    chmodSync(file, mode)
    return file
  }

  it('account new, list, inspect and key address', () => {
    const d = dir()
    const pw = secret(d, 'pw', 'correct horse\n')
    const created = polis('account', 'new', '--datadir', join(d, 'data'), '--password-file', pw, '--lightkdf')
    expect(created.code, created.stderr).toBe(0)
    const address = /Public address of the key:\s+(0x[0-9a-fA-F]{40})/.exec(created.stdout)?.[1] as string
    const path = /Path of the secret key file:\s+(\S+)/.exec(created.stdout)?.[1] as string
    expect(path).toBe(join(d, 'data', 'keystore', readdirSync(join(d, 'data', 'keystore'))[0]))
    expect(path).toMatch(new RegExp(`UTC--.*--${address.slice(2).toLowerCase()}$`))
    if (posix) expect(statSync(path).mode & 0o777).toBe(0o600)

    const listed = polis('account', 'list', '--keystore', join(d, 'data', 'keystore'))
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toBe(`Account #0: ${address} ${path}\n`)

    const inspected = polis('account', 'inspect', path, '--password-file', pw, '--private')
    expect(inspected.code, inspected.stderr).toBe(0)
    const privateKey = /Private key:\s+(0x[0-9a-f]{64})/.exec(inspected.stdout)?.[1] as string
    expect(inspected.stdout).toContain(`Address:     ${address}`)
    expect(new Wallet(privateKey).address).toBe(address)
    expect(polis('account', 'inspect', path, '--password-file', pw).stdout).not.toContain('Private key')

    expect(polis('key', 'address', path).stdout).toBe(`${address}\n`)
    expect(polis('key', 'address', path, '--password-file', pw).stdout).toBe(`${address}\n`)
    expect(polis('key', 'address', secret(d, 'plain', privateKey)).stdout).toBe(`${address}\n`)
  })

  it('account import encrypts a hex key; a duplicate, a bad hex key and a wrong password fail with exit code 1', () => {
    const d = dir()
    const ks = join(d, 'ks')
    const pw = secret(d, 'pw', 'pw')
    const wallet = Wallet.createRandom()
    const keyFile = secret(d, 'key.hex', `${wallet.privateKey.slice(2)}\n`)
    const imported = polis('account', 'import', '--keystore', ks, '--password-file', pw, '--lightkdf', keyFile)
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stdout).toContain(wallet.address)
    const path = /Path of the secret key file:\s+(\S+)/.exec(imported.stdout)?.[1] as string
    expect(polis('account', 'inspect', path, '--password-file', pw, '--private').stdout).toContain(wallet.privateKey)

    const again = polis('account', 'import', '--keystore', ks, '--password-file', pw, '--lightkdf', keyFile)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain(`account ${wallet.address} already exists`)

    const bad = polis('account', 'import', '--keystore', ks, '--password-file', pw, secret(d, 'bad', '0xnothex'))
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/neither a keystore .* nor a 32-byte hex private key/)

    const wrong = polis('account', 'inspect', path, '--password-file', secret(d, 'wrong', 'nope'))
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain(`could not decrypt ${path} with the given password`)

    const missing = polis('key', 'address', join(d, 'missing'))
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('ENOENT')

    const noKeystore = polis('account', 'list')
    expect(noKeystore.code).toBe(1)
    expect(noKeystore.stderr).toContain('--keystore DIR')
  })

  it('run --validator-key KEYSTORE --password-file F seals blocks', async () => {
    const d = dir()
    const pw = secret(d, 'pw', 'validator password\n')
    const hex = secret(d, 'validator.hex', DEV_VALIDATOR.privateKey)
    const imported = polis('account', 'import', '--keystore', join(d, 'ks'), '--password-file', pw, '--lightkdf', hex)
    expect(imported.code, imported.stderr).toBe(0)
    const keystore = /Path of the secret key file:\s+(\S+)/.exec(imported.stdout)?.[1] as string
    const node = await startChildNode(join(d, 'data'), ['--validator-key', keystore, '--password-file', pw])
    nodes.push(node)
    await waitFor('block 2', async () => {
      const res = await rpc(node.url, 'eth_blockNumber', [])
      return BigInt(res.result as string) >= 2n ? true : undefined
    })
    expect(node.output()).not.toContain('plain-text validator key')
  })

  it('run with a plain hex validator key warns that it is for development only', async () => {
    const d = dir()
    const node = await startChildNode(join(d, 'data'), [
      '--validator-key',
      secret(d, 'validator.hex', `${DEV_VALIDATOR.privateKey}\n`),
    ])
    nodes.push(node)
    await waitFor('the warning', async () =>
      node.output().includes('plain-text validator key: for development only; use a keystore') ? true : undefined,
    )
  })

  it('run refuses a wrong password, a missing password file and a key file others may read (exit code 1)', () => {
    const d = dir()
    const pw = secret(d, 'pw', 'pw')
    const hex = secret(d, 'validator.hex', Wallet.createRandom().privateKey)
    const imported = polis('account', 'import', '--keystore', join(d, 'ks'), '--password-file', pw, '--lightkdf', hex)
    const keystore = /Path of the secret key file:\s+(\S+)/.exec(imported.stdout)?.[1] as string
    const run = (...args: string[]) =>
      polis('run', '--datadir', join(d, 'data'), '--rpc-host', '127.0.0.1', '--rpc-port', '0', ...args)

    const wrong = run('--validator-key', keystore, '--password-file', secret(d, 'wrong', 'nope'))
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain(`could not decrypt ${keystore} with the given password`)

    const noPassword = run('--validator-key', keystore)
    expect(noPassword.code).toBe(1)
    expect(noPassword.stderr).toContain('is a keystore: give its password with --password-file')

    if (posix) {
      chmodSync(hex, 0o644)
      const open = run('--validator-key', hex)
      expect(open.code).toBe(1)
      expect(open.stderr).toContain(`key file ${hex} has mode 0644`)
      expect(open.stderr).toContain(`chmod 600 ${hex}`)
      chmodSync(pw, 0o644)
      const openPassword = run('--validator-key', keystore, '--password-file', pw)
      expect(openPassword.code).toBe(1)
      expect(openPassword.stderr).toContain(`password file ${pw} has mode 0644`)
    }
  })
})
