import { utf8ToBytes } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { step } from '../../../../src/consensus/qbft/machine.js'
import { decodeSignedLog, encodeSignedLog } from '../../../../src/consensus/qbft/machine-log.js'
import { type SimBlock, simBlockInterface, simSigner } from '../../../../src/consensus/qbft/machine-sim.js'
import {
  createMachine,
  type MachineState,
  machineStatus,
  roundTimeoutMs,
} from '../../../../src/consensus/qbft/machine-state.js'
import type {
  MachineConfig,
  MachineEvent,
  MachineOutput,
  SignedLog,
} from '../../../../src/consensus/qbft/machine-types.js'
import { type QbftMessage, signMessage } from '../../../../src/consensus/qbft/messages.js'
import { crypto, makeValidators, type TestValidator } from './helpers.js'

const HEIGHT = 9n
const keys = makeValidators(4)
const validators = keys.map((k) => k.address)
const blocks = simBlockInterface(crypto)
const outsider = makeValidators(1, 60)[0]
/** Node 1 is under test; validators[0] leads round 0, validators[1] round 1, and so on. */
const ME = 1

function config(me: TestValidator = keys[ME], set = validators): MachineConfig<SimBlock> {
  return {
    height: HEIGHT,
    validators: set,
    localAddress: me.address,
    previousProposer: undefined,
    requestTimeoutMs: 500,
    maxRoundTimeoutMs: 4000,
    blocks,
    signer: simSigner(me.privateKey, crypto),
  }
}

const blockBy = (node: number, round: number, tag = ''): SimBlock => ({
  number: HEIGHT,
  round,
  proposer: validators[node],
  body: utf8ToBytes(`block ${node}/${round}${tag}`),
})

function proposal(block: SimBlock, key = keys[0], round = 0, height = HEIGHT): QbftMessage {
  const payload = { type: 'PROPOSAL' as const, height, round, block: blocks.encode(block) }
  return signMessage({ type: 'PROPOSAL', payload, roundChanges: [], prepares: [] }, key.privateKey, crypto)
}

function prepare(key: TestValidator, block: SimBlock, round = 0, height = HEIGHT): QbftMessage {
  const payload = { type: 'PREPARE' as const, height, round, digest: blocks.hash(block) }
  return signMessage({ type: 'PREPARE', payload }, key.privateKey, crypto)
}

/** Feeds events in order; returns the final state and all outputs. */
function run<B>(
  state: MachineState<B>,
  events: MachineEvent<B>[],
): { state: MachineState<B>; outputs: MachineOutput<B>[] } {
  const outputs: MachineOutput<B>[] = []
  for (const event of events) {
    const result = step(state, event)
    state = result.state
    outputs.push(...result.outputs)
  }
  return { state, outputs }
}

const sent = <B>(outputs: MachineOutput<B>[], type?: QbftMessage['type']) =>
  outputs.flatMap((o) => (o.type === 'broadcast' && (type === undefined || o.message.type === type) ? [o.message] : []))

const persisted = <B>(outputs: MachineOutput<B>[]): SignedLog | undefined =>
  outputs.flatMap((o) => (o.type === 'persist' ? [o.log] : [])).at(-1)

const msg = (message: QbftMessage): MachineEvent<SimBlock> => ({ type: 'message', message })
const A = blockBy(0, 0)
const B = blockBy(0, 0, ' twin')
const validA: MachineEvent<SimBlock> = { type: 'blockValidated', round: 0, digest: blocks.hash(A), valid: true }

