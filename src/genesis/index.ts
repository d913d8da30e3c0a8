/**
 * geth-style genesis.json → everything the chain needs to start: a configured Common, the genesis state,
 * the QBFT parameters and the genesis block header fields.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import {
  type ChainConfig,
  Common,
  type CustomCrypto,
  type GenesisState,
  type GethGenesis,
  Hardfork,
  parseGethGenesis,
} from '@ethereumjs/common'
import { bigIntToHex, hexToBytes } from '@ethereumjs/util'
import { type GenesisJson, genesisSchema } from './schema.js'

export { DEV_ACCOUNTS, DEV_MNEMONIC, DEV_VALIDATOR } from './devKeys.js'
export type { GenesisJson } from './schema.js'

/** The embedded default genesis (`polis run` without --genesis). */
export const DEV_GENESIS_FILE = fileURLToPath(new URL('../../genesis/dev.json', import.meta.url))

export interface QbftParams {
  blockPeriodSeconds: number
  epochLength: number
  requestTimeoutSeconds: number
  /** 0 = produce a block every period even when empty. */
  emptyBlockPeriodSeconds: number
}

/** 'eip1559' = the usual London rule; 'zero' = base fee always 0 (gas-free chains); 'fixed' = genesis base fee forever. */
export type BaseFeeMode = 'eip1559' | 'zero' | 'fixed'

/**
 * 'qbft': a city chain sealed by QBFT validators (config.qbft). 'ethereum': any other Ethereum chain (ethash, merged
 * to proof of stake, ...) that a node imports from a block file and serves read-only: rewards, difficulty and fork
 * rules are @ethereumjs's for that chain; no consensus runs.
 */
export type ChainKind = 'qbft' | 'ethereum'

export interface ChainSpec {
  readonly json: GenesisJson
  readonly kind: ChainKind
  readonly chainId: bigint
  readonly common: Common
  readonly genesisState: GenesisState
  /** QBFT parameters (kind 'qbft' only). */
  readonly qbft: QbftParams | undefined
  readonly baseFeeMode: BaseFeeMode
  /** Header fields of block 0 as the genesis file states them (state root and fork fields are derived). */
  readonly genesisHeader: {
    timestamp: bigint
    gasLimit: bigint
    difficulty: bigint
    nonce: Uint8Array
    extraData: Uint8Array
    mixHash: Uint8Array
    coinbase: Uint8Array
    /** Undefined when London is not active at genesis (kind 'ethereum'). */
    baseFeePerGas: bigint | undefined
  }
}

/** The QBFT parameters of a QBFT chain; throws for any other kind. */
export function qbftParams(spec: ChainSpec): QbftParams {
  if (spec.qbft === undefined) throw new GenesisError('this chain is not a QBFT chain (its genesis has no config.qbft)')
  return spec.qbft
}

/** Blob gas of one blob (EIP-4844), the unit of blobSchedule targets and maxima. */
const BLOB_GAS_PER_BLOB = 131_072

export class GenesisError extends Error {
  override readonly name = 'GenesisError'
}

const toBigInt = (v: string | number): bigint => BigInt(v)
const toHexQuantity = (v: string | number): `0x${string}` => bigIntToHex(BigInt(v))

function zodMessage(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')
}

