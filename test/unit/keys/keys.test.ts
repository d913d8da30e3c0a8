import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { decryptKeystoreJsonSync, encryptKeystoreJsonSync, Wallet } from 'ethers'
import { afterEach, describe, expect, it } from 'vitest'
import { readConfigFile } from '../../../src/config/index.js'
import {
  addressOf,
  createKeystore,
  type KeyFileErrorCode,
  keyFileAddress,
  keyFileName,
  listKeystore,
  readKeyFile,
} from '../../../src/keys/index.js'

const KEY = hexToBytes('0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d')
const posix = process.platform !== 'win32'

// The test vectors of the Web3 Secret Storage definition (password "testpassword", the key above).
const SPEC_SCRYPT = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '83dbcc02d8ccb40e466191a123791e0e' },
    ciphertext: 'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
    kdf: 'scrypt',
    kdfparams: {
      dklen: 32,
      n: 262144,
      r: 1,
      p: 8,
      salt: 'ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19',
    },
    mac: '2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
}
const SPEC_PBKDF2 = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
    ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
    kdf: 'pbkdf2',
    kdfparams: {
      c: 262144,
      dklen: 32,
      prf: 'hmac-sha256',
      salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd',
    },
    mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
}

describe('key files', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'polis-keys-'))
    dirs.push(d)
    return d
  }
  const write = (d: string, name: string, text: string, mode = 0o600) => {
    const file = join(d, name)
    writeFileSync(file, text, { mode })
    chmodSync(file, mode)
    return file
  }
  const failsWith = async (p: Promise<unknown>, code: KeyFileErrorCode, message?: RegExp) => {
    const error = await p.then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    )
    expect(error, `expected ${code}`).toBeDefined()
    expect(error?.code).toBe(code)
    if (message) expect(error?.message).toMatch(message)
  }

  it('creates an owner-only v3 keystore named as geth, that decrypts with its password to the same key', async () => {
    const d = dir()
    const created = await createKeystore(join(d, 'keystore'), { password: 'pw', lightKdf: true, privateKey: KEY })
    expect(created.address).toBe(addressOf(KEY))
    expect(created.path).toMatch(/UTC--\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{9}Z--[0-9a-f]{40}$/)
    expect(created.path.endsWith(created.address.slice(2).toLowerCase())).toBe(true)
    if (posix) {
      expect(statSync(created.path).mode & 0o777).toBe(0o600)
      expect(statSync(join(d, 'keystore')).mode & 0o777).toBe(0o700)
    }
    const json = JSON.parse(readFileSync(created.path, 'utf8'))
    expect(json).toMatchObject({ version: 3, crypto: { kdf: 'scrypt', cipher: 'aes-128-ctr' } })
    const key = await readKeyFile(created.path, { passwordFile: write(d, 'pw', 'pw\nignored second line\n') })
    expect(key).toEqual({ privateKey: KEY, address: created.address, kind: 'keystore' })
    // A reference implementation reads it too.
    expect(decryptKeystoreJsonSync(readFileSync(created.path, 'utf8'), 'pw').privateKey).toBe(bytesToHex(KEY))
  })

  it('generates a fresh key with the standard scrypt cost (N = 2^18) by default', async () => {
    const d = dir()
    const created = await createKeystore(d, { password: '' })
    expect(JSON.parse(readFileSync(created.path, 'utf8')).crypto.kdfparams).toMatchObject({ n: 262144, r: 8, p: 1 })
    expect((await readKeyFile(created.path, { passwordFile: write(d, '.pw', '') })).address).toBe(created.address)
  }, 30_000)

  it('refuses a wrong password', async () => {
    const d = dir()
    const created = await createKeystore(d, { password: 'right', lightKdf: true })
    await failsWith(
      readKeyFile(created.path, { passwordFile: write(d, '.pw', 'wrong\n') }),
      'WRONG_PASSWORD',
      /could not decrypt .* with the given password/,
    )
  })

  it('asks for a password file for a keystore', async () => {
    const d = dir()
    const created = await createKeystore(d, { password: 'pw', lightKdf: true })
    await failsWith(readKeyFile(created.path), 'PASSWORD_REQUIRED', /--password-file/)
  })

  it.skipIf(!posix)(
    'refuses key and password files that group or others may read, naming the mode and chmod',
    async () => {
      const d = dir()
      const created = await createKeystore(d, { password: 'pw', lightKdf: true })
      const pw = write(d, '.pw', 'pw')
      chmodSync(created.path, 0o644)
      await failsWith(
        readKeyFile(created.path, { passwordFile: pw }),
        'INSECURE_PERMISSIONS',
        new RegExp(`key file ${created.path} has mode 0644.*chmod 600 ${created.path}`),
      )
      const plain = write(d, 'plain', bytesToHex(KEY), 0o640)
      await failsWith(readKeyFile(plain), 'INSECURE_PERMISSIONS', /mode 0640/)
      chmodSync(created.path, 0o600)
      chmodSync(pw, 0o604)
      await failsWith(readKeyFile(created.path, { passwordFile: pw }), 'INSECURE_PERMISSIONS', /password file .* 0604/)
    },
  )

  it('accepts a plain hex key, with or without 0x, as kind plain', async () => {
    const d = dir()
    for (const text of [bytesToHex(KEY), `${bytesToHex(KEY).slice(2)}\n`]) {
      const key = await readKeyFile(write(d, 'plain', text))
      expect(key).toEqual({ privateKey: KEY, address: addressOf(KEY), kind: 'plain' })
    }
  })

  it('names what is wrong with a bad file', async () => {
    const d = dir()
    await failsWith(readKeyFile(join(d, 'missing')), 'UNREADABLE', /cannot read .*missing: ENOENT/)
    await failsWith(readKeyFile(write(d, 'short', '0x1234')), 'NOT_A_KEY_FILE', /neither a keystore/)
    await failsWith(readKeyFile(write(d, 'zero', `0x${'0'.repeat(64)}`)), 'NOT_A_KEY_FILE')
    await failsWith(readKeyFile(write(d, 'json', '{"version": 3')), 'NOT_A_KEY_FILE', /invalid JSON/)
    await failsWith(readKeyFile(write(d, 'v4', '{"version": 4}')), 'UNSUPPORTED_KEYSTORE', /version 4/)
    const argon = { ...SPEC_SCRYPT, crypto: { ...SPEC_SCRYPT.crypto, kdf: 'argon2id' } }
    await failsWith(readKeyFile(write(d, 'argon', JSON.stringify(argon))), 'UNSUPPORTED_KEYSTORE', /"argon2id"/)
    const cbc = { ...SPEC_SCRYPT, crypto: { ...SPEC_SCRYPT.crypto, cipher: 'aes-128-cbc' } }
    await failsWith(readKeyFile(write(d, 'cbc', JSON.stringify(cbc))), 'UNSUPPORTED_KEYSTORE', /cipher/)
    const { mac: _, ...noMac } = SPEC_SCRYPT.crypto
    await failsWith(readKeyFile(write(d, 'nomac', JSON.stringify({ ...SPEC_SCRYPT, crypto: noMac }))), 'NOT_A_KEY_FILE')
  })

  it('decrypts the Web3 Secret Storage test vectors (scrypt and pbkdf2)', async () => {
    const d = dir()
    const pw = write(d, '.pw', 'testpassword')
    for (const vector of [SPEC_SCRYPT, SPEC_PBKDF2]) {
      const key = await readKeyFile(write(d, vector.crypto.kdf, JSON.stringify(vector)), { passwordFile: pw })
      expect(bytesToHex(key.privateKey)).toBe(bytesToHex(KEY))
    }
  }, 30_000)

  it("decrypts ethers' keystores (which write 'Crypto' in some versions)", async () => {
    const d = dir()
    const wallet = Wallet.createRandom()
    const json = encryptKeystoreJsonSync({ address: wallet.address, privateKey: wallet.privateKey }, 'pässword', {
      scrypt: { N: 1024 },
    })
    const key = await readKeyFile(write(d, 'ethers', json), { passwordFile: write(d, '.pw', 'pässword\r\n') })
    expect(key.address).toBe(wallet.address)
    expect(bytesToHex(key.privateKey)).toBe(wallet.privateKey)
    const capitalised = json.replace('"crypto"', '"Crypto"')
    expect((await readKeyFile(write(d, 'cap', capitalised), { passwordFile: join(d, '.pw') })).address).toBe(
      wallet.address,
    )
  })

  it('refuses a keystore whose decrypted key is not its stated address', async () => {
    const d = dir()
    const lying = { ...SPEC_PBKDF2, address: '00'.repeat(20) }
    await failsWith(
      readKeyFile(write(d, 'lying', JSON.stringify(lying)), { passwordFile: write(d, '.pw', 'testpassword') }),
      'ADDRESS_MISMATCH',
    )
  })

  it('lists the keystores of a directory in file name order, skipping other files; refuses a duplicate', async () => {
    const d = dir()
    const first = await createKeystore(d, { password: 'a', lightKdf: true, now: new Date('2026-01-01T00:00:00Z') })
    const second = await createKeystore(d, { password: 'b', lightKdf: true, now: new Date('2026-01-02T00:00:00Z') })
    write(d, 'README', 'not a key')
    write(d, '.hidden', JSON.stringify(SPEC_SCRYPT))
    expect(await listKeystore(d)).toEqual([first, second])
    expect(await listKeystore(join(d, 'none'))).toEqual([])
    const existing = readKeyFile(first.path, { passwordFile: write(d, '.pw', 'a') })
    await failsWith(
      createKeystore(d, { password: 'c', lightKdf: true, privateKey: (await existing).privateKey }),
      'ACCOUNT_EXISTS',
      /already exists/,
    )
  })

  it("tells a key file's address without a password when the keystore states it", async () => {
    const d = dir()
    const created = await createKeystore(d, { password: 'pw', lightKdf: true, privateKey: KEY })
    expect(await keyFileAddress(created.path)).toBe(addressOf(KEY))
    expect(await keyFileAddress(write(d, 'plain', bytesToHex(KEY), 0o644))).toBe(addressOf(KEY))
    await failsWith(keyFileAddress(write(d, 'vector', JSON.stringify(SPEC_PBKDF2))), 'PASSWORD_REQUIRED')
    const pw = write(d, '.pw', 'testpassword')
    expect(await keyFileAddress(join(d, 'vector'), { passwordFile: pw })).toBe(addressOf(KEY))
  })

  it("geth's file name: UTC--<time with nanoseconds>--<address>", () => {
    expect(keyFileName('0xAbCd000000000000000000000000000000000001', new Date('2026-03-04T05:06:07.089Z'))).toBe(
      'UTC--2026-03-04T05-06-07.089000000Z--abcd000000000000000000000000000000000001',
    )
  })

  it('reads password-file from a config file, relative to it', async () => {
    const d = dir()
    const file = write(d, 'config.toml', 'validator-key = "keystore/key.json"\npassword-file = "secrets/pw"\n')
    expect(await readConfigFile(file)).toMatchObject({
      validatorKey: join(d, 'keystore/key.json'),
      passwordFile: join(d, 'secrets/pw'),
    })
  })
})
