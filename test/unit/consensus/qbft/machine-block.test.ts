import { type Block, createBlock } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { ISTANBUL_MIX_HASH, QBFT_DIFFICULTY } from '../../../../src/consensus/qbft/constants.js'
import { decodeExtraData, encodeExtraData } from '../../../../src/consensus/qbft/extraData.js'
import { blockHashForHeader, commitSealHash } from '../../../../src/consensus/qbft/hashing.js'
import {
  machineBlockInterface,
  machineSigner,
  sealedBlockFromCommit,
} from '../../../../src/consensus/qbft/machine-block.js'
import { SimNetwork } from '../../../../src/consensus/qbft/machine-sim.js'
import type { MachineConfig } from '../../../../src/consensus/qbft/machine-types.js'
import { decodeMessage, encodeSignedMessage } from '../../../../src/consensus/qbft/messages.js'
import { createCommitSeal, validateSeals } from '../../../../src/consensus/qbft/seals.js'
import { common, crypto, extraDataFor, makeValidators } from './helpers.js'

const keys = makeValidators(4)
const validators = keys.map((k) => k.address)
// The fixture's Common is pinned to London, so blocks off the wire keep it rather than following mainnet's schedule.
const blocks = machineBlockInterface({
  common,
  crypto,
  blockOptions: { common, skipConsensusFormatValidation: true },
})

function proposedBlock(proposer: Uint8Array, round: number, timestamp = 1_700_000_000n): Block {
  return createBlock(
    {
      header: {
        number: 1n,
        coinbase: proposer,
        extraData: encodeExtraData(extraDataFor(validators, { round })),
        mixHash: ISTANBUL_MIX_HASH,
        difficulty: QBFT_DIFFICULTY,
        gasLimit: 30_000_000n,
        timestamp,
        baseFeePerGas: 7n,
      },
    },
    { common, skipConsensusFormatValidation: true },
  )
}

describe('BlockInterface for @ethereumjs blocks', () => {
  const block = proposedBlock(validators[0], 2)

  it('digests a block as Besu does for proposals: the commit-seal hash at its round', () => {
    expect(blocks.round(block)).toBe(2)
    expect(blocks.hash(block)).toEqual(commitSealHash(block.header, 2, crypto.keccak256))
    expect(blocks.hash(block)).toEqual(block.hash())
    expect(blocks.decode(blocks.encode(block)).hash()).toEqual(block.hash())
  })

  it('replaces only the round, keeping the proposer, and recovers commit seals', () => {
    const moved = blocks.withRound(block, 5)
    expect(blocks.round(moved)).toBe(5)
    expect(blocks.proposer(moved)).toEqual(validators[0])
    expect(blocks.hash(moved)).not.toEqual(blocks.hash(block))
    expect(blocks.hash(blocks.withRound(moved, 2))).toEqual(blocks.hash(block))
    const seal = createCommitSeal(block.header, 5, keys[3].privateKey, crypto)
    expect(blocks.commitSealSigner(block, 5, seal)).toEqual(validators[3])
    expect(blocks.commitSealSigner(block, 4, seal)).not.toEqual(validators[3])
    expect(blocks.commitSealSigner(block, 5, new Uint8Array(65))).toBeUndefined()
  })

  it('refuses to decode a block whose extraData is not QBFT', () => {
    const bad = createBlock(
      { header: { number: 1n, extraData: new Uint8Array(32), gasLimit: 30_000_000n, baseFeePerGas: 7n } },
      { common },
    )
    expect(() => blocks.decode(bad.serialize())).toThrow()
  })

  it('finalizes a real block on a 4-validator network, sealed so that block import accepts it', () => {
    const configs: MachineConfig<Block>[] = keys.map((k) => ({
      height: 1n,
      validators,
      localAddress: k.address,
      previousProposer: undefined,
      requestTimeoutMs: 1000,
      maxRoundTimeoutMs: 10_000,
      blocks,
      signer: machineSigner(k.privateKey, crypto),
    }))
    const net = new SimNetwork(configs, {
      buildBlock: (node, round) => proposedBlock(validators[node], round),
      transport: (m) => decodeMessage(encodeSignedMessage(m), crypto),
    })
    net.setOnline(0, false) // the round-0 proposer: the block is decided in round 1
    net.startHeight()
    expect(net.run(() => [1, 2, 3].every((i) => net.nodes[i].committed), 20_000)).toBe(true)
    const digests = new Set([1, 2, 3].map((i) => bytesToHex(net.nodes[i].committed!.digest)))
    expect(digests.size).toBe(1)
    const { block: committed, round, seals } = net.nodes[1].committed!
    expect(round).toBe(1)
    const sealed = sealedBlockFromCommit(committed, round, seals)
    expect(decodeExtraData(sealed.block.header.extraData).round).toBe(0)
    expect(sealed.block.hash()).toEqual(blockHashForHeader(committed.header, crypto.keccak256))
    const committers = validateSeals(sealed.block.header, round, seals, validators, crypto)
    expect(committers.length).toBeGreaterThanOrEqual(3)
  })
})
