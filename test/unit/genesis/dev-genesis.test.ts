import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, getAddress, keccak256, parseEther } from 'viem'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { buildDevGenesis } from '../../../scripts/make-dev-genesis.js'
import { DEV_ACCOUNTS, DEV_MNEMONIC, DEV_VALIDATOR } from '../../../src/genesis/devKeys.js'

interface AllocEntry {
  balance: string
  nonce?: string
  code?: `0x${string}`
  storage?: Record<string, string>
}

const DEV_JSON = fileURLToPath(new URL('../../../genesis/dev.json', import.meta.url))
const genesis = JSON.parse(readFileSync(DEV_JSON, 'utf8')) as {
  config: Record<string, unknown> & { chainId: number; qbft: Record<string, number> }
  extraData: `0x${string}`
  alloc: Record<string, AllocEntry>
} & Record<string, unknown>

/** Keccak-256 of the mainnet runtime code of each system contract (pins the exact bytes). */
const SYSTEM_CONTRACT_CODE_HASHES: Record<string, `0x${string}`> = {
  // EIP-4788 beacon roots
  '0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02': '0xf57acd40259872606d76197ef052f3d35588dadf919ee1f0e3cb9b62d3f4b02c',
  // EIP-2935 history storage
  '0x0000F90827F1C53a10cb7A02335B175320002935': '0x6e49e66782037c0555897870e29fa5e552daf4719552131a0abce779daec0a5d',
  // EIP-7002 withdrawal requests
  '0x00000961Ef480Eb55e80D19ad83579A64c007002': '0x0345a365d2f4c5975b9f1599abe0a2ee76b7a3a731bc68781bd04c84e4858f50',
  // EIP-7251 consolidation requests
  '0x0000BBdDc7CE488642fb579F8B00f3a590007251': '0x78c6cb5202685228bbcbfb992b1c4e116c7ec5ef11e25b8e92716cfc628ddd60',
}

function allocOf(address: string): AllocEntry | undefined {
  const key = Object.keys(genesis.alloc).find((k) => k.toLowerCase() === address.toLowerCase())
  return key === undefined ? undefined : genesis.alloc[key]
}

describe('dev keys', () => {
  it('DEV_ACCOUNTS are indices 0..9 of the dev mnemonic, checksummed', () => {
    expect(DEV_ACCOUNTS).toHaveLength(10)
    DEV_ACCOUNTS.forEach((account, i) => {
      const derived = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i })
      expect(account.address).toBe(derived.address)
      expect(account.address).toBe(getAddress(account.address))
      expect(account.privateKey).toBe(bytesToHex(derived.getHdKey().privateKey!))
    })
  })

  it('DEV_VALIDATOR is index 10 of the dev mnemonic', () => {
    const derived = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 10 })
    expect(DEV_VALIDATOR.address).toBe(derived.address)
    expect(DEV_VALIDATOR.privateKey).toBe(bytesToHex(derived.getHdKey().privateKey!))
  })

  it('every hard-coded private key matches its address', () => {
    for (const { address, privateKey } of [...DEV_ACCOUNTS, DEV_VALIDATOR]) {
      expect(privateKeyToAccount(privateKey).address).toBe(address)
    }
  })
})

describe('genesis/dev.json', () => {
  it('is exactly what scripts/make-dev-genesis.ts produces', () => {
    expect(genesis).toEqual(buildDevGenesis())
  })

  it('is chain 1337 with every fork through Osaka at genesis and QBFT parameters', () => {
    const { config } = genesis
    expect(config.chainId).toBe(1337)
    for (const key of [
      'homesteadBlock',
      'eip150Block',
      'eip155Block',
      'eip158Block',
      'byzantiumBlock',
      'constantinopleBlock',
      'petersburgBlock',
      'istanbulBlock',
      'berlinBlock',
      'londonBlock',
      'shanghaiTime',
      'cancunTime',
      'pragueTime',
      'osakaTime',
    ]) {
      expect(config[key], key).toBe(0)
    }
    expect(config).not.toHaveProperty('terminalTotalDifficulty')
    expect(config.qbft).toEqual({
      blockperiodseconds: 1,
      epochlength: 30000,
      requesttimeoutseconds: 4,
      emptyblockperiodseconds: 0,
    })
    expect(BigInt(genesis.gasLimit as string)).toBe(100_000_000n)
    expect(BigInt(genesis.baseFeePerGas as string)).toBe(1_000_000_000n)
  })

  it('prefunds the 10 dev accounts with 10,000 ETH each and not the validator', () => {
    for (const account of DEV_ACCOUNTS) {
      const entry = allocOf(account.address)
      expect(entry, account.address).toBeDefined()
      expect(BigInt(entry!.balance)).toBe(parseEther('10000'))
      expect(entry!.code).toBeUndefined()
    }
    expect(allocOf(DEV_VALIDATOR.address)).toBeUndefined()
    expect(Object.keys(genesis.alloc)).toHaveLength(
      DEV_ACCOUNTS.length + Object.keys(SYSTEM_CONTRACT_CODE_HASHES).length,
    )
  })

  it('has extraData RLP([32 zero bytes, [validator], [], empty round, []])', () => {
    const decoded = RLP.decode(genesis.extraData) as unknown[]
    expect(decoded).toHaveLength(5)
    const [vanity, validators, vote, round, seals] = decoded as [
      Uint8Array,
      Uint8Array[],
      unknown[],
      Uint8Array,
      unknown[],
    ]
    expect(vanity).toEqual(new Uint8Array(32))
    expect(validators.map((v) => getAddress(bytesToHex(v)))).toEqual([DEV_VALIDATOR.address])
    expect(vote).toEqual([])
    expect(round).toEqual(new Uint8Array(0))
    expect(seals).toEqual([])
  })

  it('deploys the four system contracts with their mainnet code, nonce 1 and no balance', () => {
    for (const [address, codeHash] of Object.entries(SYSTEM_CONTRACT_CODE_HASHES)) {
      const entry = allocOf(address)
      expect(entry, address).toBeDefined()
      expect(entry!.code?.length ?? 0).toBeGreaterThan(2)
      expect(keccak256(entry!.code!)).toBe(codeHash)
      expect(BigInt(entry!.nonce!)).toBe(1n)
      expect(BigInt(entry!.balance)).toBe(0n)
    }
  })
})
