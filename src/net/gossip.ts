import { type GossipSub, type GossipsubMessage, TopicValidatorResult } from '@libp2p/gossipsub'
import type { Logger } from '../log/index.js'
import { plainBytes } from './bytes.js'
import { NetworkError } from './errors.js'
import type { NetworkStats } from './stats.js'

/** Receives one gossip payload; `fromPeerId` is the neighbour that delivered it (messages are unsigned). */
export type GossipHandler = (data: Uint8Array, fromPeerId: string) => void | Promise<void>

interface GossipOptions {
  maxMessageSize: number
}

/** Gossip messages of one topic since start. */
export interface TopicCounts {
  received: number
  published: number
  /** Refused by validation: oversized, or from a banned peer. */
  dropped: number
}

/** Topic subscriptions over gossipsub: size limit on receive, handler isolation, counters. */
export class Gossip {
  private readonly handlers = new Map<string, GossipHandler[]>()
  private readonly perTopic = new Map<string, TopicCounts>()
  // gossipsub refuses (un)subscriptions while stopped; topics subscribed early are joined on start.
  private started = false

  constructor(
    private readonly pubsub: GossipSub,
    private readonly opts: GossipOptions,
    private readonly stats: NetworkStats,
    private readonly log: Logger,
    private readonly isBanned: (peerId: string) => boolean,
  ) {
    this.pubsub.addEventListener('gossipsub:message', (event) => this.deliver(event.detail))
  }

  subscribe(topic: string, handler: GossipHandler): () => void {
    let list = this.handlers.get(topic)
    if (list === undefined) {
      list = []
      this.handlers.set(topic, list)
      this.pubsub.topicValidators.set(topic, (peer, message) => this.validate(topic, peer.toString(), message.data))
      if (this.started) this.pubsub.subscribe(topic)
    }
    list.push(handler)
    return () => {
      const current = this.handlers.get(topic)
      if (current === undefined) return
      const remaining = current.filter((h) => h !== handler)
      if (remaining.length > 0) {
        this.handlers.set(topic, remaining)
        return
      }
      this.handlers.delete(topic)
      this.pubsub.topicValidators.delete(topic)
      if (this.started) this.pubsub.unsubscribe(topic)
    }
  }

  /** Joins every topic subscribed so far; called once libp2p (and so gossipsub) has started. */
  start(): void {
    this.started = true
    for (const topic of this.handlers.keys()) this.pubsub.subscribe(topic)
  }

  stop(): void {
    this.started = false
  }

  /** Sends `data` to the topic's peers; returns how many it was sent to (0 with no peers or a duplicate). */
  async publish(topic: string, data: Uint8Array): Promise<number> {
    if (!this.started) throw new NetworkError('NOT_STARTED', { topic })
    if (data.length > this.opts.maxMessageSize) {
      throw new NetworkError('MESSAGE_TOO_LARGE', { topic, size: data.length, limit: this.opts.maxMessageSize })
    }
    const { recipients } = await this.pubsub.publish(topic, data)
    this.stats.gossipPublished++
    this.counts(topic).published++
    return recipients.length
  }

  /** Messages per topic (topics this node subscribed to or published on). */
  topicCounts(): ReadonlyMap<string, TopicCounts> {
    return new Map([...this.perTopic].map(([topic, counts]) => [topic, { ...counts }]))
  }

  private counts(topic: string): TopicCounts {
    let counts = this.perTopic.get(topic)
    if (counts === undefined) {
      counts = { received: 0, published: 0, dropped: 0 }
      this.perTopic.set(topic, counts)
    }
    return counts
  }

  /** Peers known to be subscribed to `topic`. */
  topicPeers(topic: string): string[] {
    return this.pubsub.getSubscribers(topic).map((p) => p.toString())
  }

  private validate(topic: string, peerId: string, data: Uint8Array): TopicValidatorResult {
    if (data.length > this.opts.maxMessageSize) {
      this.stats.gossipOversized++
      this.counts(topic).dropped++
      this.log.debug({ topic, peerId, size: data.length }, 'dropped oversized gossip')
      // Reject (not Ignore): the sender broke the limit, so gossipsub's score holds it against that peer.
      return TopicValidatorResult.Reject
    }
    if (this.isBanned(peerId)) {
      this.stats.gossipIgnored++
      this.counts(topic).dropped++
      return TopicValidatorResult.Ignore
    }
    return TopicValidatorResult.Accept
  }

  private deliver({ propagationSource, msg }: GossipsubMessage): void {
    const handlers = this.handlers.get(msg.topic)
    if (handlers === undefined) return
    this.stats.gossipReceived++
    this.counts(msg.topic).received++
    const from = propagationSource.toString()
    const data = plainBytes(msg.data)
    for (const handler of handlers) {
      try {
        const result = handler(data, from)
        if (result instanceof Promise) result.catch((err) => this.handlerFailed(msg.topic, from, err))
      } catch (err) {
        this.handlerFailed(msg.topic, from, err)
      }
    }
  }

  private handlerFailed(topic: string, peerId: string, err: unknown): void {
    this.stats.gossipHandlerErrors++
    this.log.warn({ topic, peerId, err }, 'gossip handler failed')
  }
}
