/**
 * State and block overrides for read-only execution (eth_call, eth_estimateGas, eth_createAccessList,
 * eth_simulateV1), with geth's semantics and error messages.
 */
import { type Block, createBlock, type HeaderData } from '@ethereumjs/block'
import type { Common, StateManagerInterface } from '@ethereumjs/common'
import { type CustomPrecompile, getActivePrecompiles, type PrecompileFunc } from '@ethereumjs/evm'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Account, type Address, bytesToUnprefixedHex, toChecksumAddress } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'

export interface AccountOverride {
  nonce?: bigint
  balance?: bigint
  code?: Uint8Array
  /** Replaces the whole storage of the account: [slot, value] pairs of 32 bytes each. */
  state?: [Uint8Array, Uint8Array][]
  /** Sets only these slots. */
  stateDiff?: [Uint8Array, Uint8Array][]
  /** Moves the precompile at this account's address to another address. */
  movePrecompileToAddress?: Address
}

/** Overridden accounts, in the order the request lists them. */
export type StateOverrides = [Address, AccountOverride][]

/** Header fields a call or a simulated block runs with instead of the block's own. */
export interface BlockOverrides {
  number?: bigint
  difficulty?: bigint
  time?: bigint
  gasLimit?: bigint
  feeRecipient?: Address
  prevRandao?: Uint8Array
  baseFeePerGas?: bigint
  blobBaseFee?: bigint
}

/** An override that cannot be applied; answered as -32000 with geth's message. */
export class OverrideError extends Error {}

const checksum = (address: Address): string => toChecksumAddress(address.toString())

/**
 * Checks `overrides` against the active precompiles and returns the EVM's `customPrecompiles`: an overridden
 * precompile stops being one, and `movePrecompileToAddress` installs its function elsewhere (as geth does).
 */
export function precompileOverrides(common: Common, overrides: StateOverrides | undefined): CustomPrecompile[] {
  if (overrides === undefined || overrides.length === 0) return []
  const active = getActivePrecompiles(common) as Map<string, PrecompileFunc>
  const overridden = new Set(overrides.map(([address]) => bytesToUnprefixedHex(address.bytes)))
  const movedTo = new Set<string>()
  const custom: CustomPrecompile[] = []
  for (const [address, account] of overrides) {
    const key = bytesToUnprefixedHex(address.bytes)
    if (movedTo.has(key))
      throw new OverrideError(`account ${checksum(address)} has already been overridden by a precompile`)
    const precompile = active.get(key)
    if (account.movePrecompileToAddress !== undefined) {
      const target = account.movePrecompileToAddress
      if (precompile === undefined) throw new OverrideError(`account ${checksum(address)} is not a precompile`)
      const targetKey = bytesToUnprefixedHex(target.bytes)
      if (overridden.has(targetKey)) throw new OverrideError(`account ${checksum(target)} is already overridden`)
      custom.push({ address: target, function: precompile })
      movedTo.add(targetKey)
    }
    if (precompile !== undefined) custom.push({ address })
    if (account.state !== undefined && account.stateDiff !== undefined) {
      throw new OverrideError(`account ${checksum(address)} has both 'state' and 'stateDiff'`)
    }
  }
  return custom
}

/** The journal's set of addresses warm for a whole transaction (private in its typings). */
interface WarmJournal {
  alwaysWarmJournal: Map<string, Set<string>>
  addAlwaysWarmAddress(address: string): void
}

/**
 * geth warms the fork's precompile addresses at the start of each transaction (EIP-2929) whatever the overrides;
 * @ethereumjs warms the addresses in its EVM's precompile map, which the overrides changed. At the start of each
 * transaction, warm the overridden precompiles again and cool the addresses precompiles were moved to (unless the
 * transaction warms them itself).
 */
