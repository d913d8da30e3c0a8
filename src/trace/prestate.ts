/**
 * geth's prestateTracer: the accounts (and storage slots) a transaction touched, as they were before it ran; with
 * diffMode, what it changed (pre: old values of changed accounts, post: new values of the changed fields).
 */
import type { StateManagerInterface } from '@ethereumjs/common'
import type { EVMResult, InterpreterStep } from '@ethereumjs/evm'
import {
  Address,
  bigIntToBytes,
  bigIntToHex,
  bytesToHex,
  createAddressFromString,
  equalsBytes,
  hexToBytes,
  KECCAK256_NULL,
  setLengthLeft,
} from '@ethereumjs/util'
import type { RunTxResult } from '@ethereumjs/vm'
import type { TxTraceContext, TxTracer } from '../execution/trace.js'

export interface PrestateTracerConfig {
  diffMode: boolean
  disableCode: boolean
  disableStorage: boolean
}

/** An account's state; slots hold 32-byte words keyed by 0x-hex slot. */
export interface AccountState {
  balance: bigint
  nonce: bigint
  code: Uint8Array
  codeHash: Uint8Array
  storage: Map<string, Uint8Array>
}

export interface GethAccount {
  balance?: string
  code?: string
  codeHash?: string
  nonce?: number
  storage?: Record<string, string>
}

export type GethPrestate = Record<string, GethAccount>

const ZERO_WORD = new Uint8Array(32)
const word = (v: bigint) => setLengthLeft(bigIntToBytes(v), 32)
const slotKey = (v: bigint) => bytesToHex(word(v))
const addressOfWord = (v: bigint) => new Address(word(v).subarray(12)).toString()

function exists(a: AccountState): boolean {
  return (
    a.nonce > 0n ||
    a.code.length > 0 ||
    a.balance > 0n ||
    [...a.storage.values()].some((v) => !equalsBytes(v, ZERO_WORD))
  )
}

async function readAccount(
  state: StateManagerInterface,
  address: string,
  slots: Iterable<string>,
): Promise<AccountState> {
  const addr = createAddressFromString(address)
  const account = await state.getAccount(addr)
  const code = account === undefined ? new Uint8Array() : await state.getCode(addr)
  const storage = new Map<string, Uint8Array>()
  for (const slot of slots) {
    const value =
      account === undefined ? new Uint8Array() : await state.getStorage(addr, hexToBytes(slot as `0x${string}`))
    storage.set(slot, setLengthLeft(value, 32))
  }
  return {
    balance: account?.balance ?? 0n,
    nonce: account?.nonce ?? 0n,
    code,
    codeHash: account?.codeHash ?? KECCAK256_NULL,
    storage,
  }
}

/** What the transaction touched, and its state before (and after) the transaction. */
export interface StateTouched {
  pre: Map<string, AccountState>
  post: Map<string, AccountState>
  created: Set<string>
  deleted: Set<string>
}

/** Collects the accounts and slots a transaction touches, then reads them after and before it. */
export class StateRecorder implements TxTracer {
  readonly steps = true
  readonly preState = true
  private readonly touched = new Map<string, Set<string>>()
  private readonly created = new Set<string>()
  private readonly deleted = new Set<string>()
  private post = new Map<string, AccountState>()
  private pre = new Map<string, AccountState>()
  private done = false

  private touch(address: string, slot?: string): void {
    let slots = this.touched.get(address)
    if (slots === undefined) {
      slots = new Set()
      this.touched.set(address, slots)
    }
    if (slot !== undefined) slots.add(slot)
  }

  begin(ctx: TxTraceContext): void {
    this.touch(ctx.tx.getSenderAddress().toString())
    if (ctx.tx.to !== undefined) this.touch(ctx.tx.to.toString())
    this.touch(ctx.block.header.coinbase.toString())
  }

