/**
 * `polis export` / `polis import`: a chain as concatenated RLP blocks (geth's and Besu's export format). QBFT blocks
 * are written sealed (extraData with round and committed seals), so an import checks every seal and executes every
 * block exactly as a block from a peer. A chain of kind 'ethereum' (e.g. Ethereum's test chains) is read as geth
 * writes it: plain blocks, validated and executed by that chain's own rules.
 */

import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createBlockFromRLP } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { Chain, SealedBlock } from '../chain/index.js'
import { decodeSealedBlock, encodeSealedBlock } from '../consensus/qbft/index.js'
import type { Crypto } from '../crypto/index.js'
import type { ChainSpec } from '../genesis/index.js'

export class BlockFileError extends Error {}

/** Largest block accepted from a file (a guard against a corrupt length prefix, not a consensus rule). */
const MAX_BLOCK_BYTES = 64 * 1024 * 1024

export interface Progress {
  blocks: number
  txs: number
  /** The last block number written or imported. */
  number: bigint
  elapsedMs: number
  /** Fraction of the work done, 0..1, when known. */
  done: number | undefined
}

export interface ExportResult {
  blocks: number
  from: bigint
  to: bigint
}

/** Writes blocks `from..to` (default: genesis to head) of `chain` to `file`. */
export async function exportBlocks(
  chain: Chain,
  file: string,
  range: { from?: bigint; to?: bigint },
  onProgress?: (p: Progress) => void,
): Promise<ExportResult> {
  const from = range.from ?? 0n
  const to = range.to ?? chain.head.header.number
  if (from < 0n || to < from) throw new BlockFileError(`empty range ${from}..${to}`)
  if (to > chain.head.header.number) {
    throw new BlockFileError(`block ${to} is beyond the head (${chain.head.header.number})`)
  }
  const out = createWriteStream(file)
  const failed = once(out, 'error').then(([e]) => {
    throw new BlockFileError(`cannot write ${file}: ${(e as Error).message}`)
  })
  failed.catch(() => {})
  const started = performance.now()
  let txs = 0
  for (let n = from; n <= to; n++) {
    const block = await chain.getBlockByNumber(n)
    if (block === undefined) throw new BlockFileError(`block ${n} is missing from the database`)
    let bytes: Uint8Array
    if (n === 0n) bytes = block.serialize()
    else {
      const seals = await chain.getSeals(block.hash())
      if (seals === undefined) throw new BlockFileError(`the seals of block ${n} are missing from the database`)
      bytes = encodeSealedBlock({ block, seals })
    }
    txs += block.transactions.length
    if (!out.write(bytes)) await Promise.race([once(out, 'drain'), failed])
    onProgress?.({
      blocks: Number(n - from + 1n),
      txs,
      number: n,
      elapsedMs: performance.now() - started,
      done: Number(n - from + 1n) / Number(to - from + 1n),
    })
  }
  out.end()
  await Promise.race([once(out, 'finish'), failed])
  return { blocks: Number(to - from + 1n), from, to }
}

/** Byte length of the RLP item starting at `offset`, or undefined when `buffer` does not hold its prefix yet. */
function itemLength(buffer: Uint8Array, offset: number): number | undefined {
  const first = buffer[offset]
  if (first === undefined) return undefined
  if (first < 0xc0) throw new BlockFileError(`byte ${first} at a block boundary: not an RLP list (not a block file?)`)
  if (first <= 0xf7) return 1 + first - 0xc0
  const lengthOfLength = first - 0xf7
  if (offset + 1 + lengthOfLength > buffer.length) return undefined
  let length = 0
  for (let i = 0; i < lengthOfLength; i++) length = length * 256 + buffer[offset + 1 + i]
  if (length > MAX_BLOCK_BYTES) throw new BlockFileError(`a block of ${length} bytes: not a block file?`)
  return 1 + lengthOfLength + length
}

/** The RLP items of a file of concatenated items, read in chunks. */
export async function* readRlpItems(file: string): AsyncGenerator<{ bytes: Uint8Array; end: number }> {
  let buffer = new Uint8Array(0)
  let consumed = 0
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const next = new Uint8Array(buffer.length + chunk.length)
    next.set(buffer)
    next.set(chunk as Buffer, buffer.length)
    buffer = next
    let offset = 0
    for (;;) {
      const length = itemLength(buffer, offset)
      if (length === undefined || offset + length > buffer.length) break
      consumed += length
      yield { bytes: buffer.subarray(offset, offset + length), end: consumed }
      offset += length
    }
    buffer = buffer.slice(offset)
  }
  if (buffer.length > 0) throw new BlockFileError(`the file ends inside a block (${buffer.length} bytes left over)`)
}

export interface ImportResult {
  imported: number
  known: number
  txs: number
  head: bigint
}

/**
 * Imports a block file into `chain` through `importBlock` (seal checks and execution), in order. Blocks the chain
 * already has are skipped; a block that conflicts with it, or fails, stops the import with its number and reason,
 * keeping every block before it.
 */
