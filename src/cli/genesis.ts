/** `polis genesis`: keys, genesis and per-node configs for a new QBFT network. */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { stringify as toToml } from 'smol-toml'
import { encodeExtraData, genesisExtraData, sortValidators } from '../consensus/qbft/index.js'
import type { Crypto } from '../crypto/index.js'
import { DEV_ACCOUNTS, DEV_GENESIS_FILE } from '../genesis/index.js'
import { peerIdOfPrivateKey } from '../net/index.js'

export interface NetworkLayout {
  validators: number
  out: string
  chainId: number
  host: string
  rpcPort: number
  rpcPortStep: number
  p2pPort: number
  blockPeriodSeconds: number
  /** Prefund the first well-known dev account (public key!) — for local devnets only. */
  devAccount: boolean
}

export interface GeneratedNode {
  dir: string
  address: `0x${string}`
  configFile: string
  rpcUrl: string
}

/** Writes `out/genesis.json` and `out/node-<i>/{key,config.toml}`; keys are readable by the owner only. */
export async function generateNetwork(layout: NetworkLayout, crypto: Crypto): Promise<GeneratedNode[]> {
  if (!Number.isInteger(layout.validators) || layout.validators < 1 || layout.validators > 100) {
    throw new Error('--validators must be a whole number from 1 to 100')
  }
  const keys = Array.from({ length: layout.validators }, () => secp256k1.utils.randomSecretKey())
  const addresses = keys.map((k) => crypto.privateKeyToAddress(k))
  const template = JSON.parse(await readFile(DEV_GENESIS_FILE, 'utf8'))
  // Keep the system contracts (accounts with code); the dev accounts only when asked for.
  const alloc: Record<string, unknown> = {}
  for (const [address, account] of Object.entries(template.alloc as Record<string, { code?: string }>)) {
    if (account.code !== undefined) alloc[address] = account
  }
  if (layout.devAccount) alloc[DEV_ACCOUNTS[0].address] = { balance: `0x${(10n ** 22n).toString(16)}` }
  const genesis = {
    ...template,
    config: {
      ...template.config,
      chainId: layout.chainId,
      qbft: { ...template.config.qbft, blockperiodseconds: layout.blockPeriodSeconds },
    },
    extraData: bytesToHex(encodeExtraData(genesisExtraData(sortValidators(addresses)))),
    alloc,
  }
  await mkdir(layout.out, { recursive: true })
  await writeFile(join(layout.out, 'genesis.json'), `${JSON.stringify(genesis, null, 2)}\n`)
  const p2pAddress = (i: number) => `/ip4/${layout.host}/tcp/${layout.p2pPort + i}/p2p/${peerIdOfPrivateKey(keys[i])}`
  const nodes: GeneratedNode[] = []
  for (let i = 0; i < keys.length; i++) {
    const dir = join(layout.out, `node-${i}`)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const keyFile = join(dir, 'key')
    await writeFile(keyFile, `${bytesToHex(keys[i])}\n`, { mode: 0o600 })
    await chmod(keyFile, 0o600)
    const rpcPort = layout.rpcPort + i * layout.rpcPortStep
    const config = {
      datadir: 'data',
      genesis: '../genesis.json',
      'validator-key': 'key',
      rpc: { host: layout.host, port: rpcPort, apis: ['eth', 'net', 'web3', 'qbft'] },
      p2p: {
        listen: [`/ip4/${layout.host}/tcp/${layout.p2pPort + i}`],
        'static-peers': keys
          .map((_, j) => j)
          .filter((j) => j !== i)
          .map(p2pAddress),
      },
    }
    const configFile = join(dir, 'config.toml')
    await writeFile(configFile, toToml(config))
    nodes.push({
      dir,
      address: bytesToHex(addresses[i]) as `0x${string}`,
      configFile,
      rpcUrl: `http://${layout.host}:${rpcPort}`,
    })
  }
  return nodes
}
