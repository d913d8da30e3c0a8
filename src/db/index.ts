/**
 * The node's one LevelDB. Every write is staged in memory and reaches the disk only through `commit()`, as one
 * atomic batch: a block import (block, state, receipts, indexes, head) either lands whole or not at all.
 */

import type { BatchDBOp, DB, EncodingOpts } from '@ethereumjs/util'
import { bytesToHex, bytesToUtf8, hexToBytes, utf8ToBytes } from '@ethereumjs/util'
import { ClassicLevel } from 'classic-level'
import { type PrefixByte, prefixed } from './keys.js'

export { MetaKey, Prefix, type PrefixByte, SCHEMA_VERSION } from './keys.js'

/** Bounds of a range read under one prefix (keys without the prefix byte), in LevelDB's byte order. */
export interface RangeOptions {
  gte?: Uint8Array
  lt?: Uint8Array
  /** Highest key first. */
  reverse?: boolean
  /** Most entries returned. */
  limit?: number
}

type Staged = Uint8Array | null

export class Database {
  private readonly staged = new Map<string, { key: Uint8Array; value: Staged }>()
  /** Read caches of the adapters: they may hold staged values, so a rollback empties them. */
  private readonly caches: Map<string, Uint8Array>[] = []

  private constructor(private readonly level: ClassicLevel<Uint8Array, Uint8Array>) {}

  static async open(dir: string): Promise<Database> {
    const level = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
    try {
      await level.open()
    } catch (e) {
      const cause = (e as { cause?: Error }).cause
      throw new Error(`cannot open database in ${dir}: ${cause?.message ?? (e as Error).message}`)
    }
    return new Database(level)
  }

  async close(): Promise<void> {
    await this.level.close()
  }

  async get(prefix: PrefixByte, key: Uint8Array): Promise<Uint8Array | undefined> {
    const full = prefixed(prefix, key)
    const staged = this.staged.get(bytesToHex(full))
    // A copy: what is staged goes to disk, and @ethereumjs may work on the bytes it is handed.
    if (staged !== undefined) return staged.value?.slice() ?? undefined
    return this.level.get(full)
  }

  put(prefix: PrefixByte, key: Uint8Array, value: Uint8Array): void {
    const full = prefixed(prefix, key)
    this.staged.set(bytesToHex(full), { key: full, value: value.slice() })
  }

  del(prefix: PrefixByte, key: Uint8Array): void {
    const full = prefixed(prefix, key)
    this.staged.set(bytesToHex(full), { key: full, value: null })
  }

  /**
   * Writes one record durably right away, outside the staged batch: for what must be on disk before the node acts
   * on it (a consensus message before it is sent), while a block's writes may still be staged.
   */
  async writeNow(prefix: PrefixByte, key: Uint8Array, value: Uint8Array): Promise<void> {
    const full = prefixed(prefix, key)
    this.staged.delete(bytesToHex(full))
    await this.level.put(full, value, { sync: true })
  }

  /** Number of staged writes not yet committed. */
  get pendingWrites(): number {
    return this.staged.size
  }

  /** Writes everything staged since the last commit in one atomic LevelDB batch. */
  async commit(): Promise<void> {
    if (this.staged.size === 0) return
    const ops: ({ type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array })[] = []
    for (const { key, value } of this.staged.values()) {
      ops.push(value === null ? { type: 'del', key } : { type: 'put', key, value })
    }
    await this.level.batch(ops)
    this.staged.clear()
  }

  /** Drops everything staged since the last commit. */
  rollback(): void {
    this.staged.clear()
    for (const cache of this.caches) cache.clear()
  }

