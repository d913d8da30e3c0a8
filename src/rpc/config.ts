/**
 * eth_config (EIP-7910): the fork in force at the head, the next scheduled one and the last configured one, each with
 * what operators compare across clients before a fork: blob parameters, fork id, precompiles and system contracts.
 * As geth: only timestamp-scheduled forks (Shanghai on) are described, so a chain before Shanghai answers null for
 * `current`; `next` and `last` are null when no fork is scheduled after the current one.
 */
import { crc32 } from 'node:zlib'
import { type Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { getActivePrecompiles } from '@ethereumjs/evm'
import { bigIntToAddressBytes, bigIntToBytes, bytesToHex, concatBytes, setLengthLeft } from '@ethereumjs/util'
import { paramsVM } from '@ethereumjs/vm'
import type { MethodTable } from './dispatcher.js'
import { quantity } from './format.js'
import type { RpcContext } from './options.js'
import { withParams } from './params.js'

type Hex = `0x${string}`

export interface BlobScheduleEntry {
  target: number
  max: number
  baseFeeUpdateFraction: number
}

export interface ForkConfig {
  activationTime: number
  blobSchedule: BlobScheduleEntry | null
  chainId: Hex
  forkId: Hex
  precompiles: Record<string, Hex>
  systemContracts: Record<string, Hex>
}

export interface EthConfig {
  current: ForkConfig | null
  next: ForkConfig | null
  last: ForkConfig | null
}

/** What the fork configurations are derived from. */
export interface ForkSource {
  /** The chain's Common: fork schedule, chain id, EIP parameters (not modified). */
  common: Common
  genesisHash: Uint8Array
  genesisTimestamp: bigint
  /** The genesis file's `config.blobSchedule` (EIP-7840), by fork name; forks it lacks fall back to the Common's. */
  blobSchedule?: Readonly<Record<string, Partial<BlobScheduleEntry>>>
}

/** EIP-7910's precompile names, by address (those of the execution-specs). */
const PRECOMPILE_NAMES: Readonly<Record<string, string>> = {
  '0x0000000000000000000000000000000000000001': 'ECREC',
  '0x0000000000000000000000000000000000000002': 'SHA256',
  '0x0000000000000000000000000000000000000003': 'RIPEMD160',
  '0x0000000000000000000000000000000000000004': 'ID',
  '0x0000000000000000000000000000000000000005': 'MODEXP',
  '0x0000000000000000000000000000000000000006': 'BN254_ADD',
  '0x0000000000000000000000000000000000000007': 'BN254_MUL',
  '0x0000000000000000000000000000000000000008': 'BN254_PAIRING',
  '0x0000000000000000000000000000000000000009': 'BLAKE2F',
  '0x000000000000000000000000000000000000000a': 'KZG_POINT_EVALUATION',
  '0x000000000000000000000000000000000000000b': 'BLS12_G1ADD',
  '0x000000000000000000000000000000000000000c': 'BLS12_G1MSM',
  '0x000000000000000000000000000000000000000d': 'BLS12_G2ADD',
  '0x000000000000000000000000000000000000000e': 'BLS12_G2MSM',
  '0x000000000000000000000000000000000000000f': 'BLS12_PAIRING_CHECK',
  '0x0000000000000000000000000000000000000010': 'BLS12_MAP_FP_TO_G1',
  '0x0000000000000000000000000000000000000011': 'BLS12_MAP_FP2_TO_G2',
  '0x0000000000000000000000000000000000000100': 'P256VERIFY',
}

/** EIP-4788's beacon roots contract: a constant of the EIP (@ethereumjs/vm has it built in, not as a parameter). */
const BEACON_ROOTS_ADDRESS: Hex = '0x000f3df6d732807ef1319fb7b8bb8522d0beac02'

interface TimedFork {
  name: string
  timestamp: bigint
}

/** The forks scheduled by timestamp, in activation order. */
function timestampForks(common: Common): TimedFork[] {
  return common
    .hardforks()
    .filter((hf) => hf.timestamp !== undefined && hf.timestamp !== null)
    .map((hf) => ({ name: hf.name, timestamp: BigInt(hf.timestamp as number | string) }))
}

/**
 * EIP-2124/6122 fork hash at `time` with every block-scheduled fork passed: CRC32 of the genesis hash and each
 * distinct activation block, then each distinct activation time after genesis up to `time`, as 8-byte big-endian.
 * The merge (TTD-triggered) is not a fork block here, as in geth.
 */
export function forkHash(common: Common, genesisHash: Uint8Array, genesisTimestamp: bigint, time: bigint): Hex {
  const blocks = new Set<bigint>()
  const times = new Set<bigint>()
  for (const hf of common.hardforks()) {
    if (hf.timestamp !== undefined && hf.timestamp !== null) {
      const t = BigInt(hf.timestamp)
      if (t > genesisTimestamp && t <= time) times.add(t)
    } else if (hf.block !== null && hf.block !== undefined && hf.name !== Hardfork.Paris) {
      const b = BigInt(hf.block)
      if (b > 0n) blocks.add(b)
    }
  }
  const sorted = (s: Set<bigint>) => [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const parts = [genesisHash, ...[...sorted(blocks), ...sorted(times)].map((n) => setLengthLeft(bigIntToBytes(n), 8))]
  const hash = crc32(concatBytes(...parts)) >>> 0
  return `0x${hash.toString(16).padStart(8, '0')}`
}

function addressParam(common: Common, name: string): Hex {
  return bytesToHex(bigIntToAddressBytes(common.param(name))).toLowerCase() as Hex
}

function blobScheduleOf(source: ForkSource, fork: Common): BlobScheduleEntry | null {
  const configured = source.blobSchedule?.[fork.hardfork()]
  if (
    configured?.target !== undefined &&
    configured.max !== undefined &&
    configured.baseFeeUpdateFraction !== undefined
  ) {
    return { target: configured.target, max: configured.max, baseFeeUpdateFraction: configured.baseFeeUpdateFraction }
  }
  if (!fork.isActivatedEIP(4844)) return null
  // No entry in the genesis file: the parameters the EVM runs with.
  const perBlob = fork.param('blobGasPerBlob')
  return {
    target: Number(fork.param('targetBlobGasPerBlock') / perBlob),
    max: Number(fork.param('maxBlobGasPerBlock') / perBlob),
    baseFeeUpdateFraction: Number(fork.param('blobGasPriceUpdateFraction')),
  }
}

function systemContractsOf(fork: Common): Record<string, Hex> {
  const contracts: Record<string, Hex> = {}
  if (fork.isActivatedEIP(4788)) contracts.BEACON_ROOTS_ADDRESS = BEACON_ROOTS_ADDRESS
  if (fork.isActivatedEIP(7251))
    contracts.CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS = addressParam(fork, 'consolidationRequestPredeployAddress')
  if (fork.isActivatedEIP(6110)) {
    // The address @ethereumjs/vm collects deposit requests from: the chain's own, else mainnet's.
    const chain = (fork as unknown as { _chainParams: { depositContractAddress?: string } })._chainParams
    const address = chain.depositContractAddress ?? Mainnet.depositContractAddress ?? ''
    contracts.DEPOSIT_CONTRACT_ADDRESS = address.toLowerCase() as Hex
  }
  if (fork.isActivatedEIP(2935)) contracts.HISTORY_STORAGE_ADDRESS = addressParam(fork, 'historyStorageAddress')
  if (fork.isActivatedEIP(7002))
    contracts.WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS = addressParam(fork, 'withdrawalRequestPredeployAddress')
  return contracts
}

function forkConfig(source: ForkSource, fork: TimedFork): ForkConfig {
  const common = source.common.copy()
  common.setHardfork(fork.name)
  common.updateParams(paramsVM)
  const precompiles: Record<string, Hex> = {}
  const entries = [...getActivePrecompiles(common).keys()].map((address) => `0x${address}`.toLowerCase() as Hex)
  for (const address of entries.sort()) precompiles[PRECOMPILE_NAMES[address] ?? address] = address
  return {
    activationTime: fork.timestamp <= source.genesisTimestamp ? 0 : Number(fork.timestamp),
    blobSchedule: blobScheduleOf(source, common),
    chainId: quantity(common.chainId()),
    forkId: forkHash(source.common, source.genesisHash, source.genesisTimestamp, fork.timestamp),
    precompiles: Object.fromEntries(Object.entries(precompiles).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    systemContracts: systemContractsOf(common),
  }
}

/** The EIP-7910 answer for a head block with timestamp `headTimestamp`. */
export function ethConfig(source: ForkSource, headTimestamp: bigint): EthConfig {
  const forks = timestampForks(source.common)
  let currentIndex = -1
  for (const [i, fork] of forks.entries()) if (fork.timestamp <= headTimestamp) currentIndex = i
  const current = currentIndex >= 0 ? forkConfig(source, forks[currentIndex]) : null
  const upcoming = forks[currentIndex + 1]
  if (upcoming === undefined) return { current, next: null, last: null }
  const lastFork = forks[forks.length - 1]
  return { current, next: forkConfig(source, upcoming), last: forkConfig(source, lastFork) }
}

function blobScheduleOfGenesis(config: unknown): ForkSource['blobSchedule'] {
  if (typeof config !== 'object' || config === null) return undefined
  const schedule = (config as { blobSchedule?: unknown }).blobSchedule
  return typeof schedule === 'object' && schedule !== null ? (schedule as ForkSource['blobSchedule']) : undefined
}

export function configMethods(ctx: RpcContext): MethodTable {
  const { spec, chain } = ctx.deps
  let source: ForkSource | undefined
  const forkSource = async (): Promise<ForkSource> => {
    if (source === undefined) {
      const genesis = await chain.getHeaderByNumber(0n)
      if (genesis === undefined) throw new Error('genesis block is missing')
      source = {
        common: spec.common,
        genesisHash: genesis.hash(),
        genesisTimestamp: genesis.timestamp,
        blobSchedule: blobScheduleOfGenesis(spec.json.config),
      }
    }
    return source
  }
  return {
    eth_config: withParams([], async () => ethConfig(await forkSource(), chain.head.header.timestamp)),
  }
}
