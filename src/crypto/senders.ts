/**
 * Transaction sender recovery off the event loop: the signatures of a batch of transactions (a block, a JSON-RPC batch
 * of raw transactions) go to a worker thread running libsecp256k1 in one message, and the recovered public keys come
 * back into each transaction's own cache, where @ethereumjs/tx's `getSenderPublicKey()` finds them. The node then
 * executes one block while the next block's senders are being recovered on the other core.
 *
 * Nothing is decided in the worker: a signature it cannot recover is left alone, and the transaction's own
 * `getSenderPublicKey()` recovers it again on first use and reports the error as before.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import {
  AccessList2930Tx,
  Blob4844Tx,
  Capability,
  EOACode7702Tx,
  FeeMarket1559Tx,
  LegacyTx,
  type TypedTransaction,
} from '@ethereumjs/tx'
import { Address, bigIntToBytes } from '@ethereumjs/util'

/** Recovers and caches the senders of transactions; resolves once every one recoverable has its key cached. */
export type RecoverSenders = (txs: readonly TypedTransaction[]) => Promise<void>

/** Per transaction in a request: message hash (32), r‖s (64), recovery id (1). */
const REQUEST_STRIDE = 97
/** Per transaction in a reply: 1 when recovered, then the 64-byte public key. */
const REPLY_STRIDE = 65
/** Below this many transactions a worker round trip costs more than recovering on the event loop. */
const MIN_WORKER_BATCH = 4
/** secp256k1's n / 2: a signature with a higher s is refused (EIP-2), by the transaction itself. */
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