  /** Iterates committed keys under a prefix (staged writes are not visible). */
  async *entries(prefix: PrefixByte): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const gte = Uint8Array.of(prefix)
    const lt = Uint8Array.of(prefix + 1)
    for await (const [key, value] of this.level.iterator({ gte, lt })) yield [key.subarray(1), value]
  }

  /**
   * Committed keys under `prefix` within the bounds (staged writes are not visible), without the prefix byte, in key
   * order (or reverse order).
   */
  async *keys(prefix: PrefixByte, range: RangeOptions = {}): AsyncGenerator<Uint8Array> {
    const iterator = this.level.keys({ ...levelBounds(prefix, range), reverse: range.reverse === true })
    try {
      for await (const key of iterator) yield key.subarray(1)
    } finally {
      await iterator.close()
    }
  }

  /** Like keys(), with values. */
  async *range(prefix: PrefixByte, range: RangeOptions = {}): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const iterator = this.level.iterator({ ...levelBounds(prefix, range), reverse: range.reverse === true })
    try {
      for await (const [key, value] of iterator) yield [key.subarray(1), value]
    } finally {
      await iterator.close()
    }
  }

  /**
   * The `DB` interface @ethereumjs/blockchain and @ethereumjs/mpt expect, over one prefix. With `hexKeys`, string
   * keys are hex (the trie's node keys) and are stored as bytes.
   */
  ethereumjsDB(
    prefix: PrefixByte,
    opts: { hexKeys?: boolean; immutableReadCache?: number } = {},
  ): DB<Uint8Array | string, Uint8Array | string> {
    const hexKeys = opts.hexKeys === true
    // For content-addressed records (trie nodes, code by hash) a key always maps to the same value, so reads can be
    // cached across state roots and never go stale. Least recently used entries are evicted. A cached value may only
    // be staged: rollback() empties the cache, or a dropped trie would still look present (checkRoot, hasStateRoot).
    const cacheSize = opts.immutableReadCache ?? 0
    const cache = new Map<string, Uint8Array>()
    if (cacheSize > 0) this.caches.push(cache)
    // Cache ids are unprefixed lowercase hex: the trie hands its node keys over in that form already.
    const idOf = (key: Uint8Array | string | number): string =>
      typeof key === 'string' && hexKeys
        ? key.startsWith('0x')
          ? key.slice(2)
          : key
        : bytesToHex(encodeKey(key)).slice(2)
    const cachedGet = async (key: Uint8Array | string | number): Promise<Uint8Array | undefined> => {
      if (cacheSize === 0) return this.get(prefix, encodeKey(key))
      const id = idOf(key)
      const hit = cache.get(id)
      // Callers get their own copy: @ethereumjs may work on the bytes it is handed.
      if (hit !== undefined) {
        cache.delete(id)
        cache.set(id, hit)
        return hit.slice()
      }
      const value = await this.get(prefix, encodeKey(key))
      if (value !== undefined) remember(id, value)
      return value
    }
    const remember = (id: string, value: Uint8Array): void => {
      if (cacheSize === 0) return
      cache.set(id, value.slice())
      if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string)
    }
    const put = (key: Uint8Array | string | number, value: Uint8Array): void => {
      this.put(prefix, encodeKey(key), value)
      // Nodes a block writes are the ones the next lookups walk through.
      if (cacheSize > 0) remember(idOf(key), value)
    }
    const del = (key: Uint8Array | string | number): void => {
      this.del(prefix, encodeKey(key))
      if (cacheSize > 0) cache.delete(idOf(key))
    }
    const encodeKey = (key: Uint8Array | string | number): Uint8Array => {
      if (key instanceof Uint8Array) return key
      if (typeof key === 'number') {
        const out = new Uint8Array(8)
        new DataView(out.buffer).setBigUint64(0, BigInt(key))
        return out
      }
      return hexKeys ? hexToBytes(key.startsWith('0x') ? (key as `0x${string}`) : `0x${key}`) : utf8ToBytes(key)
    }
    const encodeValue = (value: unknown, o?: EncodingOpts): Uint8Array => {
      if (value instanceof Uint8Array) return value
      if (o?.valueEncoding === 'json') return utf8ToBytes(JSON.stringify(value))
      return utf8ToBytes(String(value))
    }
    const decodeValue = (value: Uint8Array, o?: EncodingOpts): Uint8Array | string => {
      if (o?.valueEncoding === 'string') return bytesToUtf8(value)
      if (o?.valueEncoding === 'json') return JSON.parse(bytesToUtf8(value))
      return value
    }
    const adapter: DB<Uint8Array | string, Uint8Array | string> = {
      get: async (key, o) => {
        const value = await cachedGet(key)
        return value === undefined ? undefined : decodeValue(value, o)
      },
      put: async (key, value, o) => put(key, encodeValue(value, o)),
      del: async (key) => del(key),
      batch: async (ops: BatchDBOp<Uint8Array | string, Uint8Array | string>[]) => {
        for (const op of ops) {
          if (op.type === 'put') put(op.key, encodeValue(op.value, op.opts))
          else del(op.key)
        }
      },
      shallowCopy: () => adapter,
      open: async () => {},
    }
    return adapter
  }
}

/** classic-level bounds for a range under one prefix: the prefix byte is prepended, and a missing bound is the prefix's. */
function levelBounds(prefix: PrefixByte, range: RangeOptions): { gte: Uint8Array; lt: Uint8Array; limit?: number } {
  const gte = prefixed(prefix, range.gte ?? new Uint8Array(0))
  const lt = range.lt !== undefined ? prefixed(prefix, range.lt) : Uint8Array.of(prefix + 1)
  return range.limit !== undefined ? { gte, lt, limit: range.limit } : { gte, lt }
}
