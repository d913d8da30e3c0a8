/** One prefix byte per kind of record in the node's single LevelDB. */
export const Prefix = {
  /** @ethereumjs/blockchain's records: headers, bodies, number↔hash, total difficulty, heads. */
  Chain: 0x01,
  /** State trie nodes and contract code (@ethereumjs/mpt). */
  State: 0x02,
  /** Receipts of a block, by block hash. */
  Receipts: 0x03,
  /** Transaction hash → [block number, block hash, index]. */
  TxLookup: 0x04,
  /** QBFT round and committed seals of a block, by block hash (the block hash excludes them). */
  Seals: 0x05,
  /** Node metadata: genesis hash, schema version. */
  Meta: 0x06,
  /** Consensus messages this validator has sent (so that a restart never contradicts them). */
  Consensus: 0x07,
} as const

export type PrefixByte = (typeof Prefix)[keyof typeof Prefix]

export const MetaKey = {
  GenesisHash: new TextEncoder().encode('genesis-hash'),
  ChainId: new TextEncoder().encode('chain-id'),
  SchemaVersion: new TextEncoder().encode('schema-version'),
} as const

export function prefixed(prefix: PrefixByte, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1)
  out[0] = prefix
  out.set(key, 1)
  return out
}
