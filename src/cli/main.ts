#!/usr/bin/env node
/** `polis`: run a node, or initialise a data directory from a genesis file. */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { hexToBytes } from '@ethereumjs/util'
import { Command, InvalidArgumentError, Option } from 'commander'
import { createCrypto } from '../crypto/index.js'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE, DEV_MNEMONIC, DEV_VALIDATOR } from '../genesis/index.js'
import { createLogger } from '../log/index.js'
import { PolisNode } from '../node.js'
import { openChain } from '../open.js'

const DEFAULT_DATADIR = join(homedir(), '.polis', 'dev')

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('must be a port number 0-65535')
  return port
}

async function readKeyFile(file: string): Promise<Uint8Array> {
  const text = (await readFile(file, 'utf8')).trim()
  const hex = text.startsWith('0x') ? text : `0x${text}`
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${file} must hold a 32-byte hex private key`)
  return hexToBytes(hex as `0x${string}`)
}

function printDevWarning(): void {
  const lines = [
    '',
    '================================================================================',
    '  DEV CHAIN: these accounts and keys are PUBLIC. NEVER use them on a real network:',
    '  anyone can take funds sent to them.',
    `  Mnemonic: "${DEV_MNEMONIC}"`,
    '================================================================================',
    ...DEV_ACCOUNTS.map((a, i) => `  (${i}) ${a.address}  10000 ETH  key ${a.privateKey}`),
    `  validator ${DEV_VALIDATOR.address}  key ${DEV_VALIDATOR.privateKey}`,
    '================================================================================',
    '',
  ]
  process.stderr.write(`${lines.join('\n')}\n`)
}

async function run(opts: {
  datadir?: string
  genesis?: string
  rpcHost: string
  rpcPort: number
  validatorKey?: string
  logLevel: string
}): Promise<void> {
  const dev = opts.genesis === undefined
  const genesisFile = dev ? DEV_GENESIS_FILE : resolve(opts.genesis as string)
  const datadir = resolve(opts.datadir ?? DEFAULT_DATADIR)
  const log = createLogger(opts.logLevel as 'info')
  let validatorKey: Uint8Array | undefined
  if (opts.validatorKey !== undefined) validatorKey = await readKeyFile(opts.validatorKey)
  else if (dev) validatorKey = hexToBytes(DEV_VALIDATOR.privateKey)
  if (dev) printDevWarning()
  const node = await PolisNode.start({
    datadir,
    genesisFile,
    validatorKey,
    rpc: { host: opts.rpcHost, port: opts.rpcPort },
    log,
  })
  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down')
    node.stop().then(
      () => process.exit(0),
      (e) => {
        log.error({ err: e }, 'error while stopping')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

async function init(opts: { genesis: string; datadir: string }): Promise<void> {
  const { chain, db } = await openChain(resolve(opts.datadir), resolve(opts.genesis), createCrypto())
  const genesisHash = chain.genesis.hash()
  await db.close()
  process.stdout.write(
    `initialised ${resolve(opts.datadir)} with genesis ${Buffer.from(genesisHash).toString('hex')}\n`,
  )
}

const program = new Command()
  .name('polis')
  .description('Polis: an Ethereum-compatible QBFT node for city chains')
  .version('0.1.0')

program
  .command('run', { isDefault: true })
  .description('run a node (without --genesis: a single-validator dev chain on the embedded dev genesis)')
  .option('--datadir <dir>', `data directory (default ${DEFAULT_DATADIR})`)
  .option('--genesis <file>', 'genesis.json of the chain (default: the embedded dev genesis)')
  .option('--rpc-host <host>', 'JSON-RPC listen address', '127.0.0.1')
  .option('--rpc-port <port>', 'JSON-RPC port', parsePort, 8545)
  .option('--validator-key <file>', "file holding this validator's hex private key")
  .addOption(
    new Option('--log-level <level>', 'log level')
      .choices(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
      .default('info'),
  )
  .action(run)

program
  .command('init')
  .description('initialise a data directory from a genesis file')
  .requiredOption('--genesis <file>', 'genesis.json of the chain')
  .requiredOption('--datadir <dir>', 'data directory')
  .action(init)

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`polis: ${e.message}\n`)
  process.exit(1)
})
