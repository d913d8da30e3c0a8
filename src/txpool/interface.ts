import type { Common } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'

export interface AccountState {
  nonce: bigint
  balance: bigint
}

/** What the pool needs from the rest of the node; tests fake it. */
export interface TxPoolDeps {
  /** Configured for the chain (chainId, hardfork); transactions are decoded and validated against it. */
  common: Common
  /** Account at the current head state. */
  getAccount(address: Address): Promise<AccountState>
  head(): { number: bigint; baseFeePerGas: bigint; gasLimit: bigint }
  /**
   * Blob transactions (EIP-4844, sent with their sidecar) are admitted once the fork allows them. QBFT city chains
   * refuse them (no blob sidecars travel between validators); a read-only imported chain takes them as geth would.
   */
  acceptBlobs?: boolean
  /** Recovers the senders of a batch at once (off the event loop where it can); by default each on first use. */
  recoverSenders?: (txs: readonly TypedTransaction[]) => Promise<void>
}
