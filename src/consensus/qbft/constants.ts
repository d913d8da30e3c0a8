import { hexToBytes } from '@ethereumjs/util'

/** Header mixHash of every BFT block: "ctical byzantine fault tolerance" (Besu BftHelpers.EXPECTED_MIX_HASH). */
export const ISTANBUL_MIX_HASH: Uint8Array = hexToBytes(
  '0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365',
)
export const EXTRA_VANITY_LENGTH = 32
export const QBFT_DIFFICULTY = 1n
export const ADDRESS_LENGTH = 20
export const SEAL_LENGTH = 65
/** Rounds are Java ints in Besu (`readIntScalar`), so anything above this cannot interoperate. */
export const MAX_ROUND = 0x7fffffff
