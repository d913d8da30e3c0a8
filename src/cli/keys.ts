/** `polis account new|list|import|inspect` and `polis key address`: geth's keystore commands. */
import { join, resolve } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import type { Command } from 'commander'
import {
  createKeystore,
  KeyFileError,
  keyFileAddress,
  listKeystore,
  readKeyFile,
  readPasswordFile,
} from '../keys/index.js'

interface KeystoreFlags {
  keystore?: string
  datadir?: string
}

/** `--keystore DIR`, or `<datadir>/keystore` as geth. */
function keystoreDir(flags: KeystoreFlags): string {
  if (flags.keystore !== undefined) return resolve(flags.keystore)
  if (flags.datadir !== undefined) return join(resolve(flags.datadir), 'keystore')
  throw new Error('give the keystore directory: --keystore DIR (or --datadir DIR for DIR/keystore)')
}

const out = (line: string) => process.stdout.write(`${line}\n`)

export function addKeyCommands(program: Command): void {
  const account = program.command('account').description('manage accounts in a keystore directory (geth format)')

  account
    .command('new')
    .description('generate a key and store it encrypted (Web3 Secret Storage v3, scrypt) in the keystore')
    .option('--keystore <dir>', 'keystore directory (default <datadir>/keystore)')
    .option('--datadir <dir>', 'data directory whose keystore/ to use')
    .requiredOption('--password-file <file>', "file whose first line is the new key's password")
    .option('--lightkdf', 'cheaper scrypt (N = 4096): fast, weaker; for tests and development', false)
    .action(async (o: KeystoreFlags & { passwordFile: string; lightkdf: boolean }) => {
      const password = await readPasswordFile(resolve(o.passwordFile))
      const created = await createKeystore(keystoreDir(o), { password, lightKdf: o.lightkdf })
      out(`Public address of the key:   ${created.address}`)
      out(`Path of the secret key file: ${created.path}`)
    })

  account
    .command('list')
    .description('list the accounts of the keystore')
    .option('--keystore <dir>', 'keystore directory (default <datadir>/keystore)')
    .option('--datadir <dir>', 'data directory whose keystore/ to use')
    .action(async (o: KeystoreFlags) => {
      const accounts = await listKeystore(keystoreDir(o))
      accounts.forEach((a, i) => {
        out(`Account #${i}: ${a.address} ${a.path}`)
      })
    })

  account
    .command('import')
    .description('encrypt a plain hex private key into the keystore')
    .argument('<key-file>', 'file holding a 32-byte hex private key')
    .option('--keystore <dir>', 'keystore directory (default <datadir>/keystore)')
    .option('--datadir <dir>', 'data directory whose keystore/ to use')
    .requiredOption('--password-file <file>', "file whose first line is the key's new password")
    .option('--lightkdf', 'cheaper scrypt (N = 4096): fast, weaker; for tests and development', false)
    .action(async (file: string, o: KeystoreFlags & { passwordFile: string; lightkdf: boolean }) => {
      const key = await readKeyFile(resolve(file), { checkPermissions: false })
      if (key.kind !== 'plain')
        throw new KeyFileError('NOT_A_KEY_FILE', file, `${file} is already a keystore: copy it into the keystore`)
      const password = await readPasswordFile(resolve(o.passwordFile))
      const created = await createKeystore(keystoreDir(o), {
        password,
        lightKdf: o.lightkdf,
        privateKey: key.privateKey,
      })
      out(`Public address of the key:   ${created.address}`)
      out(`Path of the secret key file: ${created.path}`)
    })

  account
    .command('inspect')
    .description("decrypt a keystore file and print its address (and with --private its key), as geth's ethkey")
    .argument('<keystore-file>', 'keystore file')
    .requiredOption('--password-file <file>', "file whose first line is the keystore's password")
    .option('--private', 'also print the private key', false)
    .action(async (file: string, o: { passwordFile: string; private: boolean }) => {
      const key = await readKeyFile(resolve(file), { passwordFile: resolve(o.passwordFile), checkPermissions: false })
      if (key.kind !== 'keystore') throw new KeyFileError('NOT_A_KEY_FILE', file, `${file} is not a keystore`)
      out(`Address:     ${key.address}`)
      if (o.private) out(`Private key: ${bytesToHex(key.privateKey)}`)
    })

  program
    .command('key')
    .description('inspect key files')
    .command('address')
    .description('print the address of a key file: a keystore (its stated address, or decrypted) or a plain hex key')
    .argument('<key-file>', 'keystore or plain hex key file')
    .option('--password-file <file>', 'decrypt the keystore and derive the address from its key')
    .action(async (file: string, o: { passwordFile?: string }) => {
      out(
        await keyFileAddress(resolve(file), {
          passwordFile: o.passwordFile === undefined ? undefined : resolve(o.passwordFile),
        }),
      )
    })
}
