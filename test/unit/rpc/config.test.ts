import { createBlockFromRLP } from '@ethereumjs/block'
import { describe, expect, it } from 'vitest'
import { ethConfig, type ForkSource, forkHash } from '../../../src/rpc/config.js'
import { fixtureCommon, readFixtureChain, readFixtureGenesis, readIoFile } from '../../helpers/executionApis.js'
import { spec } from './fixtures.js'

function hiveSource(): { source: ForkSource; headTimestamp: bigint } {
  const genesis = readFixtureGenesis()
  const common = fixtureCommon()
  const blocks = readFixtureChain().map((rlp) => createBlockFromRLP(rlp, { common, setHardfork: true }))
  const head = blocks[blocks.length - 1]
  return {
    source: {
      common,
      genesisHash: blocks[0].header.parentHash,
      genesisTimestamp: BigInt(genesis.timestamp as string),
      blobSchedule: genesis.config.blobSchedule as ForkSource['blobSchedule'],
    },
    headTimestamp: head.header.timestamp,
  }
}

describe('eth_config (EIP-7910)', () => {
  it('answers exactly what execution-apis expects at the fixture chain head (BPO2, nothing scheduled)', () => {
    const { source, headTimestamp } = hiveSource()
    expect(headTimestamp).toBe(540n)
    const expected = readIoFile('eth_config', 'get-config').exchanges[0].response.result
    expect(JSON.parse(JSON.stringify(ethConfig(source, headTimestamp)))).toStrictEqual(expected)
  })

  it('describes the next and the last fork while forks are scheduled', () => {
    const { source } = hiveSource()
    const config = ethConfig(source, 500n)
    expect(config.current?.activationTime).toBe(480)
    expect(config.current?.blobSchedule).toEqual({ target: 6, max: 9, baseFeeUpdateFraction: 5007716 })
    expect(config.next?.activationTime).toBe(510)
    expect(config.next?.blobSchedule).toEqual({ target: 10, max: 15, baseFeeUpdateFraction: 8346193 })
    expect(config.last?.activationTime).toBe(540)
    expect(config.last?.forkId).toBe('0xe272ecbe')
    // Each fork id differs from the one before (a new activation time is hashed in).
    expect(new Set([config.current?.forkId, config.next?.forkId, config.last?.forkId]).size).toBe(3)
    // Osaka brought P256VERIFY; Prague the BLS precompiles and the request contracts.
    expect(config.current?.precompiles.P256VERIFY).toBe('0x0000000000000000000000000000000000000100')
  })

  it('answers null for the current fork before Shanghai, as geth does, and lists what Shanghai and Cancun change', () => {
    const { source } = hiveSource()
    const before = ethConfig(source, 100n)
    expect(before.current).toBeNull()
    expect(before.next?.activationTime).toBe(390)
    expect(before.next?.blobSchedule).toBeNull()
    expect(before.next?.systemContracts).toEqual({})
    expect(Object.keys(before.next?.precompiles ?? {})).toHaveLength(9)
    const cancun = ethConfig(source, 420n)
    expect(cancun.current?.systemContracts).toEqual({
      BEACON_ROOTS_ADDRESS: '0x000f3df6d732807ef1319fb7b8bb8522d0beac02',
    })
    expect(cancun.current?.precompiles.KZG_POINT_EVALUATION).toBe('0x000000000000000000000000000000000000000a')
    expect(cancun.current?.precompiles.BLS12_G1ADD).toBeUndefined()
  })

  it('hashes fork ids as @ethereumjs/common does for a chain with blocks and timestamps after genesis', () => {
    const { source } = hiveSource()
    for (const [fork, time] of [
      ['shanghai', 390n],
      ['cancun', 420n],
      ['bpo2', 540n],
    ] as const) {
      expect(forkHash(source.common, source.genesisHash, 0n, time)).toBe(
        source.common.forkHash(fork, source.genesisHash),
      )
    }
  })

  it('describes the QBFT dev chain: Osaka from genesis, fork id of the genesis hash alone', () => {
    const genesisHash = new Uint8Array(32).fill(7)
    const config = ethConfig(
      { common: spec.common, genesisHash, genesisTimestamp: 0n, blobSchedule: undefined },
      1_700_000_000n,
    )
    expect(config.next).toBeNull()
    expect(config.last).toBeNull()
    expect(config.current?.activationTime).toBe(0)
    expect(config.current?.chainId).toBe(`0x${spec.chainId.toString(16)}`)
    expect(config.current?.blobSchedule).toEqual({ target: 6, max: 9, baseFeeUpdateFraction: 5007716 })
    expect(config.current?.forkId).toBe(forkHash(spec.common, genesisHash, 0n, 0n))
    expect(Object.keys(config.current?.precompiles ?? {})).toHaveLength(18)
    expect(Object.keys(config.current?.systemContracts ?? {}).sort()).toEqual([
      'BEACON_ROOTS_ADDRESS',
      'CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS',
      'DEPOSIT_CONTRACT_ADDRESS',
      'HISTORY_STORAGE_ADDRESS',
      'WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS',
    ])
  })
})
