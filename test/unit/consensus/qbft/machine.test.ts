import { bytesToHex, utf8ToBytes } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { step } from '../../../../src/consensus/qbft/machine.js'
import {
  type SimBlock,
  type SimHooks,
  SimNetwork,
  simBlockInterface,
  simSigner,
} from '../../../../src/consensus/qbft/machine-sim.js'
import { createMachine } from '../../../../src/consensus/qbft/machine-state.js'
import type { MachineConfig } from '../../../../src/consensus/qbft/machine-types.js'
import {
  decodeMessage,
  encodeSignedMessage,
  type ProposalMessage,
  type QbftMessage,
  signMessage,
} from '../../../../src/consensus/qbft/messages.js'
import { crypto, makeValidators } from './helpers.js'

const HEIGHT = 5n
const keys = makeValidators(4)
const validators = keys.map((k) => k.address)
const blocks = simBlockInterface(crypto)
const outsider = makeValidators(1, 50)[0]

function config(i: number): MachineConfig<SimBlock> {
  const key = i < keys.length ? keys[i] : outsider
  return {
    height: HEIGHT,
    validators,
    localAddress: key.address,
    previousProposer: undefined, // the block after genesis: validators[round % 4] proposes
    requestTimeoutMs: 1000,
    maxRoundTimeoutMs: 8000,
    blocks,
    signer: simSigner(key.privateKey, crypto),
  }
}

const blockBy = (node: number, round: number, tag = ''): SimBlock => ({
  number: HEIGHT,
  round,
  proposer: validators[node],
  body: utf8ToBytes(`block by ${node} in round ${round}${tag}`),
})

/** Four validators (plus, optionally, an observer) whose every message crosses the wire codec. */
function network(hooks: Partial<SimHooks<SimBlock>> = {}, withObserver = false): SimNetwork<SimBlock> {
  const configs = [0, 1, 2, 3].map(config)
  if (withObserver) configs.push(config(4))
  return new SimNetwork(configs, {
    buildBlock: (node, round) => blockBy(node, round),
    transport: (m) => decodeMessage(encodeSignedMessage(m), crypto),
    ...hooks,
  })
}

const allCommitted =
  (net: SimNetwork<SimBlock>, nodes = [0, 1, 2, 3]) =>
  () =>
    nodes.every((i) => net.nodes[i].committed !== undefined)

function committedDigests(net: SimNetwork<SimBlock>): Set<string> {
  return new Set(net.nodes.flatMap((n) => (n.committed ? [bytesToHex(n.committed.digest)] : [])))
}

/** Seals of a commit output, checked as block import would: distinct validators, quorum, right block and round. */
function sealers(commit: NonNullable<SimNetwork<SimBlock>['nodes'][number]['committed']>): string[] {
  const signers = commit.seals.map((s) => blocks.commitSealSigner(commit.block, commit.round, s))
  return signers.map((a) => (a === undefined ? 'invalid' : bytesToHex(a)))
}

