import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { checkBearer, guardMethods, hostAllowed, isLoopbackHost, readJwtSecret } from '../../../src/rpc/auth.js'
import { removeDir, tempDir } from '../../helpers/node.js'

const secret = Uint8Array.from(Buffer.from('11'.repeat(32), 'hex'))
const now = 1_800_000_000

function token(key: Uint8Array, claims: { iat?: number } = { iat: now }, alg = 'HS256'): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg })
  if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat)
  return jwt.sign(key)
}

describe('JWT bearer tokens (HS256, iat within 60 s)', () => {
  it('accepts a token signed with the secret and refuses everything else with a reason', async () => {
    expect(await checkBearer(`Bearer ${await token(secret)}`, secret, now)).toBeUndefined()
    expect(await checkBearer(`bearer ${await token(secret, { iat: now - 59 })}`, secret, now)).toBeUndefined()
    expect(await checkBearer(undefined, secret, now)).toBe('missing')
    expect(await checkBearer('', secret, now)).toBe('missing')
    expect(await checkBearer('Basic dXNlcjpwYXNz', secret, now)).toMatch(/not "Bearer <token>"/)
    const other = Uint8Array.from(Buffer.from('22'.repeat(32), 'hex'))
    expect(await checkBearer(`Bearer ${await token(other)}`, secret, now)).toMatch(/invalid token/)
    expect(await checkBearer(`Bearer ${await token(secret, { iat: now - 61 })}`, secret, now)).toMatch(/iat/)
    expect(await checkBearer(`Bearer ${await token(secret, { iat: now + 61 })}`, secret, now)).toMatch(/iat/)
    expect(await checkBearer(`Bearer ${await token(secret, {})}`, secret, now)).toMatch(/no iat/)
    expect(await checkBearer(`Bearer ${await token(secret, { iat: now }, 'HS512')}`, secret, now)).toMatch(/invalid/)
    expect(await checkBearer('Bearer not.a.jwt', secret, now)).toMatch(/invalid token/)
  })

  it('guards the methods of protected namespaces only', async () => {
    const methods = guardMethods({ eth_chainId: () => '0x1', debug_x: () => 'secret', txpool_status: () => 1 }, [
      'debug',
      'txpool',
    ])
    expect(await methods.eth_chainId([])).toBe('0x1')
    expect(() => methods.debug_x([])).toThrow(/Unauthorized: debug_ methods need a JWT/)
    expect(() => methods.txpool_status([])).toThrow(/Unauthorized/)
  })
})

describe('listen addresses and Host headers', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopbackHost(host)).toBe(true)
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'node-0', '128.0.0.1']) expect(isLoopbackHost(host)).toBe(false)
  })

  it("follows geth's vhosts rule: IP literals pass, names must be listed, '*' allows all", () => {
    expect(hostAllowed('localhost:8545', ['localhost'])).toBe(true)
    expect(hostAllowed('LOCALHOST', ['localhost'])).toBe(true)
    expect(hostAllowed('127.0.0.1:8545', ['localhost'])).toBe(true)
    expect(hostAllowed('[::1]:8545', ['localhost'])).toBe(true)
    expect(hostAllowed('10.1.2.3', ['localhost'])).toBe(true)
    expect(hostAllowed('evil.example:8545', ['localhost'])).toBe(false)
    expect(hostAllowed('rpc.city.example', ['localhost', 'rpc.city.example'])).toBe(true)
    expect(hostAllowed('anything.example', ['*'])).toBe(true)
  })
})

describe('JWT secret files', () => {
  const dir = tempDir('polis-jwt-')
  afterAll(() => removeDir(dir))

  it('reads 32+ bytes of hex from a private file and refuses the rest', async () => {
    const file = join(dir, 'jwt.hex')
    writeFileSync(file, `0x${'ab'.repeat(32)}\n`, { mode: 0o600 })
    expect(Buffer.from(await readJwtSecret(file)).toString('hex')).toBe('ab'.repeat(32))
    chmodSync(file, 0o644)
    await expect(readJwtSecret(file)).rejects.toThrow(/readable by others \(mode 644\): chmod 600/)
    const short = join(dir, 'short.hex')
    writeFileSync(short, 'abcd', { mode: 0o600 })
    await expect(readJwtSecret(short)).rejects.toThrow(/at least 32 bytes as hex/)
    await expect(readJwtSecret(join(dir, 'missing'))).rejects.toThrow(/cannot read JWT secret file .*ENOENT/)
  })
})