/** Parses and validates a genesis document; throws GenesisError with every problem found. */
export function parseGenesis(input: unknown, customCrypto?: CustomCrypto): ChainSpec {
  const parsed = genesisSchema.safeParse(input)
  if (!parsed.success) throw new GenesisError(`invalid genesis: ${zodMessage(parsed.error)}`)
  const json = parsed.data
  const config = json.config as Record<string, unknown>
  if (config.clique !== undefined || config.ibft2 !== undefined) {
    throw new GenesisError('invalid genesis: clique and ibft2 chains are not supported (QBFT: config.qbft)')
  }
  const kind: ChainKind = json.config.qbft !== undefined ? 'qbft' : 'ethereum'
  if (kind === 'qbft' && config.ethash !== undefined) {
    throw new GenesisError('invalid genesis: config.qbft and config.ethash are mutually exclusive')
  }
  if (config.zeroBaseFee === true && config.fixedBaseFee === true) {
    throw new GenesisError('invalid genesis: config.zeroBaseFee and config.fixedBaseFee are mutually exclusive')
  }
  if (kind === 'ethereum' && (config.zeroBaseFee === true || config.fixedBaseFee === true)) {
    throw new GenesisError('invalid genesis: zeroBaseFee and fixedBaseFee are QBFT chain options')
  }
  const baseFeeMode: BaseFeeMode =
    config.zeroBaseFee === true ? 'zero' : config.fixedBaseFee === true ? 'fixed' : 'eip1559'
  const statedBaseFee = json.baseFeePerGas === undefined || json.baseFeePerGas === null ? undefined : json.baseFeePerGas
  const qbftBaseFee =
    baseFeeMode === 'zero' ? 0n : statedBaseFee !== undefined ? toBigInt(statedBaseFee) : 1_000_000_000n

  // parseGethGenesis wants hex strings where the schema allowed numbers.
  const normalized = {
    ...json,
    nonce: toHexQuantity(json.nonce),
    timestamp: toHexQuantity(json.timestamp),
    gasLimit: toHexQuantity(json.gasLimit),
    difficulty: toHexQuantity(json.difficulty),
    baseFeePerGas:
      kind === 'qbft'
        ? bigIntToHex(qbftBaseFee)
        : statedBaseFee === undefined
          ? undefined
          : toHexQuantity(statedBaseFee),
    mixHash: json.mixHash ?? `0x${'00'.repeat(32)}`,
    coinbase: json.coinbase ?? `0x${'00'.repeat(20)}`,
  }
  let chainConfig: ChainConfig
  try {
    chainConfig = parseGethGenesis(normalized as unknown as GethGenesis, 'polis') as unknown as ChainConfig
  } catch (e) {
    throw new GenesisError(`invalid genesis: ${(e as Error).message}`)
  }
  // parseGethGenesis turns blobSchedule into targetBlobGasPerBlock/maxBlobGasPerBlock, but @ethereumjs reads BPO forks'
  // schedule from `target` and `max` (blob counts): give BPO forks both, or their own schedule is missing.
  for (const [name, fork] of Object.entries(chainConfig.customHardforks ?? {})) {
    const params = (fork as { params?: Record<string, number> }).params
    if (!name.startsWith('bpo') || params?.targetBlobGasPerBlock === undefined) continue
    params.target = params.targetBlobGasPerBlock / BLOB_GAS_PER_BLOB
    params.max = (params.maxBlobGasPerBlock ?? 0) / BLOB_GAS_PER_BLOB
  }
  if (kind === 'qbft') {
    // A post-merge fork schedule makes parseGethGenesis insert `paris`, whose built-in entry switches consensus to
    // PoS. Keep only its EIP-4399 (PREVRANDAO) so the chain keeps its own (QBFT) consensus.
    chainConfig.customHardforks = { ...(chainConfig.customHardforks ?? {}), [Hardfork.Paris]: { eips: [4399] } }
    // QBFT is a consensus type of its own to @ethereumjs. Not 'pow': that pays the coinbase a block reward, and a
    // zero reward still creates an empty coinbase account that the next block's EIP-161 cleanup deletes only if the
    // same VM ran the previous block, so a restarted or block-building node reached another state root. Not 'poa':
    // that credits tips to a Clique signer recovered from extraData. Besu pays no reward and creates no account.
    chainConfig.consensus = { type: 'qbft', algorithm: 'qbft' } as unknown as typeof chainConfig.consensus
  }
  const common = new Common({
    chain: chainConfig,
    hardfork: (chainConfig as { hardfork?: string }).hardfork ?? Hardfork.London,
    customCrypto,
  })
  const genesisTimestamp = toBigInt(json.timestamp)
  // Forks scheduled after genesis activate later; the Common starts at the fork active at block 0.
  common.setHardforkBy({ blockNumber: 0n, timestamp: genesisTimestamp })
  if (kind === 'qbft' && !common.gteHardfork(Hardfork.London)) {
    throw new GenesisError('invalid genesis: londonBlock must be 0 (EIP-1559 fees are required)')
  }
  const baseFeePerGas =
    kind === 'qbft'
      ? qbftBaseFee
      : common.isActivatedEIP(1559)
        ? statedBaseFee !== undefined
          ? toBigInt(statedBaseFee)
          : BigInt(common.param('initialBaseFee'))
        : undefined

  const genesisState: GenesisState = {}
  for (const [address, account] of Object.entries(json.alloc)) {
    const key = (address.startsWith('0x') ? address : `0x${address}`).toLowerCase() as `0x${string}`
    const storage = account.storage
      ? Object.entries(account.storage).map(
          ([slot, value]) => [slot as `0x${string}`, value as `0x${string}`] as [`0x${string}`, `0x${string}`],
        )
      : []
    genesisState[key] = [
      toHexQuantity(account.balance),
      (account.code ?? '0x') as `0x${string}`,
      storage,
      toHexQuantity(account.nonce ?? 0),
    ]
  }

  return {
    json,
    kind,
    chainId: BigInt(json.config.chainId),
    common,
    genesisState,
    qbft: json.config.qbft && {
      blockPeriodSeconds: json.config.qbft.blockperiodseconds,
      epochLength: json.config.qbft.epochlength,
      requestTimeoutSeconds: json.config.qbft.requesttimeoutseconds,
      emptyBlockPeriodSeconds: json.config.qbft.emptyblockperiodseconds,
    },
    baseFeeMode,
    genesisHeader: {
      timestamp: genesisTimestamp,
      gasLimit: toBigInt(json.gasLimit),
      difficulty: toBigInt(json.difficulty),
      nonce: hexToBytes(
        normalized.nonce.length === 18 ? normalized.nonce : `0x${normalized.nonce.slice(2).padStart(16, '0')}`,
      ),
      extraData: hexToBytes(json.extraData as `0x${string}`),
      mixHash: hexToBytes(normalized.mixHash as `0x${string}`),
      coinbase: hexToBytes(
        (normalized.coinbase.startsWith('0x') ? normalized.coinbase : `0x${normalized.coinbase}`) as `0x${string}`,
      ),
      baseFeePerGas,
    },
  }
}

/** Reads and parses a genesis file; errors name the file. */
export async function readGenesisFile(path: string, customCrypto?: CustomCrypto): Promise<ChainSpec> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    throw new GenesisError(
      `cannot read genesis file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    )
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new GenesisError(`genesis file ${path} is not valid JSON: ${(e as Error).message}`)
  }
  try {
    return parseGenesis(json, customCrypto)
  } catch (e) {
    if (e instanceof GenesisError) throw new GenesisError(`${path}: ${e.message}`)
    throw e
  }
}
