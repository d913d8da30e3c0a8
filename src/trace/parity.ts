/**
 * Parity/OpenEthereum trace formats (trace_* as Erigon, Nethermind and Besu serve them): call trees flattened into
 * traces with traceAddress/subtraces, and stateDiff ("+" born, "-" died, "*" changed, "=" same).
 */
import { Address, bigIntToHex, bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { CallFrame, TracedCall } from './call.js'
import type { AccountState, StateTouched } from './prestate.js'

type Hex = string

export interface ParityTrace {
  action: Record<string, unknown>
  blockHash?: Hex
  blockNumber?: number
  error?: string
  result?: Record<string, unknown> | null
  subtraces: number
  traceAddress: number[]
  transactionHash?: Hex
  transactionPosition?: number
  type: 'call' | 'create' | 'suicide'
}

/** Where a transaction is, for the fields trace_block and trace_transaction add to each trace. */
export interface TraceLocation {
  blockHash: Uint8Array
  blockNumber: bigint
  transactionHash: Uint8Array
  transactionPosition: number
}

const address = (bytes: Uint8Array) => new Address(bytes).toString()

/** OpenEthereum's error names for @ethereumjs's EVM errors. */
const PARITY_ERRORS: Record<string, string> = {
  revert: 'Reverted',
  'out of gas': 'Out of gas',
  'code store out of gas': 'Out of gas',
  'invalid opcode': 'Bad instruction',
  'invalid JUMP': 'Bad jump destination',
  'stack underflow': 'Stack underflow',
  'stack overflow': 'Out of stack',
  'static state change': 'Mutable Call In Static Context',
  'create collision': 'Contract address collision',
  'insufficient balance': 'Insufficient balance',
  'code size to deposit exceeds maximum code size': 'Out of gas',
}

function parityError(error: string): string {
  return PARITY_ERRORS[error] ?? error
}

function action(frame: CallFrame): Pick<ParityTrace, 'action' | 'result' | 'type'> {
  if (frame.type === 'SELFDESTRUCT') {
    return {
      type: 'suicide',
      action: {
        address: address(frame.from),
        balance: bigIntToHex(frame.value ?? 0n),
        refundAddress: address(frame.to ?? new Uint8Array(20)),
      },
      result: null,
    }
  }
  if (frame.type === 'CREATE' || frame.type === 'CREATE2') {
    return {
      type: 'create',
      action: {
        creationMethod: frame.type.toLowerCase(),
        from: address(frame.from),
        gas: bigIntToHex(frame.gas),
        init: bytesToHex(frame.input),
        value: bigIntToHex(frame.value ?? 0n),
      },
      result: {
        address: frame.to === undefined ? null : address(frame.to),
        code: bytesToHex(frame.output),
        gasUsed: bigIntToHex(frame.gasUsed),
      },
    }
  }
  return {
    type: 'call',
    action: {
      callType: frame.type.toLowerCase(),
      from: address(frame.from),
      gas: bigIntToHex(frame.gas),
      input: bytesToHex(frame.input),
      to: address(frame.to ?? new Uint8Array(20)),
      value: bigIntToHex(frame.value ?? 0n),
    },
    result: { gasUsed: bigIntToHex(frame.gasUsed), output: bytesToHex(frame.output) },
  }
}

/** The call tree of a transaction as Parity traces, depth first; with `at`, each names its block and transaction. */
export function parityTraces(traced: TracedCall, at?: TraceLocation): ParityTrace[] {
  const out: ParityTrace[] = []
  const walk = (frame: CallFrame, path: number[]) => {
    const { type, action: act, result } = action(frame)
    const trace: ParityTrace = { action: act, result, subtraces: frame.calls.length, traceAddress: path, type }
    if (frame.error !== undefined) {
      // A failed frame has an error instead of a result (OpenEthereum).
      trace.error = parityError(frame.error)
      delete (trace as Partial<ParityTrace>).result
    }
    if (at !== undefined) {
      trace.blockHash = bytesToHex(at.blockHash)
      trace.blockNumber = Number(at.blockNumber)
      trace.transactionHash = bytesToHex(at.transactionHash)
      trace.transactionPosition = at.transactionPosition
    }
    // OpenEthereum's key order: action, blockHash, blockNumber, error, result, subtraces, traceAddress, ...
    out.push(sortKeys(trace))
    for (const [i, child] of frame.calls.entries()) walk(child, [...path, i])
  }
  walk(traced.root, [])
  return out
}

function sortKeys<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T
}

type Delta = '=' | { '+': Hex } | { '-': Hex } | { '*': { from: Hex; to: Hex } }

export interface AccountDiff {
  balance: Delta
  code: Delta
  nonce: Delta
  storage: Record<Hex, Delta>
}

function exists(a: AccountState | undefined): a is AccountState {
  return a !== undefined && (a.nonce > 0n || a.balance > 0n || a.code.length > 0)
}

function delta(from: Hex, to: Hex): Delta {
  return from === to ? '=' : { '*': { from, to } }
}

/** Every field of `account` (and its non-zero slots) as added ('+') or removed ('-'). */
function whole(account: AccountState, sign: '+' | '-'): AccountDiff {
  const mark = (value: Hex) => ({ [sign]: value }) as Delta
  const storage: Record<Hex, Delta> = {}
  for (const [slot, value] of account.storage) if (value.some((b) => b !== 0)) storage[slot] = mark(bytesToHex(value))
  return {
    balance: mark(bigIntToHex(account.balance)),
    code: mark(bytesToHex(account.code)),
    nonce: mark(bigIntToHex(account.nonce)),
    storage,
  }
}

/** OpenEthereum's stateDiff of a transaction: every account it changed, field by field. */
export function parityStateDiff(touched: StateTouched): Record<Hex, AccountDiff> {
  const out: Record<Hex, AccountDiff> = {}
  for (const [addr, before] of touched.pre) {
    const after = touched.post.get(addr)
    const was = exists(before)
    const is = exists(after)
    if (!was && !is) continue
    // An account that came to be shows every field as added; one that ceased, as removed.
    if (!was && after !== undefined) {
      out[addr] = whole(after, '+')
      continue
    }
    if (!is) {
      out[addr] = whole(before, '-')
      continue
    }
    const now = after as AccountState
    const storage: Record<Hex, Delta> = {}
    for (const [slot, old] of before.storage) {
      const value = now.storage.get(slot)
      if (value !== undefined && !equalsBytes(old, value)) storage[slot] = delta(bytesToHex(old), bytesToHex(value))
    }
    const diff: AccountDiff = {
      balance: delta(bigIntToHex(before.balance), bigIntToHex(now.balance)),
      code: delta(bytesToHex(before.code), bytesToHex(now.code)),
      nonce: delta(bigIntToHex(before.nonce), bigIntToHex(now.nonce)),
      storage,
    }
    if (diff.balance === '=' && diff.code === '=' && diff.nonce === '=' && Object.keys(storage).length === 0) continue
    out[addr] = diff
  }
  return out
}
