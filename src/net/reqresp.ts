import type { Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { plainBytes } from './bytes.js'
import { NetworkError } from './errors.js'
import type { NetworkStats } from './stats.js'

/** Serves one request: bytes in, bytes out. A thrown error reaches the requester as `REMOTE_ERROR`. */
export type RequestHandler = (request: Uint8Array, peerId: string) => Promise<Uint8Array>

export interface RequestOptions {
  timeoutMs?: number
  /** Largest response accepted, default the network's `maxMessageSize`. */
  maxResponseSize?: number
}

// A response frame is `[result, ...payload]`: the payload, or a short UTF-8 reason when the handler failed.
const RESULT_OK = 0
const RESULT_ERROR = 1
const MAX_ERROR_MESSAGE = 256
// Room for the varint length prefix and the result byte above the payload limit.
const FRAME_OVERHEAD = 16

interface ReqRespOptions {
  maxMessageSize: number
  requestTimeoutMs: number
}

type Host = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>

/** Length-prefixed single request/response exchanges on `/polis/<name>/1` streams, with timeouts and size limits. */
export class ReqResp {
  private readonly protocols = new Set<string>()

  constructor(
    private readonly host: Host,
    private readonly opts: ReqRespOptions,
    private readonly stats: NetworkStats,
  ) {}

  async handle(protocol: string, handler: RequestHandler): Promise<void> {
    await this.host.handle(protocol, (stream, connection) =>
      this.serve(stream, connection.remotePeer.toString(), handler),
    )
    this.protocols.add(protocol)
  }

  async unhandleAll(): Promise<void> {
    await this.host.unhandle([...this.protocols]).catch(() => {})
    this.protocols.clear()
  }

  async request(peerId: string, protocol: string, data: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    if (data.length > this.opts.maxMessageSize) {
      throw new NetworkError('MESSAGE_TOO_LARGE', { protocol, size: data.length, limit: this.opts.maxMessageSize })
    }
    const timeoutMs = options.timeoutMs ?? this.opts.requestTimeoutMs
    const maxResponseSize = options.maxResponseSize ?? this.opts.maxMessageSize
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), timeoutMs)
    const signal = controller.signal
    this.stats.requestsSent++
    let stream: Stream | undefined
    try {
      stream = await this.host.dialProtocol(peerIdFromString(peerId), protocol, { signal })
      const lp = this.framed(stream, maxResponseSize + 1)
      await lp.write(data, { signal })
      await stream.close({ signal })
      const frame = plainBytes((await lp.read({ signal })).subarray())
      if (frame.length === 0 || frame[0] > RESULT_ERROR) {
        this.stats.malformedFrames++
        throw new NetworkError('REQUEST_FAILED', { peerId, protocol, reason: 'malformed response frame' })
      }
      if (frame[0] === RESULT_ERROR) {
        const reason = new TextDecoder().decode(frame.subarray(1))
        throw new NetworkError('REMOTE_ERROR', { peerId, protocol, reason })
      }
      return frame.subarray(1)
    } catch (err) {
      stream?.abort(err as Error)
      if (signal.aborted) {
        this.stats.requestTimeouts++
        throw new NetworkError('REQUEST_TIMEOUT', { peerId, protocol, timeoutMs })
      }
      this.stats.requestsFailed++
      if (err instanceof NetworkError) throw err
      this.countFrameError(err, false)
      throw new NetworkError('REQUEST_FAILED', { peerId, protocol, reason: (err as Error).message })
    } finally {
      clearTimeout(timer)
    }
  }

  private async serve(stream: Stream, peerId: string, handler: RequestHandler): Promise<void> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), this.opts.requestTimeoutMs)
    const signal = controller.signal
    try {
      const lp = this.framed(stream, this.opts.maxMessageSize)
      let request: Uint8Array
      try {
        request = plainBytes((await lp.read({ signal })).subarray())
      } catch (err) {
        if (signal.aborted) this.stats.requestTimeouts++
        else this.countFrameError(err, true)
        stream.abort(err as Error)
        return
      }
      let response: Uint8Array
      try {
        const payload = await handler(request, peerId)
        if (payload.length > this.opts.maxMessageSize) {
          throw new NetworkError('MESSAGE_TOO_LARGE', { size: payload.length, limit: this.opts.maxMessageSize })
        }
        response = prefixed(RESULT_OK, payload)
      } catch (err) {
        this.stats.requestHandlerErrors++
        const reason = new TextEncoder().encode(String((err as Error)?.message ?? err).slice(0, MAX_ERROR_MESSAGE))
        response = prefixed(RESULT_ERROR, reason)
      }
      await lp.write(response, { signal })
      await stream.close({ signal })
      this.stats.requestsServed++
    } catch (err) {
      if (signal.aborted) this.stats.requestTimeouts++
      stream.abort(err as Error)
    } finally {
      clearTimeout(timer)
    }
  }

  private framed(stream: Stream, maxDataLength: number) {
    const bufferLimit = maxDataLength + FRAME_OVERHEAD
    if (stream.maxReadBufferLength < bufferLimit) stream.maxReadBufferLength = bufferLimit
    return lpStream(stream, { maxDataLength, maxBufferSize: bufferLimit })
  }

  /** `serving`: an early end of a request is the requester's fault; of a response, often a peer going away. */
  private countFrameError(err: unknown, serving: boolean): void {
    const name = (err as Error)?.name
    if (name === 'InvalidDataLengthError' || name === 'StreamBufferError') this.stats.oversizedFrames++
    else if (name === 'InvalidMessageLengthError' || name === 'InvalidDataLengthLengthError') {
      this.stats.malformedFrames++
    } else if (name === 'UnexpectedEOFError' && serving) this.stats.malformedFrames++
  }
}

function prefixed(result: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1)
  out[0] = result
  out.set(payload, 1)
  return out
}
