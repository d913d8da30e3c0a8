/**
 * Collects, while a block executes, the addresses each transaction's messages (the top-level call or creation and every
 * internal CALL, CALLCODE, DELEGATECALL, STATICCALL, CREATE, CREATE2) went from and to, and the contracts it created
 * that survived. The chain indexes (src/indexes) are derived from it. Listens to the EVM's message events: one cheap
 * synchronous callback per message, nothing per opcode.
 */
import type { EVMResult, Message } from '@ethereumjs/evm'
import type { VM } from '@ethereumjs/vm'

/** A contract that a transaction created (top level or internally) and that still exists after it. */
export interface CreatedContract {
  address: Uint8Array
  /** The transaction's sender for a top-level creation; the contract that ran CREATE/CREATE2 otherwise. */
  creator: Uint8Array
}

/** What one transaction's execution touched. */
export interface TxTouches {
  /** From and to of every message, reverted ones included, in order of appearance (may repeat). */
  addresses: Uint8Array[]
  created: CreatedContract[]
}

interface Frame {
  /** Set for a creation: the caller (creator). */
  creator: Uint8Array | undefined
  /** The address a creation got (newContract event). */
  address: Uint8Array | undefined
  /** Creations that succeeded inside this message so far; dropped if this message fails. */
  created: CreatedContract[]
}

export class TouchCollector {
  private frames: Frame[] = []
  private addresses: Uint8Array[] = []
  private created: CreatedContract[] = []
  private attachedTo: VM | undefined

  private readonly onBeforeMessage = (message: Message): void => {
    this.addresses.push(message.caller.bytes)
    if (message.to !== undefined) this.addresses.push(message.to.bytes)
    this.frames.push({
      creator: message.to === undefined ? message.caller.bytes : undefined,
      address: undefined,
      created: [],
    })
  }

  /** Fires for a creation right after its beforeMessage, before its init code runs (so the top frame is its own). */
  private readonly onNewContract = (event: { address: { bytes: Uint8Array } }): void => {
    const frame = this.frames[this.frames.length - 1]
    this.addresses.push(event.address.bytes)
    if (frame !== undefined) frame.address = event.address.bytes
  }

  private readonly onAfterMessage = (result: EVMResult): void => {
    const frame = this.frames.pop()
    if (frame === undefined || result.execResult.exceptionError !== undefined) return
    const survived = frame.created
    if (frame.creator !== undefined && frame.address !== undefined) {
      survived.push({ address: frame.address, creator: frame.creator })
    }
    const parent = this.frames[this.frames.length - 1]
    if (parent !== undefined) parent.created.push(...survived)
    else this.created.push(...survived)
  }

  attach(vm: VM): void {
    this.attachedTo = vm
    vm.evm.events?.on('beforeMessage', this.onBeforeMessage)
    vm.evm.events?.on('newContract', this.onNewContract)
    vm.evm.events?.on('afterMessage', this.onAfterMessage)
  }

  detach(): void {
    const events = this.attachedTo?.evm.events
    events?.off('beforeMessage', this.onBeforeMessage)
    events?.off('newContract', this.onNewContract)
    events?.off('afterMessage', this.onAfterMessage)
    this.attachedTo = undefined
  }

  /** Starts a transaction: whatever was collected before (system calls, a rejected transaction) is dropped. */
  begin(): void {
    this.frames = []
    this.addresses = []
    this.created = []
  }

  /** What the transaction since begin() touched (a failed transaction's top-level frame dropped its creations). */
  end(): TxTouches {
    const touches = { addresses: this.addresses, created: this.created }
    this.begin()
    return touches
  }
}
