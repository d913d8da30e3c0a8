/**
 * eth_createAccessList as geth computes it: run the call with the access list found so far until running it with
 * that list touches nothing new. Addresses come from the EVM journal's access-list report (`reportAccessList`), which
 * records every account and slot warmed during execution; the sender, the recipient (or created contract) and the
 * precompiles are left out unless storage slots of theirs were read, as geth's access-list tracer does.
 */
import type { Block } from '@ethereumjs/block'
import type { AccessListBytes } from '@ethereumjs/tx'
import { bytesToHex, createContractAddress, createZeroAddress, hexToBytes } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { CallError, type CallLimits, type CallRequest, maxGas, runQuery, vmErrorMessage } from './call.js'
import { capGas } from './limits.js'

export interface AccessListResult {
  accessList: AccessListBytes
  gasUsed: bigint
  /** Why the final run failed ("execution reverted", "out of gas", ...); absent on success. */
  error?: string
}

/** Runs to reach a fixed point; each run adds at least one address or slot, so this only bounds pathological code. */
const MAX_ROUNDS = 64

type ListMap = Map<string, Set<string>>

function toMap(list: AccessListBytes): ListMap {
  const map: ListMap = new Map()
  for (const [address, keys] of list) {
    const slots = map.get(bytesToHex(address)) ?? new Set<string>()
    for (const key of keys) slots.add(bytesToHex(key))
    map.set(bytesToHex(address), slots)
  }
  return map
}

function sameLists(a: ListMap, b: ListMap): boolean {
  if (a.size !== b.size) return false
  for (const [address, slots] of a) {
    const other = b.get(address)
    if (other === undefined || other.size !== slots.size) return false
    for (const slot of slots) if (!other.has(slot)) return false
  }
  return true
}

function toList(map: ListMap): AccessListBytes {
  return [...map].map(([address, slots]) => [
    hexToBytes(address as `0x${string}`),
    [...slots].sort().map((s) => hexToBytes(s as `0x${string}`)),
  ])
}

export async function createAccessListOnState(
  vm: VM,
  request: CallRequest,
  block: Block,
  limits: CallLimits,
): Promise<AccessListResult> {
  const from = request.from ?? createZeroAddress()
  const nonce = request.nonce ?? (await vm.stateManager.getAccount(from))?.nonce ?? 0n
  const to = request.to ?? createContractAddress(from, nonce)
  const excluded = new Set([from.toString(), to.toString(), ...[...vm.evm.precompiles.keys()].map((k) => `0x${k}`)])
  const gas = capGas(request.gas, maxGas(vm, block), limits.gasCap)
  let current = toMap(request.accessList ?? [])
  for (const address of [...current.keys()]) {
    if (excluded.has(address) && current.get(address)?.size === 0) current.delete(address)
  }
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const list = toList(current)
    let result: Awaited<ReturnType<typeof runQuery>>
    try {
      result = await runQuery(vm, { ...request, nonce, accessList: list }, block, gas, limits, true)
    } catch (e) {
      if (!(e instanceof CallError)) throw e
      throw new CallError(`failed to apply transaction: ${e.message}`)
    }
    const found = toMap(
      (result.accessList ?? []).map((entry) => [
        hexToBytes(entry.address as `0x${string}`),
        entry.storageKeys.map((key) => hexToBytes(key as `0x${string}`)),
      ]),
    )
    for (const [address, slots] of found) {
      if (excluded.has(address) && slots.size === 0) found.delete(address)
    }
    if (sameLists(found, current)) {
      const out: AccessListResult = { accessList: list, gasUsed: result.totalGasSpent }
      // geth reports the plain EVM error here, without a decoded revert reason.
      const error = vmErrorMessage(result)
      if (error !== undefined) out.error = error
      return out
    }
    current = found
  }
  throw new CallError(`access list did not settle after ${MAX_ROUNDS} runs`)
}
