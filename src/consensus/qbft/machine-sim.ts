/**
 * A deterministic in-memory network of QBFT state machines in virtual time, for tests and benchmarks of the
 * consensus alone: it executes each machine's outputs (broadcast, timers, block requests, commits) and lets the
 * caller decide how every message travels (delay, loss, duplication, substitution). Plus a minimal block type.
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt, bytesToInt, intToUnpaddedBytes } from '@ethereumjs/util'
import type { Crypto } from '../../crypto/index.js'
import { step } from './machine.js'
import { createMachine, type MachineState } from './machine-state.js'
import type {
  BlockInterface,
  MachineConfig,
  MachineEvent,
  MachineOutput,
  MachineSigner,
  SignedLog,
} from './machine-types.js'
import { type QbftMessage, signPayload } from './messages.js'

/** The smallest block QBFT can decide on: a number, a round, a proposer and an opaque body. */
export interface SimBlock {
  number: bigint
  round: number
  proposer: Uint8Array
  body: Uint8Array
}

/** Digest includes the round, as Besu's commit-seal hash does; seals are over the digest at the commit round. */
export function simBlockInterface(crypto: Pick<Crypto, 'keccak256' | 'recoverAddress'>): BlockInterface<SimBlock> {
  const encode = (b: SimBlock) =>
    RLP.encode([bigIntToUnpaddedBytes(b.number), intToUnpaddedBytes(b.round), b.proposer, b.body])
  const hash = (b: SimBlock) => crypto.keccak256(encode(b))
  const withRound = (b: SimBlock, round: number): SimBlock => ({ ...b, round })
  return {
    hash,
    number: (b) => b.number,
    round: (b) => b.round,
    proposer: (b) => b.proposer,
    withRound,
    encode,
    decode(bytes) {
      const f = RLP.decode(bytes)
      if (!Array.isArray(f) || f.length !== 4 || f.some((x) => !(x instanceof Uint8Array))) throw new Error('bad block')
      const [n, r, p, body] = f as Uint8Array[]
      if (p.length !== 20) throw new Error('bad proposer')
      return { number: bytesToBigInt(n), round: bytesToInt(r), proposer: p, body }
    },
    commitSealSigner(b, round, seal) {
      try {
        return crypto.recoverAddress(hash(withRound(b, round)), seal)
      } catch {
        return undefined
      }
    },
  }
}

export function simSigner(
  privateKey: Uint8Array,
  crypto: Pick<Crypto, 'keccak256' | 'sign' | 'recoverAddress' | 'privateKeyToAddress'>,
): MachineSigner<SimBlock> {
  const blocks = simBlockInterface(crypto)
  return {
    signPayload: (payload) => signPayload(payload, privateKey, crypto),
    signCommitSeal: (block, round) => crypto.sign(blocks.hash(blocks.withRound(block, round)), privateKey),
  }
}

export interface SimNode<B> {
  index: number
  config: MachineConfig<B>
  state: MachineState<B>
  online: boolean
  /** Last log the machine asked to persist. */
  persisted: SignedLog | undefined
  committed: Extract<MachineOutput<B>, { type: 'commit' }> | undefined
  /** Every round timer armed: virtual time, round, duration. */
  timers: { at: number; round: number; ms: number }[]
  outputs: MachineOutput<B>[]
}

/** How one broadcast copy travels from `from` to `to`: one entry per delivery (none: lost). */
export type DeliveryRule = (
  message: QbftMessage,
  from: number,
  to: number,
  time: number,
) => { delayMs: number; message?: QbftMessage }[]

export interface SimHooks<B> {
  /** Answer to `buildBlock`. */
  buildBlock(node: number, round: number): B
  /** Answer to `validateBlock`; default: valid. */
  validateBlock?(node: number, block: B): boolean
  delivery?: DeliveryRule
  /** Applied to every delivered message, e.g. an encode/decode round trip through the wire codec. */
  transport?(message: QbftMessage): QbftMessage
  latencyMs?: number
}

interface Scheduled<B> {
  at: number
  seq: number
  node: number
  event: MachineEvent<B>
  timer?: number
}

export class SimNetwork<B> {
  time = 0
  readonly nodes: SimNode<B>[]
  /** Every message any node broadcast, in order. */
  readonly broadcasts: { from: number; at: number; message: QbftMessage }[] = []
  private queue: Scheduled<B>[] = []
  private seq = 0
  private readonly timerIds: number[]

