/**
 * geth's StateOverride and BlockOverrides parameters (eth_call, eth_estimateGas, eth_createAccessList,
 * eth_simulateV1), decoded into the execution layer's types.
 */
import { Address, bytesToHex } from '@ethereumjs/util'
import type { z } from 'zod'
import type { AccountOverride, BlockOverrides, StateOverrides } from '../execution/index.js'
import { decodeAddress, decodeData, decoded, decodeHash, decodeQuantity, decodeUint64, ParamError } from './params.js'

function object(value: unknown, type: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ParamError(
      `json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go value of type ${type}`,
    )
  }
  return value as Record<string, unknown>
}

const present = (value: unknown): boolean => value !== undefined && value !== null

function slots(value: unknown): [Uint8Array, Uint8Array][] {
  const entries = Object.entries(object(value, 'map[common.Hash]common.Hash'))
  return entries.map(([slot, word]) => [decodeHash(slot), decodeHash(word)])
}

function decodeAccountOverride(value: unknown): AccountOverride {
  const fields = object(value, 'override.OverrideAccount')
  const out: AccountOverride = {}
  if (present(fields.nonce)) out.nonce = decodeUint64(fields.nonce)
  if (present(fields.balance)) out.balance = decodeQuantity(fields.balance)
  if (present(fields.code)) out.code = decodeData(fields.code)
  if (present(fields.state)) out.state = slots(fields.state)
  if (present(fields.stateDiff)) out.stateDiff = slots(fields.stateDiff)
  if (present(fields.movePrecompileToAddress)) {
    out.movePrecompileToAddress = new Address(decodeAddress(fields.movePrecompileToAddress))
  }
  return out
}

/** StateOverride: address → {nonce, balance, code, state | stateDiff, movePrecompileToAddress}. */
export function decodeStateOverrides(value: unknown): StateOverrides {
  const byAddress = new Map<string, [Address, AccountOverride]>()
  for (const [key, account] of Object.entries(object(value, 'override.StateOverride'))) {
    const address = new Address(decodeAddress(key))
    // Two spellings of one address: the later wins, as in a Go map.
    byAddress.set(bytesToHex(address.bytes), [address, decodeAccountOverride(account)])
  }
  return [...byAddress.values()]
}

/** BlockOverrides; beaconRoot and withdrawals are refused (there is no beacon chain here). */
export function decodeBlockOverrides(value: unknown): BlockOverrides {
  const fields = object(value, 'override.BlockOverrides')
  for (const unsupported of ['beaconRoot', 'withdrawals']) {
    if (present(fields[unsupported])) throw new ParamError(`block override "${unsupported}" is not supported`)
  }
  const out: BlockOverrides = {}
  if (present(fields.number)) out.number = decodeQuantity(fields.number)
  if (present(fields.difficulty)) out.difficulty = decodeQuantity(fields.difficulty)
  if (present(fields.time)) out.time = decodeUint64(fields.time)
  if (present(fields.gasLimit)) out.gasLimit = decodeUint64(fields.gasLimit)
  if (present(fields.feeRecipient)) out.feeRecipient = new Address(decodeAddress(fields.feeRecipient))
  if (present(fields.prevRandao)) out.prevRandao = decodeHash(fields.prevRandao)
  if (present(fields.baseFeePerGas)) out.baseFeePerGas = decodeQuantity(fields.baseFeePerGas)
  if (present(fields.blobBaseFee)) out.blobBaseFee = decodeQuantity(fields.blobBaseFee)
  return out
}

export const stateOverrides: z.ZodType<StateOverrides> = decoded(decodeStateOverrides)
export const blockOverrides: z.ZodType<BlockOverrides> = decoded(decodeBlockOverrides)
