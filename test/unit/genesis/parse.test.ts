import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  DEV_GENESIS_FILE,
  GenesisError,
  parseGenesis,
  qbftParams,
  readGenesisFile,
} from '../../../src/genesis/index.js'

const dev = JSON.parse(readFileSync(DEV_GENESIS_FILE, 'utf8'))

describe('genesis parsing', () => {
  it('reads the dev genesis as an Osaka QBFT chain with EIP-1559 fees', async () => {
    const spec = await readGenesisFile(DEV_GENESIS_FILE)
    expect(spec.chainId).toBe(1337n)
    expect(spec.common.hardfork()).toBe('osaka')
    // QBFT runs as a custom engine: the paris entry must not turn the chain into proof of stake.
    expect(spec.common.consensusType()).toBe('qbft')
    expect(spec.common.consensusAlgorithm()).toBe('qbft')
    expect(spec.common.isActivatedEIP(4399)).toBe(true)
    expect(spec.baseFeeMode).toBe('eip1559')
    expect(spec.qbft).toEqual({
      blockPeriodSeconds: 1,
      epochLength: 30000,
      requestTimeoutSeconds: 4,
      emptyBlockPeriodSeconds: 0,
    })
    expect(spec.genesisHeader.baseFeePerGas).toBe(1_000_000_000n)
  })

  it('supports zero and fixed base fees', () => {
    const zero = parseGenesis({ ...dev, config: { ...dev.config, zeroBaseFee: true } })
    expect(zero.baseFeeMode).toBe('zero')
    expect(zero.genesisHeader.baseFeePerGas).toBe(0n)
    const fixed = parseGenesis({ ...dev, baseFeePerGas: '0x7', config: { ...dev.config, fixedBaseFee: true } })
    expect(fixed.baseFeeMode).toBe('fixed')
    expect(fixed.genesisHeader.baseFeePerGas).toBe(7n)
    expect(() => parseGenesis({ ...dev, config: { ...dev.config, zeroBaseFee: true, fixedBaseFee: true } })).toThrow(
      /mutually exclusive/,
    )
  })

  it('starts at the fork active at genesis and keeps later ones scheduled', () => {
    const spec = parseGenesis({ ...dev, config: { ...dev.config, osakaTime: 1_000 } })
    expect(spec.common.hardfork()).toBe('prague')
    expect(spec.common.hardforkTimestamp('osaka')).toBe(1000n)
  })

  it('names every problem of an invalid genesis', () => {
    expect(() => parseGenesis({ ...dev, gasLimit: 'lots' })).toThrow(GenesisError)
    expect(() => parseGenesis({ ...dev, gasLimit: 'lots' })).toThrow(/gasLimit/)
    expect(() => parseGenesis({ ...dev, extraData: '0x123' })).toThrow(/extraData/)
    expect(() => parseGenesis({ ...dev, config: { ...dev.config, clique: { period: 1 } } })).toThrow(
      /clique and ibft2 chains are not supported/,
    )
    expect(() => parseGenesis({ ...dev, config: { ...dev.config, ethash: {} } })).toThrow(/mutually exclusive/)
    const { qbft: _qbft, ...noQbft } = dev.config
    expect(() => parseGenesis({ ...dev, config: { ...noQbft, zeroBaseFee: true } })).toThrow(/QBFT chain options/)
  })

  it('reads a genesis without config.qbft as another Ethereum chain (kind ethereum), with its own forks', () => {
    const hive = JSON.parse(
      readFileSync(new URL('../../fixtures/execution-apis/tests/genesis.json', import.meta.url), 'utf8'),
    )
    const spec = parseGenesis(hive)
    expect(spec.kind).toBe('ethereum')
    expect(spec.qbft).toBeUndefined()
    expect(() => qbftParams(spec)).toThrow(/not a QBFT chain/)
    expect(spec.genesisHeader.baseFeePerGas).toBeUndefined() // London comes later
    expect(spec.common.consensusType()).toBe('pow')
    // BPO forks keep their own blob schedule (@ethereumjs reads their target and max as blob counts).
    spec.common.setHardforkBy({ blockNumber: 54n, timestamp: 550n })
    expect(spec.common.hardfork()).toBe('bpo2')
    expect([spec.common.param('target'), spec.common.param('max')]).toEqual([14n, 21n])
    expect(spec.common.param('blobGasPriceUpdateFraction')).toBe(11684671n)
    expect(parseGenesis(dev).kind).toBe('qbft')
  })

  it('reports unreadable and malformed files with their path', async () => {
    await expect(readGenesisFile('/nonexistent/genesis.json')).rejects.toThrow(
      /cannot read genesis file \/nonexistent\/genesis.json: ENOENT/,
    )
  })
})
