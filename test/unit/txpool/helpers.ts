import { type Common, createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx, createLegacyTx, type FeeMarket1559Tx, type LegacyTx } from '@ethereumjs/tx'
import { type Address, createAddressFromPrivateKey, hexToBytes } from '@ethereumjs/util'
import {
  type AccountState,
  defaultTxPoolOptions,
  TxPool,
  type TxPoolDeps,
  type TxPoolOptions,
} from '../../../src/txpool/index.js'

export const CHAIN_ID = 1337n
export const GWEI = 1_000_000_000n
export const ETHER = 10n ** 18n
export const RECIPIENT = `0x${'ab'.repeat(20)}` as const

export function customCommon(hardfork: Hardfork = Hardfork.Prague, chainId = CHAIN_ID, opts = {}): Common {
  return createCustomCommon({ chainId: Number(chainId) }, Mainnet, { hardfork, ...opts })
}

export const common = customCommon()

export function privateKey(n: number): Uint8Array {
  return hexToBytes(`0x${n.toString(16).padStart(64, '0')}`)
}

export function addressOf(key: Uint8Array): Address {
  return createAddressFromPrivateKey(key)
}

export interface FeeMarketFields {
  nonce?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  gasLimit?: bigint
  value?: bigint
  data?: Uint8Array
}

/** An EIP-1559 tx signed by `key`; defaults: nonce 0, 100 gwei cap, 2 gwei tip, 21000 gas, no value. */
export function feeMarketTx(key: Uint8Array, fields: FeeMarketFields = {}, txCommon: Common = common): FeeMarket1559Tx {
  return createFeeMarket1559Tx(
    {
      nonce: fields.nonce ?? 0n,
      maxFeePerGas: fields.maxFeePerGas ?? 100n * GWEI,
      maxPriorityFeePerGas: fields.maxPriorityFeePerGas ?? 2n * GWEI,
      gasLimit: fields.gasLimit ?? 21_000n,
      to: RECIPIENT,
      value: fields.value ?? 0n,
      data: fields.data,
    },
    { common: txCommon },
  ).sign(key)
}

export function legacyTx(
  key: Uint8Array,
  fields: { nonce?: bigint; gasPrice?: bigint; gasLimit?: bigint } = {},
  txCommon: Common = common,
): LegacyTx {
  return createLegacyTx(
    {
      nonce: fields.nonce ?? 0n,
      gasPrice: fields.gasPrice ?? 100n * GWEI,
      gasLimit: fields.gasLimit ?? 21_000n,
      to: RECIPIENT,
    },
    { common: txCommon },
  ).sign(key)
}

/** A head state and chain tip the tests can move: accounts default to nonce 0 and 1000 ether. */
export class FakeChain {
  readonly accounts = new Map<string, AccountState>()
  head = { number: 1n, baseFeePerGas: 7n * GWEI, gasLimit: 30_000_000n }
  accountReads = 0

  constructor(readonly chainCommon: Common = common) {}

  setAccount(address: Address, state: Partial<AccountState>): void {
    this.accounts.set(address.toString(), { ...this.account(address), ...state })
  }

  account(address: Address): AccountState {
    return this.accounts.get(address.toString()) ?? { nonce: 0n, balance: 1000n * ETHER }
  }

  deps(): TxPoolDeps {
    return {
      common: this.chainCommon,
      getAccount: async (address) => {
        this.accountReads++
        return this.account(address)
      },
      head: () => this.head,
    }
  }

  pool(opts: Partial<TxPoolOptions> = {}): TxPool {
    return new TxPool({ ...defaultTxPoolOptions, ...opts }, this.deps())
  }
}
