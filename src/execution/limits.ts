/**
 * Limits on read-only execution, as geth's --rpc.gascap and --rpc.evmtimeout: a gas cap for calls and a wall-clock
 * deadline that interrupts the EVM.
 *
 * The interpreter runs opcodes back to back in microtasks, so a timer may never fire during a pure-computation loop,
 * and a `step` listener slows every opcode down. Every loop in EVM code lands on a JUMPDEST, so JUMPDEST is replaced
 * (through the EVM's `customOpcodes` option) by one that checks the clock every few executions; a non-EVM error thrown
 * there leaves the interpreter, runTx and the caller untouched by the EVM's own error handling.
 */
import type { EVMOpts } from '@ethereumjs/evm'

type CustomOpcode = NonNullable<EVMOpts['customOpcodes']>[number]

/** The EVM ran past its deadline; the message is geth's. */
export class ExecutionTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`execution aborted (timeout = ${goDuration(timeoutMs)})`)
  }
}

/** A point in time after which read-only execution is aborted with ExecutionTimeoutError. */
export class Deadline {
  private constructor(
    /** `performance.now()` value at which execution stops. */
    readonly at: number,
    /** The configured timeout, for the error message. */
    readonly timeoutMs: number,
  ) {}

  /** A deadline `timeoutMs` from now; undefined for 0 (no timeout), as geth's --rpc.evmtimeout 0. */
  static after(timeoutMs: number): Deadline | undefined {
    return timeoutMs > 0 ? new Deadline(performance.now() + timeoutMs, timeoutMs) : undefined
  }

  get expired(): boolean {
    return performance.now() > this.at
  }

  /** Throws ExecutionTimeoutError once the deadline has passed. */
  check(): void {
    if (this.expired) throw new ExecutionTimeoutError(this.timeoutMs)
  }
}

/** JUMPDESTs executed between two clock reads: a read costs ~30 ns, a loop iteration ~1 µs. */
const CHECK_EVERY = 64

/** The EVM's `customOpcodes` that make it honour `deadline`: a JUMPDEST (cost 1, no effect) that checks the clock. */
export function deadlineOpcodes(deadline: Deadline | undefined): CustomOpcode[] {
  if (deadline === undefined) return []
  let count = 0
  return [
    {
      opcode: 0x5b,
      opcodeName: 'JUMPDEST',
      baseFee: 1,
      logicFunction: () => {
        count++
        if (count % CHECK_EVERY === 0) deadline.check()
      },
    },
  ]
}

/**
 * The gas a call runs with: the requested gas or `fallback`, at most `gasCap` (0 = no cap), as geth caps a call's
 * gas to --rpc.gascap.
 */
export function capGas(requested: bigint | undefined, fallback: bigint, gasCap: bigint): bigint {
  const gas = requested ?? fallback
  return gasCap > 0n && gas > gasCap ? gasCap : gas
}

/** Go's time.Duration formatting for whole milliseconds: 5s, 1.5s, 250ms, 2m0s, 1h0m0s. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s'
  if (ms < 1000) return `${ms}ms`
  const hours = Math.floor(ms / 3_600_000)
  const minutes = Math.floor((ms % 3_600_000) / 60_000)
  const seconds = (ms % 60_000) / 1000
  const secondsText = `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}s`
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`
  if (minutes > 0) return `${minutes}m${secondsText}`
  return secondsText
}