  step(step: InterpreterStep): void {
    const { stack } = step
    const top = stack[stack.length - 1]
    switch (step.opcode.name) {
      case 'SLOAD':
      case 'SSTORE':
        if (top !== undefined) this.touch(step.address.toString(), slotKey(top))
        break
      case 'EXTCODECOPY':
      case 'EXTCODEHASH':
      case 'EXTCODESIZE':
      case 'BALANCE':
        if (top !== undefined) this.touch(addressOfWord(top))
        break
      case 'SELFDESTRUCT':
        if (top !== undefined) this.touch(addressOfWord(top))
        this.deleted.add(step.address.toString())
        break
      case 'CALL':
      case 'CALLCODE':
      case 'DELEGATECALL':
      case 'STATICCALL':
        if (stack.length >= 2) this.touch(addressOfWord(stack[stack.length - 2]))
        break
    }
  }

  exit(result: EVMResult): void {
    if (result.createdAddress !== undefined) {
      const address = result.createdAddress.toString()
      this.touch(address)
      this.created.add(address)
    }
  }

  async end(_result: RunTxResult, state: StateManagerInterface): Promise<void> {
    for (const [address, slots] of this.touched) this.post.set(address, await readAccount(state, address, slots))
  }

  async before(state: StateManagerInterface): Promise<void> {
    for (const [address, slots] of this.touched) this.pre.set(address, await readAccount(state, address, slots))
    this.done = true
  }

  output(): StateTouched {
    if (!this.done) throw new Error('trace did not finish')
    return { pre: this.pre, post: this.post, created: this.created, deleted: this.deleted }
  }
}

function gethAccount(a: AccountState, config: PrestateTracerConfig, slots?: Iterable<string>): GethAccount {
  const out: GethAccount = { balance: bigIntToHex(a.balance) }
  if (!config.disableCode && a.code.length > 0) {
    out.code = bytesToHex(a.code)
    out.codeHash = bytesToHex(a.codeHash)
  }
  if (a.nonce > 0n) out.nonce = Number(a.nonce)
  if (!config.disableStorage) {
    const storage: Record<string, string> = {}
    for (const slot of slots ?? a.storage.keys()) storage[slot] = bytesToHex(a.storage.get(slot) ?? ZERO_WORD)
    if (Object.keys(storage).length > 0) out.storage = storage
  }
  return out
}

/** geth's prestateTracer answer: the prestate, or with diffMode `{ post, pre }`. */
export function gethPrestate(
  touched: StateTouched,
  config: PrestateTracerConfig,
): GethPrestate | { post: GethPrestate; pre: GethPrestate } {
  if (!config.diffMode) {
    const out: GethPrestate = {}
    for (const [address, account] of touched.pre) if (exists(account)) out[address] = gethAccount(account, config)
    return out
  }
  const pre: GethPrestate = {}
  const post: GethPrestate = {}
  for (const [address, before] of touched.pre) {
    const after = touched.post.get(address)
    if (after === undefined) continue
    if (touched.deleted.has(address)) {
      // A destroyed account shows only in pre.
      if (exists(before)) pre[address] = gethAccount(before, config)
      continue
    }
    const changed: GethAccount = {}
    let modified = false
    if (after.balance !== before.balance) {
      changed.balance = bigIntToHex(after.balance)
      modified = true
    }
    if (after.nonce !== before.nonce) {
      changed.nonce = Number(after.nonce)
      modified = true
    }
    if (!config.disableCode && !equalsBytes(after.code, before.code)) {
      if (after.code.length > 0) {
        changed.code = bytesToHex(after.code)
        changed.codeHash = bytesToHex(after.codeHash)
      }
      modified = true
    }
    const changedSlots: string[] = []
    if (!config.disableStorage) {
      const storage: Record<string, string> = {}
      for (const [slot, old] of before.storage) {
        const now = after.storage.get(slot) ?? ZERO_WORD
        if (equalsBytes(now, old)) continue
        modified = true
        if (!equalsBytes(old, ZERO_WORD)) changedSlots.push(slot)
        if (!equalsBytes(now, ZERO_WORD)) storage[slot] = bytesToHex(now)
      }
      if (Object.keys(storage).length > 0) changed.storage = storage
    }
    if (!modified) continue
    post[address] = changed
    if (exists(before)) pre[address] = gethAccount(before, config, changedSlots)
  }
  return { post, pre }
}