/** Deterministic PRNG (mulberry32) so that "random" schedules replay identically. */
function prng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('QBFT state machine on a simulated 4-validator network', () => {
  it('finalizes one block with the same hash everywhere in round 0, observers included', () => {
    const net = network({}, true)
    net.startHeight()
    expect(net.run(allCommitted(net, [0, 1, 2, 3, 4]), 10_000)).toBe(true)
    expect(committedDigests(net).size).toBe(1)
    const commit = net.nodes[0].committed!
    expect(commit.round).toBe(0)
    expect(commit.block).toEqual(blockBy(0, 0))
    const signers = sealers(commit)
    expect(signers.length).toBeGreaterThanOrEqual(3)
    expect(new Set(signers).size).toBe(signers.length)
    expect(signers.every((s) => validators.some((v) => bytesToHex(v) === s))).toBe(true)
    expect(net.time).toBeLessThan(1000)
    // The observer said nothing.
    expect(net.broadcasts.some((b) => b.from === 4)).toBe(false)
  })

  it('finalizes with one validator silent, and with the round-0 proposer silent after a round change', () => {
    const quiet = network()
    quiet.setOnline(3, false)
    quiet.startHeight()
    expect(quiet.run(allCommitted(quiet, [0, 1, 2]), 10_000)).toBe(true)
    expect(committedDigests(quiet).size).toBe(1)
    expect(quiet.nodes[0].committed!.round).toBe(0)

    const leaderless = network()
    leaderless.setOnline(0, false)
    leaderless.startHeight()
    expect(leaderless.run(allCommitted(leaderless, [1, 2, 3]), 10_000)).toBe(true)
    expect(committedDigests(leaderless).size).toBe(1)
    expect(leaderless.nodes[1].committed!.round).toBe(1)
    expect(leaderless.nodes[1].committed!.block.proposer).toEqual(validators[1])
  })

  it('does not commit with 2 of 4 silent, keeps changing rounds under the timeout cap, then finalizes when they return', () => {
    const net = network()
    net.setOnline(2, false)
    net.setOnline(3, false)
    net.startHeight()
    expect(net.run(allCommitted(net, [0]), 60_000)).toBe(false)
    expect(committedDigests(net).size).toBe(0)
    const timers = net.nodes[0].timers
    expect(timers.length).toBeGreaterThan(6)
    for (const t of timers) expect(t.ms).toBe(Math.min(1000 * 2 ** t.round, 8000))
    expect(Math.max(...timers.map((t) => t.ms))).toBe(8000)
    const roundBeforeReturn = net.nodes[0].state.round
    expect(roundBeforeReturn).toBeGreaterThan(5)

    net.setOnline(2, true)
    net.setOnline(3, true)
    expect(net.run(allCommitted(net), net.time + 60_000)).toBe(true)
    expect(committedDigests(net).size).toBe(1)
    expect(net.nodes[2].committed!.round).toBeGreaterThan(roundBeforeReturn)
  })

  it('never commits two different blocks when the proposer equivocates', () => {
    for (const split of [[3], [2, 3]]) {
      // Validator 0 sends its genuine proposal to some peers and a second, different one to the others.
      const net = network({
        delivery: (message, from, to) => {
          if (from !== 0 || message.type !== 'PROPOSAL' || !split.includes(to)) return [{ delayMs: 10 }]
          const other: ProposalMessage = signMessage(
            {
              type: 'PROPOSAL',
              payload: { ...message.signed.payload, block: blocks.encode(blockBy(0, 0, ' (twin)')) },
              roundChanges: [],
              prepares: [],
            },
            keys[0].privateKey,
            crypto,
          ) as ProposalMessage
          return [{ delayMs: 10, message: other }]
        },
      })
      net.startHeight()
      net.run(allCommitted(net), 60_000)
      const digests = committedDigests(net)
      expect(digests.size).toBe(1)
      const committers = net.nodes.filter((n) => n.committed !== undefined)
      expect(committers.length).toBeGreaterThanOrEqual(3)
      if (split.length === 2) {
        // Neither twin gathered a quorum of PREPAREs: round 1's proposer decides on a new block.
        expect(committers.every((n) => n.committed!.round === 1)).toBe(true)
      }
    }
  })

  it('counts a second, different proposal for the same round as equivocation', () => {
    let state = createMachine(config(1))
    state = step(state, { type: 'blockTimerExpired' }).state
    const twins = [blockBy(0, 0), blockBy(0, 0, ' (twin)')].map((b) =>
      signMessage(
        {
          type: 'PROPOSAL',
          payload: { type: 'PROPOSAL', height: HEIGHT, round: 0, block: blocks.encode(b) },
          roundChanges: [],
          prepares: [],
        },
        keys[0].privateKey,
        crypto,
      ),
    )
    const first = step(state, { type: 'message', message: twins[0] })
    expect(first.outputs.some((o) => o.type === 'validateBlock')).toBe(true)
    const second = step(first.state, { type: 'message', message: twins[1] })
    expect(second.state.dropped.equivocation).toBe(1)
    expect(second.outputs.some((o) => o.type === 'validateBlock')).toBe(false)
  })

  it('ignores a COMMIT for an unknown block and a COMMIT with a forged seal', () => {
    const real = blockBy(0, 0)
    const unknown = blocks.hash(blockBy(0, 0, ' (unknown)'))
    const forged = simSigner(keys[3].privateKey, crypto)
    const commits: QbftMessage[] = [
      {
        type: 'COMMIT',
        signed: forged.signPayload({
          type: 'COMMIT',
          height: HEIGHT,
          round: 0,
          digest: unknown,
          commitSeal: forged.signCommitSeal(real, 0),
        }),
      },
      {
        type: 'COMMIT',
        signed: forged.signPayload({
          type: 'COMMIT',
          height: HEIGHT,
          round: 0,
          digest: blocks.hash(real),
          commitSeal: forged.signCommitSeal(real, 1),
        }),
      },
    ]
    const net = network()
    net.setOnline(3, false)
    net.startHeight()
    for (const node of [0, 1, 2]) net.schedule(node, { type: 'message', message: commits[node % 2] }, 15)
    expect(net.run(allCommitted(net, [0, 1, 2]), 10_000)).toBe(true)
    expect(committedDigests(net)).toEqual(new Set([bytesToHex(blocks.hash(real))]))
    for (const node of [0, 1, 2]) {
      expect(sealers(net.nodes[node].committed!).sort()).toEqual([0, 1, 2].map((i) => bytesToHex(validators[i])).sort())
    }
    expect(net.nodes[1].state.dropped.invalidCommitSeal).toBe(1)
  })

  it('finalizes with messages delayed out of order and every message delivered twice', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = prng(seed)
      const net = network({
        delivery: () => [{ delayMs: Math.floor(random() * 400) }, { delayMs: Math.floor(random() * 400) }],
      })
      net.startHeight()
      expect(net.run(allCommitted(net), 120_000)).toBe(true)
      expect(committedDigests(net).size).toBe(1)
      expect(net.nodes.reduce((sum, n) => sum + n.state.dropped.duplicate, 0)).toBeGreaterThan(0)
    }
  })

  it('re-proposes the prepared block after a round change, and rejects a proposal that ignores it', () => {
    // Everyone prepares round 0's block but no COMMIT gets through: round 1 must carry that block forward.
    const net = network({
      delivery: (message) => (message.type === 'COMMIT' && message.signed.payload.round === 0 ? [] : [{ delayMs: 10 }]),
    })
    net.startHeight()
    expect(net.run(allCommitted(net), 30_000)).toBe(true)
    const prepared = blockBy(0, 0)
    for (const node of net.nodes) {
      expect(node.committed!.round).toBe(1)
      expect(node.committed!.block).toEqual(blocks.withRound(prepared, 1))
      expect(node.committed!.digest).toEqual(blocks.hash(blocks.withRound(prepared, 1)))
    }
    const reproposal = net.broadcasts.find(
      (b) => b.message.type === 'PROPOSAL' && b.message.signed.payload.round === 1,
    )!.message as ProposalMessage
    expect(reproposal.signed.author).toEqual(validators[1])
    expect(reproposal.prepares.length).toBeGreaterThanOrEqual(3)
    expect(reproposal.roundChanges.some((rc) => rc.payload.prepared?.round === 0)).toBe(true)

    // Validator 1 proposing a fresh block in round 1 under the same justification is refused.
    const fresh = signMessage(
      {
        type: 'PROPOSAL',
        payload: { type: 'PROPOSAL', height: HEIGHT, round: 1, block: blocks.encode(blockBy(1, 1)) },
        roundChanges: reproposal.roundChanges,
        prepares: [],
      },
      keys[1].privateKey,
      crypto,
    )
    const rejected = step(createMachine(config(2)), { type: 'message', message: fresh })
    expect(rejected.state.dropped.invalidJustification).toBe(1)
    expect(rejected.outputs.some((o) => o.type === 'validateBlock')).toBe(false)
    const accepted = step(createMachine(config(2)), { type: 'message', message: reproposal })
    expect(accepted.outputs.find((o) => o.type === 'validateBlock')).toMatchObject({ round: 1 })
    expect(accepted.state.round).toBe(1)
  })
})