  constructor(
    configs: MachineConfig<B>[],
    private readonly hooks: SimHooks<B>,
  ) {
    this.nodes = configs.map((config, index) => ({
      index,
      config,
      state: createMachine(config),
      online: true,
      persisted: undefined,
      committed: undefined,
      timers: [],
      outputs: [],
    }))
    this.timerIds = configs.map(() => 0)
  }

  /** Queues `event` for `node` after `delayMs` of virtual time. */
  schedule(node: number, event: MachineEvent<B>, delayMs = 0, timer?: number): void {
    const item = { at: this.time + delayMs, seq: this.seq++, node, event, timer }
    let i = this.queue.length
    while (
      i > 0 &&
      (this.queue[i - 1].at > item.at || (this.queue[i - 1].at === item.at && this.queue[i - 1].seq > item.seq))
    )
      i--
    this.queue.splice(i, 0, item)
  }

  /** Fires every online node's block timer now. */
  startHeight(): void {
    for (const n of this.nodes) if (n.online) this.schedule(n.index, { type: 'blockTimerExpired' })
  }

  setOnline(node: number, online: boolean): void {
    const n = this.nodes[node]
    n.online = online
    this.timerIds[node] += 1
    if (!online) return
    // A node coming back re-reads its clock: block timer if it never started, else its current round's timer.
    if (!n.state.started) this.schedule(node, { type: 'blockTimerExpired' })
    else this.armTimer(node, n.state.round, n.timers.at(-1)?.ms ?? 0)
  }

  /** Replaces `node`'s machine by a fresh one restored from what it persisted, as after a crash. */
  restart(node: number, log: SignedLog | undefined = this.nodes[node].persisted): void {
    const n = this.nodes[node]
    n.state = createMachine(n.config, log)
    this.timerIds[node] += 1
  }

  /** Processes queued events in time order until `done()` or the queue empties or `untilMs` passes. */
  run(done: () => boolean = () => false, untilMs = Number.POSITIVE_INFINITY, maxEvents = 200_000): boolean {
    for (let i = 0; i < maxEvents; i++) {
      if (done()) return true
      const next = this.queue[0]
      if (next === undefined || next.at > untilMs) break
      this.queue.shift()
      this.time = next.at
      const n = this.nodes[next.node]
      if (!n.online || (next.timer !== undefined && next.timer !== this.timerIds[next.node])) continue
      this.apply(next.node, next.event)
    }
    if (Number.isFinite(untilMs)) this.time = Math.max(this.time, untilMs)
    return done()
  }

  /** Feeds one event to one node now and executes its outputs. */
  apply(node: number, event: MachineEvent<B>): MachineOutput<B>[] {
    const n = this.nodes[node]
    const { state, outputs } = step(n.state, event)
    n.state = state
    n.outputs.push(...outputs)
    for (const output of outputs) this.execute(node, output)
    return outputs
  }

  private armTimer(node: number, round: number, ms: number): void {
    this.timerIds[node] += 1
    this.schedule(node, { type: 'roundTimerExpired', round }, ms, this.timerIds[node])
  }

  private execute(node: number, output: MachineOutput<B>): void {
    const n = this.nodes[node]
    switch (output.type) {
      case 'persist':
        n.persisted = output.log
        break
      case 'broadcast':
        this.broadcast(node, output.message)
        break
      case 'armRoundTimer':
        n.timers.push({ at: this.time, round: output.round, ms: output.ms })
        this.armTimer(node, output.round, output.ms)
        break
      case 'buildBlock':
        this.schedule(node, {
          type: 'blockBuilt',
          round: output.round,
          block: this.hooks.buildBlock(node, output.round),
        })
        break
      case 'validateBlock': {
        const valid = this.hooks.validateBlock?.(node, output.block) ?? true
        this.schedule(node, { type: 'blockValidated', round: output.round, digest: output.digest, valid })
        break
      }
      case 'commit':
        n.committed = output
        break
      case 'dropped':
        break
    }
  }

  private broadcast(from: number, message: QbftMessage): void {
    this.broadcasts.push({ from, at: this.time, message })
    const latency = this.hooks.latencyMs ?? 10
    for (const to of this.nodes) {
      if (to.index === from) continue
      const copies = this.hooks.delivery?.(message, from, to.index, this.time) ?? [{ delayMs: latency }]
      for (const copy of copies) {
        const delivered = this.hooks.transport
          ? this.hooks.transport(copy.message ?? message)
          : (copy.message ?? message)
        this.schedule(to.index, { type: 'message', message: delivered }, copy.delayMs)
      }
    }
  }
}