export async function importBlocks(
  file: string,
  deps: { spec: ChainSpec; chain: Chain; crypto: Crypto; importBlock: (sealed: SealedBlock) => Promise<unknown> },
  onProgress?: (p: Progress) => void,
): Promise<ImportResult> {
  const { chain, spec, crypto } = deps
  let size: number
  try {
    size = (await stat(file)).size
  } catch (e) {
    throw new BlockFileError(`cannot read ${file}: ${(e as Error).message}`)
  }
  const started = performance.now()
  const result: ImportResult = { imported: 0, known: 0, txs: 0, head: chain.head.header.number }
  // Blocks are decoded a few ahead of the one being imported, and their senders recovered meanwhile (on a worker).
  const items = lookahead(decodeBlockItems(file, spec), BLOCK_LOOKAHEAD, (item) => {
    if (item.sealed !== undefined) crypto.recoverSenders(item.sealed.block.transactions).catch(() => {})
  })
  for await (const item of items) {
    if (item.error !== undefined) throw item.error
    const { sealed, header, end } = item
    const number = sealed.block.header.number
    if (number <= chain.head.header.number) {
      // Genesis is compared as written; others by their (seal-free) block hash.
      const hash = number === 0n ? crypto.keccak256(RLP.encode(header)) : sealed.block.hash()
      const ours = number === 0n ? chain.genesis : await chain.getBlockByNumber(number)
      if (ours === undefined || !equalsBytes(ours.hash(), hash)) {
        throw new BlockFileError(
          `block ${number} of the file (${bytesToHex(hash)}) conflicts with this chain's block ${number}` +
            (ours ? ` (${bytesToHex(ours.hash())})` : ''),
        )
      }
      result.known++
      continue
    }
    try {
      await deps.importBlock(sealed)
    } catch (e) {
      throw new BlockFileError(`block ${number}: ${(e as Error).message}`)
    }
    result.imported++
    result.txs += sealed.block.transactions.length
    result.head = number
    onProgress?.({
      blocks: result.imported,
      txs: result.txs,
      number,
      elapsedMs: performance.now() - started,
      done: size > 0 ? end / size : undefined,
    })
  }
  return result
}

/** Blocks decoded ahead of the import: enough to keep the recovery worker busy while a block executes. */
const BLOCK_LOOKAHEAD = 8

interface BlockItem {
  end: number
  header: Uint8Array[]
  sealed: SealedBlock
  error?: undefined
}

/** The file's blocks, decoded; an item that cannot be decoded is passed on as its error, in its place. */
async function* decodeBlockItems(
  file: string,
  spec: ChainSpec,
): AsyncGenerator<BlockItem | { error: BlockFileError; sealed?: undefined }> {
  let index = 0
  const reader = readRlpItems(file)[Symbol.asyncIterator]()
  for (;;) {
    let read: IteratorResult<{ bytes: Uint8Array; end: number }>
    try {
      read = await reader.next()
    } catch (e) {
      // A damaged file ends where it breaks: the blocks before the break are still imported.
      yield { error: e instanceof BlockFileError ? e : new BlockFileError((e as Error).message) }
      return
    }
    if (read.done === true) return
    const { bytes, end } = read.value
    index++
    const header = (RLP.decode(bytes) as unknown as Uint8Array[][])[0]
    if (!Array.isArray(header)) {
      yield { error: new BlockFileError(`item ${index} of the file is not a block`) }
      return
    }
    try {
      const sealed =
        spec.kind === 'ethereum'
          ? { block: createBlockFromRLP(bytes, { common: spec.common, setHardfork: true }) }
          : decodeSealedBlock(bytes, spec.common)
      yield { end, header, sealed }
    } catch (e) {
      yield { error: new BlockFileError(`item ${index} of the file: ${(e as Error).message}`) }
      return
    }
  }
}

/** Reads `depth` items ahead of the consumer, calling `onRead` as each is read. */
async function* lookahead<T>(source: AsyncIterable<T>, depth: number, onRead: (item: T) => void): AsyncGenerator<T> {
  const buffer: T[] = []
  for await (const item of source) {
    onRead(item)
    buffer.push(item)
    if (buffer.length > depth) yield buffer.shift() as T
  }
  yield* buffer
}

/** "12,345 blocks, 67,890 txs, 250 blocks/s, 1,234 tx/s, ETA 0:42" for a progress line. */
export function describeProgress(p: Progress): string {
  const seconds = p.elapsedMs / 1000
  const rate = (n: number) => (seconds > 0 ? Math.round(n / seconds).toLocaleString('en-US') : '-')
  let eta = ''
  if (p.done !== undefined && p.done > 0 && p.done < 1) {
    const left = Math.round((seconds * (1 - p.done)) / p.done)
    eta = `, ETA ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`
  }
  return (
    `block ${p.number}: ${p.blocks.toLocaleString('en-US')} blocks, ${p.txs.toLocaleString('en-US')} txs, ` +
    `${rate(p.blocks)} blocks/s, ${rate(p.txs)} tx/s${eta}`
  )
}
