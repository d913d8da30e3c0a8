/**
 * eth_simulateV1's log collection (geth's simulator tracer): logs per call frame, dropped when the frame fails, with
 * ETH transfers as ERC-7528 Transfer logs when asked for, numbered as geth numbers them.
 */
import type { InterpreterStep } from '@ethereumjs/evm'
import { bigIntToBytes, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'

export type LogTuple = [address: Uint8Array, topics: Uint8Array[], data: Uint8Array]

/** ERC-7528's pseudo-address for ETH in transfer logs. */
const ETH_ADDRESS = hexToBytes('0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee')
/** keccak256("Transfer(address,address,uint256)"). */
const TRANSFER_TOPIC = hexToBytes('0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef')

function transferLog(from: Uint8Array, to: Uint8Array, value: bigint): LogTuple {
  return [
    ETH_ADDRESS,
    [TRANSFER_TOPIC, setLengthLeft(from, 32), setLengthLeft(to, 32)],
    setLengthLeft(bigIntToBytes(value), 32),
  ]
}

interface IndexedLog {
  log: LogTuple
  index: number
}

/** Collects logs per call frame, dropping a frame's logs when it fails, with ETH transfers in execution order. */
export class TransferTracer {
  private frames: IndexedLog[][] = [[]]
  private pendingCreates: { log: LogTuple; frame: IndexedLog[] }[] = []
  /** Logs captured in this block so far, kept or not: geth numbers logs by this count. */
  private captured = 0

  private capture(frame: IndexedLog[], log: LogTuple): void {
    frame.push({ log, index: this.captured++ })
  }

  attach(vm: VM): void {
    const events = vm.evm.events
    if (events === undefined) throw new Error('the EVM has no event emitter')
    events.on('beforeMessage', (message) => {
      const frame: IndexedLog[] = []
      const isDelegate = message.delegatecall === true
      if (message.value > 0n && !isDelegate) {
        const log = transferLog(message.caller.bytes, message.to?.bytes ?? new Uint8Array(20), message.value)
        this.capture(frame, log)
        if (message.to === undefined) this.pendingCreates.push({ log, frame })
      }
      this.frames.push(frame)
    })
    events.on('afterMessage', (result) => {
      const frame = this.frames.pop() ?? []
      const created = result.createdAddress
      const pending = this.pendingCreates.findIndex((p) => p.frame === frame)
      if (pending >= 0) {
        // The created address is known only now; the transfer log was placed before the constructor's logs.
        if (created !== undefined) this.pendingCreates[pending].log[1][2] = setLengthLeft(created.bytes, 32)
        this.pendingCreates.splice(pending, 1)
      }
      if (result.execResult.exceptionError === undefined) this.frames[this.frames.length - 1].push(...frame)
    })
    events.on('step', (step: InterpreterStep, resolve?: (result?: unknown) => void) => {
      this.onStep(step)
        .then(() => resolve?.())
        .catch(() => resolve?.())
    })
  }

  private async onStep(step: InterpreterStep): Promise<void> {
    const name = step.opcode.name
    const frame = this.frames[this.frames.length - 1]
    if (name.startsWith('LOG')) {
      const count = Number(name.slice(3))
      const stack = step.stack
      const top = stack.length - 1
      const offset = Number(stack[top])
      const size = Number(stack[top - 1])
      const topics = []
      for (let i = 0; i < count; i++) topics.push(setLengthLeft(bigIntToBytes(stack[top - 2 - i]), 32))
      const memory = step.memory
      const data = new Uint8Array(size)
      data.set(memory.subarray(offset, Math.min(offset + size, memory.length)))
      this.capture(frame, [step.address.bytes, topics, data])
    } else if (name === 'SELFDESTRUCT') {
      const beneficiary = setLengthLeft(bigIntToBytes(step.stack[step.stack.length - 1]), 20)
      const balance = (await step.stateManager.getAccount(step.address))?.balance ?? 0n
      if (balance > 0n) this.capture(frame, transferLog(step.address.bytes, beneficiary, balance))
    }
  }

  /** The logs of the transaction that just ran, with their block-wide indexes; resets for the next one. */
  take(): { logs: LogTuple[]; indexes: number[] } {
    const kept = this.frames[0]
    this.frames = [[]]
    this.pendingCreates = []
    return { logs: kept.map((entry) => entry.log), indexes: kept.map((entry) => entry.index) }
  }
}