// Runs in the worker (CommonJS, evaluated): recovers each entry with the native addon whose path it is given.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const secp = require(workerData.bindings)
parentPort.on('message', ({ id, count, input }) => {
  const request = new Uint8Array(input)
  const reply = new Uint8Array(count * ${REPLY_STRIDE})
  for (let i = 0; i < count; i++) {
    const at = i * ${REQUEST_STRIDE}
    try {
      const key = secp.ecdsaRecover(request.subarray(at + 32, at + 96), request[at + 96], request.subarray(at, at + 32), false)
      reply[i * ${REPLY_STRIDE}] = 1
      reply.set(key.subarray(1), i * ${REPLY_STRIDE} + 1)
    } catch {}
  }
  parentPort.postMessage({ id, reply: reply.buffer }, [reply.buffer])
})
`

interface TxCache {
  senderPubKey?: Uint8Array
  /** Set by the memo below: the address of `senderAddressOf`. */
  senderAddress?: Uint8Array
  senderAddressOf?: Uint8Array
}

function cacheOf(tx: TypedTransaction): TxCache {
  return (tx as unknown as { cache: TxCache }).cache
}

function recoveryId(tx: TypedTransaction): number | undefined {
  const v = tx.v
  if (v === undefined) return undefined
  if (v === 0n || v === 1n) return Number(v)
  if (v === 27n || v === 28n) return Number(v - 27n)
  if (!tx.supports(Capability.EIP155ReplayProtection)) return undefined
  const id = v - (tx.common.chainId() * 2n + 35n)
  return id === 0n || id === 1n ? Number(id) : undefined
}

/** The request entry of a transaction whose sender is not known yet, or undefined when the worker cannot help. */
function requestEntry(tx: TypedTransaction): { hash: Uint8Array; r: bigint; s: bigint; recid: number } | undefined {
  // @ethereumjs/tx only caches on frozen transactions (the default); an unfrozen one recovers every time anyway.
  if (!Object.isFrozen(tx) || cacheOf(tx).senderPubKey !== undefined || !tx.isSigned()) return undefined
  const { r, s } = tx
  const recid = recoveryId(tx)
  if (r === undefined || s === undefined || recid === undefined || s > HALF_N) return undefined
  if (r >= 1n << 256n || s >= 1n << 256n) return undefined
  try {
    return { hash: tx.getMessageToVerifySignature(), r, s, recid }
  } catch {
    return undefined
  }
}

function put32(target: Uint8Array, offset: number, value: bigint): void {
  const bytes = bigIntToBytes(value)
  target.set(bytes, offset + 32 - bytes.length)
}

class WorkerRecovery {
  private worker: Worker | undefined
  private failed = false
  private nextId = 0
  private readonly waiting = new Map<number, (reply: ArrayBuffer | undefined) => void>()
  private readonly inFlight = new WeakMap<TypedTransaction, Promise<void>>()

  constructor(private readonly bindingsPath: string) {}

  readonly recover: RecoverSenders = async (txs) => {
    const pending: Promise<void>[] = []
    const batch: TypedTransaction[] = []
    const entries: NonNullable<ReturnType<typeof requestEntry>>[] = []
    for (const tx of txs) {
      const running = this.inFlight.get(tx)
      if (running !== undefined) {
        pending.push(running)
        continue
      }
      const entry = requestEntry(tx)
      if (entry === undefined) continue
      batch.push(tx)
      entries.push(entry)
    }
    if (batch.length > 0) {
      const worker = batch.length >= MIN_WORKER_BATCH ? this.started() : undefined
      if (worker === undefined) {
        for (const tx of batch) recoverHere(tx)
      } else {
        const done = this.send(worker, batch, entries)
        for (const tx of batch) this.inFlight.set(tx, done)
        pending.push(done)
      }
    }
    if (pending.length > 0) await Promise.all(pending)
  }

  private started(): Worker | undefined {
    if (this.worker !== undefined || this.failed) return this.worker
    try {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bindings: this.bindingsPath } })
      worker.on('message', ({ id, reply }: { id: number; reply: ArrayBuffer }) => this.answer(id, reply))
      worker.on('error', () => this.stop())
      worker.on('exit', () => this.stop())
      // Kept alive only while a request waits (after the listeners: attaching a message listener refs it again).
      worker.unref()
      this.worker = worker
    } catch {
      this.failed = true
    }
    return this.worker
  }

  /** After a worker failure: every waiting request resolves unanswered (its txs recover on first use), no new worker. */
  private stop(): void {
    this.failed = true
    this.worker = undefined
    for (const [id, resolve] of this.waiting) {
      this.waiting.delete(id)
      resolve(undefined)
    }
  }

  private answer(id: number, reply: ArrayBuffer): void {
    const resolve = this.waiting.get(id)
    this.waiting.delete(id)
    if (this.waiting.size === 0) this.worker?.unref()
    resolve?.(reply)
  }

  private async send(
    worker: Worker,
    batch: TypedTransaction[],
    entries: NonNullable<ReturnType<typeof requestEntry>>[],
  ): Promise<void> {
    const input = new Uint8Array(batch.length * REQUEST_STRIDE)
    entries.forEach((entry, i) => {
      const at = i * REQUEST_STRIDE
      input.set(entry.hash, at)
      put32(input, at + 32, entry.r)
      put32(input, at + 64, entry.s)
      input[at + 96] = entry.recid
    })
    const id = this.nextId++
    if (this.waiting.size === 0) worker.ref()
    const answered = new Promise<ArrayBuffer | undefined>((resolve) => this.waiting.set(id, resolve))
    worker.postMessage({ id, count: batch.length, input: input.buffer }, [input.buffer])
    const reply = await answered
    if (reply === undefined) return
    const keys = new Uint8Array(reply)
    batch.forEach((tx, i) => {
      const at = i * REPLY_STRIDE
      const cache = cacheOf(tx)
      if (keys[at] === 1 && cache.senderPubKey === undefined) cache.senderPubKey = keys.slice(at + 1, at + REPLY_STRIDE)
    })
  }
}

/** Recovers on the event loop through the transaction itself (cached by @ethereumjs/tx); errors surface on later use. */
function recoverHere(tx: TypedTransaction): void {
  try {
    tx.getSenderPublicKey()
  } catch {
    // Reported by whoever asks for the sender.
  }
}

/**
 * A sender recovery for the node: on a worker thread when the native libsecp256k1 addon loads (a worker on the pure-JS
 * curve would be as slow as the event loop is), otherwise on the event loop.
 */
export function createSenderRecovery(native: boolean): RecoverSenders {
  if (native && process.env.POLIS_RECOVERY_WORKER !== '0') {
    try {
      const bindings = createRequire(import.meta.url).resolve('secp256k1/bindings')
      return new WorkerRecovery(bindings).recover
    } catch {
      // Fall through to recovery on the event loop.
    }
  }
  return async (txs) => {
    for (const tx of txs) recoverHere(tx)
  }
}

let memoInstalled = false

/**
 * @ethereumjs/tx caches a frozen transaction's sender public key but not its address: every `getSenderAddress()`
 * (admission, execution, the indexes, RPC answers: four or more per transaction) hashes the key again with the
 * pure-JS keccak. The address is remembered next to the key it was derived from, in the transaction's own cache;
 * the result is the same address, only the repeated hashing goes.
 */
export function installSenderAddressMemo(keccak256: (data: Uint8Array) => Uint8Array): void {
  if (memoInstalled) return
  memoInstalled = true
  for (const type of [LegacyTx, AccessList2930Tx, FeeMarket1559Tx, Blob4844Tx, EOACode7702Tx]) {
    const prototype = type.prototype as unknown as { getSenderAddress(this: TypedTransaction): Address }
    prototype.getSenderAddress = function (this: TypedTransaction): Address {
      const publicKey = this.getSenderPublicKey()
      const cache = cacheOf(this)
      if (cache.senderAddress !== undefined && cache.senderAddressOf === publicKey)
        return new Address(cache.senderAddress)
      if (publicKey.length !== 64) throw new Error('Expected pubKey to be of length 64')
      const address = keccak256(publicKey).slice(12)
      // Only frozen transactions keep their key cached (their fields cannot change under it).
      if (Object.isFrozen(this)) {
        cache.senderAddress = address
        cache.senderAddressOf = publicKey
      }
      return new Address(address)
    }
  }
}