describe('QBFT state machine, one node', () => {
  it('drops and counts messages from non-validators, other heights, far rounds and non-leaders', () => {
    const { state, outputs } = run(createMachine(config()), [
      { type: 'blockTimerExpired' },
      msg(prepare(outsider, A)),
      msg(prepare(keys[2], A, 0, HEIGHT + 1n)),
      msg(prepare(keys[2], A, 11)),
      msg(proposal(blockBy(2, 0), keys[2])),
      msg(prepare(keys[2], A)),
      msg(prepare(keys[2], A)),
      msg(prepare(keys[2], B)),
    ])
    expect(state.dropped).toMatchObject({
      unknownSigner: 1,
      wrongHeight: 1,
      futureRound: 1,
      invalidProposal: 1,
      duplicate: 1,
      equivocation: 1,
    })
    expect(outputs.filter((o) => o.type === 'dropped').map((o) => (o.type === 'dropped' ? o.reason : ''))).toEqual([
      'unknownSigner',
      'wrongHeight',
      'futureRound',
      'invalidProposal',
      'duplicate',
      'equivocation',
    ])
    expect(sent(outputs)).toEqual([])
  })

  it('asks the engine to execute a proposal, and prepares only a valid one', () => {
    const base = run(createMachine(config()), [{ type: 'blockTimerExpired' }, msg(proposal(A))])
    expect(base.outputs.find((o) => o.type === 'validateBlock')).toMatchObject({ round: 0, digest: blocks.hash(A) })
    const invalid = step(base.state, { ...validA, valid: false })
    expect(invalid.state.dropped.invalidBlock).toBe(1)
    expect(sent(invalid.outputs)).toEqual([])
    const valid = step(base.state, validA)
    expect(sent(valid.outputs, 'PREPARE')).toHaveLength(1)
  })

  it('persists what it signs before broadcasting it', () => {
    const { outputs } = run(createMachine(config()), [
      { type: 'blockTimerExpired' },
      msg(proposal(A)),
      validA,
      msg(prepare(keys[0], A)),
      msg(prepare(keys[2], A)),
    ])
    const firstPersist = outputs.findIndex((o) => o.type === 'persist')
    const firstBroadcast = outputs.findIndex((o) => o.type === 'broadcast')
    expect(firstPersist).toBeGreaterThanOrEqual(0)
    expect(firstPersist).toBeLessThan(firstBroadcast)
    const log = persisted(outputs)!
    expect(log.messages.map((m) => m.type)).toEqual(['PREPARE', 'COMMIT'])
    expect(log.prepared).toMatchObject({ round: 0, block: blocks.encode(A) })
    expect(log.prepared!.prepares).toHaveLength(3)
  })

  it('after a restart, never sends a second different PREPARE or COMMIT in the same round', () => {
    // Before the crash: prepared A in round 0 and sent PREPARE then COMMIT.
    const before = run(createMachine(config()), [
      { type: 'blockTimerExpired' },
      msg(proposal(A)),
      validA,
      msg(prepare(keys[0], A)),
      msg(prepare(keys[2], A)),
    ])
    const log = decodeSignedLog(encodeSignedLog(persisted(before.outputs)!), crypto)
    expect(log).toEqual(persisted(before.outputs))

    const restored = createMachine(config(), log)
    // On start it says again exactly what it had said, and nothing new.
    const resumed = step(restored, { type: 'blockTimerExpired' })
    expect(sent(resumed.outputs)).toEqual(sent(before.outputs))
    expect(resumed.outputs.some((o) => o.type === 'persist' || o.type === 'buildBlock')).toBe(false)
    // The leader's twin proposal for round 0 cannot make it prepare anything else.
    const twin = step(resumed.state, msg(proposal(B)))
    expect(twin.state.dropped.equivocation).toBe(1)
    expect(twin.outputs.some((o) => o.type === 'validateBlock')).toBe(false)
    // The original proposal, prepares and commits again: no second PREPARE or COMMIT.
    const again = run(twin.state, [msg(proposal(A)), validA, msg(prepare(keys[0], A)), msg(prepare(keys[2], A))])
    expect(sent(again.outputs)).toEqual([])
    // Its round change still carries the prepared certificate its COMMIT promised.
    const timeout = step(again.state, { type: 'roundTimerExpired', round: 0 })
    const [roundChange] = sent(timeout.outputs, 'ROUND_CHANGE')
    expect(roundChange.type === 'ROUND_CHANGE' && roundChange.signed.payload.prepared).toEqual({
      round: 0,
      digest: blocks.hash(A),
    })
    expect(roundChange.type === 'ROUND_CHANGE' && roundChange.prepares).toHaveLength(3)
  })

  it('a restarted proposer re-broadcasts its proposal instead of building another block', () => {
    const leader = config(keys[0])
    const first = run(createMachine(leader), [{ type: 'blockTimerExpired' }])
    expect(first.outputs).toContainEqual({ type: 'buildBlock', round: 0 })
    const proposed = step(first.state, { type: 'blockBuilt', round: 0, block: A })
    const [own] = sent(proposed.outputs, 'PROPOSAL')
    const restarted = step(createMachine(leader, persisted(proposed.outputs)), { type: 'blockTimerExpired' })
    expect(restarted.outputs.some((o) => o.type === 'buildBlock')).toBe(false)
    expect(sent(restarted.outputs, 'PROPOSAL')).toEqual([own])
    // A late build answer for round 0 changes nothing.
    expect(sent(step(restarted.state, { type: 'blockBuilt', round: 0, block: B }).outputs)).toEqual([])
  })

  it('doubles the round timeout up to the cap', () => {
    const cfg = { requestTimeoutMs: 1000, maxRoundTimeoutMs: 30_000 }
    expect([0, 1, 2, 3, 4, 5, 6, 40, 1e9].map((r) => roundTimeoutMs(cfg, r))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000,
    ])
    let state = createMachine(config())
    const armed: number[] = []
    for (const event of [
      { type: 'blockTimerExpired' as const },
      ...[0, 1, 2, 3, 4].map((round) => ({ type: 'roundTimerExpired' as const, round })),
    ]) {
      const result = step(state, event)
      state = result.state
      for (const o of result.outputs) if (o.type === 'armRoundTimer') armed.push(o.ms)
    }
    expect(armed).toEqual([500, 1000, 2000, 4000, 4000, 4000])
    expect(state.round).toBe(5)
  })

  it('moves early to the smallest round that f+1 validators ask for, and with a quorum to its round', () => {
    const roundChange = (key: TestValidator, round: number) =>
      signMessage(
        {
          type: 'ROUND_CHANGE',
          payload: { type: 'ROUND_CHANGE', height: HEIGHT, round, prepared: undefined },
          preparedBlock: undefined,
          prepares: [],
        },
        key.privateKey,
        crypto,
      )
    const one = run(createMachine(config()), [{ type: 'blockTimerExpired' }, msg(roundChange(keys[2], 5))])
    expect(one.state.round).toBe(0)
    const two = step(one.state, msg(roundChange(keys[3], 3)))
    expect(two.state.round).toBe(3)
    expect(sent(two.outputs, 'ROUND_CHANGE').map((m) => m.signed.payload.round)).toEqual([3])
    const quorum = run(two.state, [msg(roundChange(keys[0], 5)), msg(roundChange(keys[3], 5))])
    expect(quorum.state.round).toBe(5)
    expect(machineStatus(quorum.state)).toMatchObject({
      round: 5,
      proposer: validators[1],
      quorum: 3,
    })
    const [summary] = machineStatus(quorum.state).roundChanges
    expect(summary.round).toBe(5)
    expect(summary.authors).toHaveLength(4)
    expect(summary.authors).toEqual(expect.arrayContaining(validators))
    // Validator 1 leads round 5 (5 % 4): a quorum of unprepared round changes lets it ask for a fresh block.
    expect(quorum.outputs).toContainEqual({ type: 'buildBlock', round: 5 })
  })

  it('a single validator decides alone', () => {
    const solo = config(keys[0], [validators[0]])
    const { outputs } = run(createMachine(solo), [
      { type: 'blockTimerExpired' },
      { type: 'blockBuilt', round: 0, block: A },
    ])
    expect(sent(outputs).map((m) => m.type)).toEqual(['PROPOSAL', 'PREPARE', 'COMMIT'])
    const commit = outputs.find((o) => o.type === 'commit')
    expect(commit).toMatchObject({ round: 0, block: A, digest: blocks.hash(A) })
    expect(commit?.type === 'commit' && blocks.commitSealSigner(A, 0, commit.seals[0])).toEqual(validators[0])
  })

  it('is a pure function of state and event, and stops after a new chain head', () => {
    const { state } = run(createMachine(config()), [{ type: 'blockTimerExpired' }, msg(proposal(A)), validA])
    const event = msg(prepare(keys[0], A))
    const first = step(state, event)
    const second = step(state, event)
    expect(second.outputs).toEqual(first.outputs)
    expect(state.rounds.get(0)?.prepares.size).toBe(1)
    const done = step(state, { type: 'newChainHead', height: HEIGHT })
    expect(done.state.finished).toBe(true)
    expect(step(done.state, event).outputs).toEqual([])
  })
})
