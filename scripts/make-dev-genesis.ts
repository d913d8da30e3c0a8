/**
 * Writes genesis/dev.json, the embedded default dev chain, from src/genesis/devKeys.ts and the system-contract
 * bytecode below, so that the file is reproducible:
 *
 *   npx tsx scripts/make-dev-genesis.ts
 */
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { DEV_ACCOUNTS, DEV_VALIDATOR } from '../src/genesis/devKeys.js'

const OUT_FILE = fileURLToPath(new URL('../genesis/dev.json', import.meta.url))

const ETHER = 10n ** 18n
const DEV_BALANCE = 10_000n * ETHER

/**
 * Runtime bytecode of the system contracts, as deployed on Ethereum mainnet. Each is the `input` of the EIP's
 * deployment transaction minus its constructor prefix; the deployment transactions recover to the senders whose
 * nonce-0 CREATE addresses are the addresses below.
 */
export const SYSTEM_CONTRACTS: readonly { eip: number; address: `0x${string}`; code: `0x${string}` }[] = [
  {
    // EIP-4788: beacon block roots (ring buffer of 8191 entries).
    eip: 4788,
    address: '0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02',
    code: '0x3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500',
  },
  {
    // EIP-2935: historical block hashes (last 8191).
    eip: 2935,
    address: '0x0000F90827F1C53a10cb7A02335B175320002935',
    code: '0x3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500',
  },
  {
    // EIP-7002: execution-layer triggerable withdrawal requests.
    eip: 7002,
    address: '0x00000961Ef480Eb55e80D19ad83579A64c007002',
    code: '0x3373fffffffffffffffffffffffffffffffffffffffe1460cb5760115f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff146101f457600182026001905f5b5f82111560685781019083028483029004916001019190604d565b909390049250505036603814608857366101f457346101f4575f5260205ff35b34106101f457600154600101600155600354806003026004013381556001015f35815560010160203590553360601b5f5260385f601437604c5fa0600101600355005b6003546002548082038060101160df575060105b5f5b8181146101835782810160030260040181604c02815460601b8152601401816001015481526020019060020154807fffffffffffffffffffffffffffffffff00000000000000000000000000000000168252906010019060401c908160381c81600701538160301c81600601538160281c81600501538160201c81600401538160181c81600301538160101c81600201538160081c81600101535360010160e1565b910180921461019557906002556101a0565b90505f6002555f6003555b5f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff14156101cd57505f5b6001546002828201116101e25750505f6101e8565b01600290035b5f555f600155604c025ff35b5f5ffd',
  },
  {
    // EIP-7251: consolidation requests.
    eip: 7251,
    address: '0x0000BBdDc7CE488642fb579F8B00f3a590007251',
    code: '0x3373fffffffffffffffffffffffffffffffffffffffe1460d35760115f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff1461019a57600182026001905f5b5f82111560685781019083028483029004916001019190604d565b9093900492505050366060146088573661019a573461019a575f5260205ff35b341061019a57600154600101600155600354806004026004013381556001015f358155600101602035815560010160403590553360601b5f5260605f60143760745fa0600101600355005b6003546002548082038060021160e7575060025b5f5b8181146101295782810160040260040181607402815460601b815260140181600101548152602001816002015481526020019060030154905260010160e9565b910180921461013b5790600255610146565b90505f6002555f6003555b5f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff141561017357505f5b6001546001828201116101885750505f61018e565b01600190035b5f555f6001556074025ff35b5f5ffd',
  },
]

const hex = (n: bigint): `0x${string}` => `0x${n.toString(16)}`

/** Besu's QBFT genesis extraData: RLP([vanity (32 zero bytes), validators, no vote, round 0, no seals]). */
function qbftGenesisExtraData(validators: readonly `0x${string}`[]): `0x${string}` {
  return bytesToHex(
    RLP.encode([
      new Uint8Array(32),
      validators.map((v) => hexToBytes(v)),
      [],
      new Uint8Array(0), // round 0, encoded as the empty string (0x80)
      [],
    ]),
  )
}

/** The dev genesis document, exactly as written to genesis/dev.json. */
export function buildDevGenesis(): Record<string, unknown> {
  const alloc: Record<string, { balance: string; nonce?: string; code?: string }> = {}
  for (const account of DEV_ACCOUNTS) alloc[account.address] = { balance: hex(DEV_BALANCE) }
  for (const contract of SYSTEM_CONTRACTS)
    alloc[contract.address] = { balance: '0x0', nonce: '0x1', code: contract.code }

  return {
    config: {
      chainId: 1337,
      homesteadBlock: 0,
      eip150Block: 0,
      eip155Block: 0,
      eip158Block: 0,
      byzantiumBlock: 0,
      constantinopleBlock: 0,
      petersburgBlock: 0,
      istanbulBlock: 0,
      berlinBlock: 0,
      londonBlock: 0,
      shanghaiTime: 0,
      cancunTime: 0,
      pragueTime: 0,
      osakaTime: 0,
      blobSchedule: {
        cancun: { target: 3, max: 6, baseFeeUpdateFraction: 3338477 },
        prague: { target: 6, max: 9, baseFeeUpdateFraction: 5007716 },
        osaka: { target: 6, max: 9, baseFeeUpdateFraction: 5007716 },
      },
      qbft: { blockperiodseconds: 1, epochlength: 30000, requesttimeoutseconds: 4, emptyblockperiodseconds: 0 },
    },
    nonce: '0x0',
    timestamp: '0x0',
    gasLimit: hex(100_000_000n),
    difficulty: '0x1',
    mixHash: '0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365',
    coinbase: `0x${'00'.repeat(20)}`,
    baseFeePerGas: hex(1_000_000_000n),
    number: '0x0',
    gasUsed: '0x0',
    parentHash: `0x${'00'.repeat(32)}`,
    extraData: qbftGenesisExtraData([DEV_VALIDATOR.address]),
    alloc,
  }
}

// Write only when run as a script, so tests can import buildDevGenesis.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(OUT_FILE, `${JSON.stringify(buildDevGenesis(), null, 2)}\n`)
  console.log(`wrote ${OUT_FILE}`)
}
