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
  /** Log index: address ‖ block number → empty (blocks where the address emitted a log). See src/indexes. */
  LogAddress: 0x08,
  /** Log index: topic position (0..3) ‖ topic ‖ block number → empty. */
  LogTopic: 0x09,
  /** Log index: block number → empty, for every block holding at least one log. */
  LogBlock: 0x0a,
  /** Address appearances: address ‖ block number ‖ tx index → empty (sender, recipient, any internal message). */
  Appearance: 0x0b,
  /** Sender ‖ nonce → block number ‖ tx index. */
  SenderNonce: 0x0c,
  /** Created contract address → block number ‖ tx index ‖ creator address. */
  ContractCreator: 0x0d,
  /** The senders of a block's transactions, by block hash: 20 bytes each, in order (RPC answers need them). */
  Senders: 0x0e,
} as const

export type PrefixByte = (typeof Prefix)[keyof typeof Prefix]

export const MetaKey = {
  GenesisHash: new TextEncoder().encode('genesis-hash'),
  ChainId: new TextEncoder().encode('chain-id'),
  SchemaVersion: new TextEncoder().encode('schema-version'),
} as const

/**
 * Version of the record layout. 1: chain indexes (logs, appearances, sender+nonce, contract creators) written at
 * import. A data directory with blocks and an older (or no) version lacks records this code relies on.
 */
export const SCHEMA_VERSION = 1

export function prefixed(prefix: PrefixByte, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1)
  out[0] = prefix
  out.set(key, 1)
  return out
}