export function keepPrecompileWarmth(vm: VM, overrides: StateOverrides | undefined): void {
  const moved = (overrides ?? []).flatMap(([, account]) =>
    account.movePrecompileToAddress === undefined ? [] : [bytesToUnprefixedHex(account.movePrecompileToAddress.bytes)],
  )
  if (moved.length === 0 || !vm.common.isActivatedEIP(2929)) return
  const active = [...(getActivePrecompiles(vm.common) as Map<string, PrecompileFunc>).keys()]
  const events = vm.evm.events
  if (events === undefined) throw new Error('the EVM has no event emitter')
  let tx: TypedTransaction | undefined
  vm.events.on('beforeTx', (next) => {
    tx = next
  })
  events.on('beforeMessage', (message) => {
    if (message.depth !== 0 || tx === undefined) return
    const journal = vm.evm.journal as unknown as WarmJournal
    for (const address of active) journal.addAlwaysWarmAddress(address)
    const own = new Set([bytesToUnprefixedHex(message.caller.bytes)])
    if (tx.to !== undefined) own.add(bytesToUnprefixedHex(tx.to.bytes))
    for (const [address] of 'accessList' in tx ? tx.accessList : []) own.add(bytesToUnprefixedHex(address))
    for (const address of moved) {
      if (!own.has(address) && !active.includes(address)) journal.alwaysWarmJournal.delete(address)
    }
    tx = undefined
  })
}

/** Writes the account overrides into `stateManager` (nonce, balance, code, then storage). */
export async function applyStateOverrides(
  stateManager: StateManagerInterface,
  overrides: StateOverrides | undefined,
): Promise<void> {
  for (const [address, override] of overrides ?? []) {
    if (override.nonce !== undefined || override.balance !== undefined) {
      const account = (await stateManager.getAccount(address)) ?? new Account()
      if (override.nonce !== undefined) account.nonce = override.nonce
      if (override.balance !== undefined) account.balance = override.balance
      await stateManager.putAccount(address, account)
    }
    if (override.code !== undefined) {
      if ((await stateManager.getAccount(address)) === undefined) await stateManager.putAccount(address, new Account())
      await stateManager.putCode(address, override.code)
    }
    if (override.state !== undefined) {
      if ((await stateManager.getAccount(address)) === undefined) await stateManager.putAccount(address, new Account())
      await stateManager.clearStorage(address)
      for (const [slot, value] of override.state) await stateManager.putStorage(address, slot, value)
    }
    for (const [slot, value] of override.stateDiff ?? []) {
      if ((await stateManager.getAccount(address)) === undefined) await stateManager.putAccount(address, new Account())
      await stateManager.putStorage(address, slot, value)
    }
  }
}

/**
 * `block` with its header fields replaced by `overrides` (and `extra` fields, e.g. a zero base fee for calls
 * without fees). The block is not frozen so that a blob base fee override can replace the header's computed one.
 */
export function blockWithOverrides(block: Block, overrides: BlockOverrides | undefined, extra: HeaderData = {}): Block {
  if (overrides === undefined && Object.keys(extra).length === 0) return block
  const header: HeaderData = { ...block.header.toJSON(), ...extra }
  if (overrides?.number !== undefined) header.number = overrides.number
  if (overrides?.difficulty !== undefined) header.difficulty = overrides.difficulty
  if (overrides?.time !== undefined) header.timestamp = overrides.time
  if (overrides?.gasLimit !== undefined) header.gasLimit = overrides.gasLimit
  if (overrides?.feeRecipient !== undefined) header.coinbase = overrides.feeRecipient
  if (overrides?.prevRandao !== undefined) header.mixHash = overrides.prevRandao
  if (overrides?.baseFeePerGas !== undefined) header.baseFeePerGas = overrides.baseFeePerGas
  const out = createBlock({ header }, { common: block.common, skipConsensusFormatValidation: true, freeze: false })
  const blobBaseFee = overrides?.blobBaseFee
  if (blobBaseFee !== undefined) out.header.getBlobGasPrice = () => blobBaseFee
  return out
}
