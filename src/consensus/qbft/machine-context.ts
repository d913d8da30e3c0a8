/** The working copy one `step` mutates, and the small operations every handler shares. */
import type { JustificationContext } from './justification.js'
import {
  cloneRound,
  emptyRound,
  type MachineState,
  type Mutable,
  type MutableRoundData,
  type RoundData,
} from './machine-state.js'
import type { DropReason, MachineOutput } from './machine-types.js'
import type { QbftMessage } from './messages.js'

/** The new state (copied on write, round by round) and the outputs so far. */
export interface StepContext<B> {
  s: Mutable<MachineState<B>> & { rounds: Map<number, RoundData<B>>; dropped: Record<DropReason, number> }
  out: MachineOutput<B>[]
  /** Rounds whose data this step already copied. */
  touched: Set<number>
  logChanged: boolean
}

export function createContext<B>(state: MachineState<B>): StepContext<B> {
  return {
    s: { ...state, rounds: new Map(state.rounds), dropped: { ...state.dropped } },
    out: [],
    touched: new Set(),
    logChanged: false,
  }
}

/** Round data of `round` that this step may change. */
export function writableRound<B>(c: StepContext<B>, round: number): MutableRoundData<B> {
  const existing = c.s.rounds.get(round)
  // Rounds this step copied are its own; the others are shared with the previous state.
  if (existing !== undefined && c.touched.has(round)) return existing as MutableRoundData<B>
  const rd = existing === undefined ? emptyRound<B>() : cloneRound(existing)
  c.s.rounds.set(round, rd)
  c.touched.add(round)
  return rd
}

export function drop<B>(c: StepContext<B>, reason: DropReason, message: QbftMessage): void {
  c.s.dropped[reason] += 1
  c.out.push({ type: 'dropped', reason, message })
}

/** Records a message this node signed (the log must reach storage before the broadcast) and broadcasts it. */
export function send<B>(c: StepContext<B>, message: QbftMessage): void {
  const round = message.signed.payload.round
  const log = c.s.log
  c.s.log = round > log.round ? { round, messages: [message] } : { round, messages: [...log.messages, message] }
  c.logChanged = true
  c.out.push({ type: 'broadcast', message })
}

/** True when this node already signed a message of `type` in `round`. */
export function hasSent<B>(c: StepContext<B>, type: QbftMessage['type'], round: number): boolean {
  return c.s.log.round === round && c.s.log.messages.some((m) => m.type === type)
}

export function justificationContext<B>(c: StepContext<B>): JustificationContext<B> {
  const { height, validators, blocks } = c.s.config
  return { height, validators, blocks }
}
