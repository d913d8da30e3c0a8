import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../log/index.js'
import { peerIdOfMultiaddr } from './identity.js'
import { backoffDelay } from './options.js'
import type { NetworkStats } from './stats.js'

interface DialTarget {
  peerId: string
  addr: Multiaddr
  /** Static peers are kept: redialled whenever they drop. Bootnodes only until the first handshake. */
  keep: boolean
  attempts: number
  timer?: NodeJS.Timeout
}

interface DialerOptions {
  redialInitialMs: number
  redialMaxMs: number
  dialTimeoutMs: number
}

type Host = Pick<Libp2p, 'dial' | 'getConnections'>

/** Dials static peers and bootnodes, and redials static peers with capped exponential backoff. */
export class Dialer {
  private readonly targets = new Map<string, DialTarget>()
  private abort = new AbortController()
  private running = false

  constructor(
    private readonly host: Host,
    private readonly opts: DialerOptions,
    private readonly stats: NetworkStats,
    private readonly log: Logger,
    /** Epoch ms until which a peer is banned, or undefined. */
    private readonly bannedUntil: (peerId: string) => number | undefined,
  ) {}

  /**
   * Parses the multiaddrs up front so that a typo fails at start, not on the first redial. With `now` (a peer added
   * while running) each is dialled at once.
   */
  add(addrs: string[], keep: boolean, now = false): void {
    for (const addr of addrs) {
      const peerId = peerIdOfMultiaddr(addr)
      const existing = this.targets.get(peerId)
      if (existing !== undefined) {
        existing.keep ||= keep
        if (now) {
          existing.attempts = 0
          clearTimeout(existing.timer)
          existing.timer = undefined
          void this.dial(existing)
        }
        continue
      }
      const target: DialTarget = { peerId, addr: multiaddr(addr), keep, attempts: 0 }
      this.targets.set(peerId, target)
      if (now) void this.dial(target)
    }
  }

  /** No longer dials or redials `peerId`. */
  remove(peerId: string): void {
    const target = this.targets.get(peerId)
    if (target === undefined) return
    clearTimeout(target.timer)
    this.targets.delete(peerId)
  }

  isStatic(peerId: string): boolean {
    return this.targets.get(peerId)?.keep === true
  }

  start(): void {
    this.running = true
    this.abort = new AbortController()
    for (const target of this.targets.values()) void this.dial(target)
  }

  stop(): void {
    this.running = false
    this.abort.abort()
    for (const target of this.targets.values()) {
      clearTimeout(target.timer)
      target.timer = undefined
    }
  }

  /** The peer passed the status handshake: its backoff starts over; a bootnode has done its job. */
  onConnected(peerId: string): void {
    const target = this.targets.get(peerId)
    if (target === undefined) return
    target.attempts = 0
    clearTimeout(target.timer)
    target.timer = undefined
    if (!target.keep) this.targets.delete(peerId)
  }

  onDisconnected(peerId: string): void {
    const target = this.targets.get(peerId)
    if (target?.keep) this.schedule(target)
  }

  private schedule(target: DialTarget): void {
    if (!this.running || target.timer !== undefined) return
    let delay = backoffDelay(target.attempts, this.opts.redialInitialMs, this.opts.redialMaxMs)
    const banned = this.bannedUntil(target.peerId)
    if (banned !== undefined) delay = Math.max(delay, banned - Date.now())
    target.attempts++
    this.stats.redialsScheduled++
    this.log.debug({ peerId: target.peerId, delayMs: delay, attempt: target.attempts }, 'redial scheduled')
    target.timer = setTimeout(() => {
      target.timer = undefined
      void this.dial(target)
    }, delay)
    target.timer.unref()
  }

  private async dial(target: DialTarget): Promise<void> {
    if (!this.running || this.targets.get(target.peerId) !== target) return
    if (this.host.getConnections(peerIdFromString(target.peerId)).length > 0) return
    if (this.bannedUntil(target.peerId) !== undefined) {
      this.schedule(target)
      return
    }
    this.stats.dials++
    try {
      const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.opts.dialTimeoutMs)])
      await this.host.dial(target.addr, { signal })
    } catch (err) {
      if (!this.running) return
      this.stats.dialFailures++
      this.log.debug(
        { peerId: target.peerId, addr: target.addr.toString(), err: (err as Error).message },
        'dial failed',
      )
      // Bootnodes, too, are retried until they have answered once.
      this.schedule(target)
    }
  }
}
