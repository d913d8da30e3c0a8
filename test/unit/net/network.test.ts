import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../../src/log/index.js'
import { Network, peerIdOfPrivateKey, TOPICS } from '../../../src/net/index.js'
import {
  addressOf,
  chainStatus,
  crypto,
  fullyConnected,
  GENESIS,
  nextEvent,
  nodeKey,
  OTHER_GENESIS,
  portOf,
  sleep,
  startNode,
  stopAll,
  stopNode,
  waitFor,
} from './harness.js'

afterEach(stopAll)

/** Three nodes in a triangle: b and c dial a, c also dials b. */
async function triangle(setup?: (net: Network) => void): Promise<[Network, Network, Network]> {
  const a = await startNode({ key: nodeKey(1), setup })
  const b = await startNode({ key: nodeKey(2), staticPeers: [a.multiaddrs[0]], setup })
  const c = await startNode({ key: nodeKey(3), staticPeers: [a.multiaddrs[0], b.multiaddrs[0]], setup })
  await fullyConnected([a, b, c])
  return [a, b, c]
}

describe('Network: peering', () => {
  it('connects static peers on 127.0.0.1 and maps each peer id to its Ethereum address', async () => {
    const a = await startNode({ key: nodeKey(1) })
    expect(a.multiaddrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/16Uiu2/)
    const b = await startNode({ key: nodeKey(2), staticPeers: [a.multiaddrs[0]] })
    await fullyConnected([a, b])

    const [seenByB] = b.peers()
    expect(seenByB.peerId).toBe(a.peerId)
    expect(seenByB.address).toEqual(addressOf(nodeKey(1)))
    expect(b.addressOfPeer(a.peerId)).toEqual(a.address)
    expect(seenByB.remoteAddr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\//)
    expect(seenByB.direction).toBe('outbound')
    expect(seenByB.status.genesisHash).toEqual(GENESIS)
    const [seenByA] = a.peers()
    expect(seenByA.address).toEqual(addressOf(nodeKey(2)))
    expect(seenByA.direction).toBe('inbound')
    expect(a.stats().statusHandshakes).toBe(1)
    expect(b.stats().statusHandshakes).toBe(1)
  })

  it('disconnects and does not redial a node with another genesis hash', async () => {
    const a = await startNode({ key: nodeKey(1) })
    const rejected = nextEvent(a, 'peer:rejected')
    const d = await startNode({
      key: nodeKey(4),
      status: chainStatus(OTHER_GENESIS),
      staticPeers: [a.multiaddrs[0]],
      redialInitialMs: 50,
    })
    const [rejection] = await nextEvent(d, 'peer:rejected')
    expect(rejection.peerId).toBe(a.peerId)
    expect(rejection.reason).toMatch(/genesis/)
    expect((await rejected)[0].peerId).toBe(d.peerId)
    await waitFor('the connection to close', () => a.libp2p.getConnections().length === 0)
    await sleep(500) // ten redial periods: a banned peer must not be dialled again
    expect(a.peerCount).toBe(0)
    expect(d.peerCount).toBe(0)
    expect(d.stats()).toMatchObject({ dials: 1, statusMismatches: 1, peersBanned: 1 })
    expect(a.stats().statusMismatches).toBe(1)
    expect(a.libp2p.getConnections()).toHaveLength(0)
  })

  it('redials a dropped static peer once it restarts', async () => {
    const key = nodeKey(1)
    const a = await startNode({ key })
    const port = portOf(a)
    const b = await startNode({ key: nodeKey(2), staticPeers: [a.multiaddrs[0]], redialInitialMs: 100 })
    await fullyConnected([a, b])

    const dropped = nextEvent(b, 'peer:disconnected')
    await stopNode(a)
    await dropped
    expect(b.peerCount).toBe(0)
    await sleep(300) // let a few redials fail against the closed port
    const restarted = await startNode({ key, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    const [peer] = await nextEvent(b, 'peer:connected', undefined, 10_000)
    expect(peer.peerId).toBe(restarted.peerId)
    expect(b.stats().dialFailures).toBeGreaterThan(0)
    expect(b.stats().redialsScheduled).toBeGreaterThan(1)
  })

  it('stops redialling when stopped', async () => {
    // Nothing listens on port 9 (discard) on loopback: every dial is refused.
    const ghost = `/ip4/127.0.0.1/tcp/9/p2p/${peerIdOfPrivateKey(nodeKey(9))}`
    const b = await startNode({ key: nodeKey(2), staticPeers: [ghost], redialInitialMs: 20, redialMaxMs: 40 })
    await waitFor('three failed dials', () => b.stats().dialFailures >= 3)
    await stopNode(b)
    const dials = b.stats().dials
    await sleep(200)
    expect(b.stats().dials).toBe(dials)
  })

  it('refuses a static peer without /p2p/<peerId> at create time', async () => {
    await expect(
      Network.create(
        { staticPeers: ['/ip4/127.0.0.1/tcp/30303'] },
        { privateKey: nodeKey(1), crypto, log: createLogger('silent'), status: () => chainStatus() },
      ),
    ).rejects.toMatchObject({ code: 'INVALID_MULTIADDR' })
  })

  it('refreshes a peer head through a status request', async () => {
    const statusOfA = chainStatus()
    const a = await startNode({ key: nodeKey(1), status: statusOfA })
    const b = await startNode({ key: nodeKey(2), staticPeers: [a.multiaddrs[0]] })
    await fullyConnected([a, b])
    expect(b.peer(a.peerId)?.status.head.number).toBe(0n)
    statusOfA.head = chainStatus(GENESIS, 7n).head
    const status = await b.requestStatus(a.peerId)
    expect(status.head.number).toBe(7n)
    expect(b.peer(a.peerId)?.status.head.number).toBe(7n)
  })
})

describe('Network: gossip', () => {
  it('delivers each payload on every topic to every other node exactly once', async () => {
    const received = new Map<string, string[]>()
    const setup = (net: Network) => {
      for (const topic of Object.values(TOPICS)) {
        net.subscribe(topic, (data, from) => {
          expect(net.peers().some((p) => p.peerId === from)).toBe(true)
          const key = `${net.peerId} ${topic}`
          received.set(key, [...(received.get(key) ?? []), new TextDecoder().decode(data)])
        })
      }
    }
    const nets = await triangle(setup)
    for (const net of nets) {
      for (const topic of Object.values(TOPICS)) {
        await waitFor(`${topic} subscribers`, () => net.topicPeers(topic).length === 2)
      }
    }
    for (const [index, sender] of nets.entries()) {
      for (const topic of Object.values(TOPICS)) {
        const payload = `${topic} from node ${index}`
        expect(await sender.publish(topic, new TextEncoder().encode(payload))).toBe(2)
        const others = nets.filter((n) => n !== sender)
        await waitFor(`${payload} delivered`, () =>
          others.every((n) => received.get(`${n.peerId} ${topic}`)?.includes(payload)),
        )
        // The same payload again is a duplicate: not sent, not delivered.
        expect(await sender.publish(topic, new TextEncoder().encode(payload))).toBe(0)
      }
    }
    await sleep(1_500) // past a gossipsub heartbeat, so relayed copies would have arrived
    for (const net of nets) {
      for (const topic of Object.values(TOPICS)) {
        const got = received.get(`${net.peerId} ${topic}`) ?? []
        expect(got).toHaveLength(2)
        expect(new Set(got).size).toBe(2)
      }
      expect(net.stats().gossipReceived).toBe(6)
    }
  })

  it('relays through a node in the middle', async () => {
    const got: string[] = []
    const a = await startNode({ key: nodeKey(1), setup: (n) => void n.subscribe(TOPICS.block, () => {}) })
    const b = await startNode({
      key: nodeKey(2),
      staticPeers: [a.multiaddrs[0]],
      setup: (n) => void n.subscribe(TOPICS.block, () => {}),
    })
    const c = await startNode({
      key: nodeKey(3),
      staticPeers: [a.multiaddrs[0]],
      setup: (n) => void n.subscribe(TOPICS.block, (data) => void got.push(new TextDecoder().decode(data))),
    })
    await fullyConnected([a, b, c], 1)
    await waitFor('a to see both subscribers', () => a.topicPeers(TOPICS.block).length === 2)
    // a forwards only to its mesh, which gossipsub builds on its 1 s heartbeat.
    await sleep(1_500)
    await b.publish(TOPICS.block, new TextEncoder().encode('block 1'))
    await waitFor('c to receive the block through a', () => got.length === 1)
    expect(got).toEqual(['block 1'])
  })

  it('accepts gossip from a newcomer after 16 peers from the same IP came and went (no IP colocation penalty)', async () => {
    const got: string[] = []
    const a = await startNode({
      key: nodeKey(1),
      setup: (n) => void n.subscribe(TOPICS.txs, (d) => void got.push(new TextDecoder().decode(d))),
    })
    for (let i = 0; i < 16; i++) {
      const passing = await startNode({
        key: nodeKey(100 + i),
        staticPeers: [a.multiaddrs[0]],
        setup: (n) => void n.subscribe(TOPICS.txs, () => {}),
      })
      await fullyConnected([a, passing], 1)
      await stopNode(passing)
    }
    const newcomer = await startNode({
      key: nodeKey(2),
      staticPeers: [a.multiaddrs[0]],
      setup: (n) => void n.subscribe(TOPICS.txs, () => {}),
    })
    await waitFor('a to see the newcomer subscribed', () => a.topicPeers(TOPICS.txs).includes(newcomer.peerId))
    await waitFor('the newcomer to see a subscribed', () => newcomer.topicPeers(TOPICS.txs).includes(a.peerId))
    // Under load the newcomer's first publish may precede its view of a's subscription: a few distinct tries.
    for (let attempt = 0; attempt < 5 && got.length === 0; attempt++) {
      await newcomer.publish(TOPICS.txs, new TextEncoder().encode(`tx from newcomer ${attempt}`))
      await waitFor('a to receive it', () => got.length > 0, 2_000).catch(() => {})
    }
    expect(got.length).toBeGreaterThan(0)
    expect(got[0]).toMatch(/^tx from newcomer \d$/)
  })

  it('publishes with no peers without throwing', async () => {
    const a = await startNode({ key: nodeKey(1) })
    expect(await a.publish(TOPICS.txs, new Uint8Array([1, 2, 3]))).toBe(0)
  })

  it('drops and counts oversized gossip, survives a failing handler, and refuses to publish oversized', async () => {
    const got: number[] = []
    const a = await startNode({
      key: nodeKey(1),
      maxMessageSize: 1 << 20,
      setup: (n) => void n.subscribe(TOPICS.txs, () => {}),
    })
    const b = await startNode({
      key: nodeKey(2),
      maxMessageSize: 1024,
      staticPeers: [a.multiaddrs[0]],
      setup: (n) => {
        n.subscribe(TOPICS.txs, () => {
          throw new Error('handler bug')
        })
        n.subscribe(TOPICS.txs, async () => Promise.reject(new Error('async handler bug')))
        n.subscribe(TOPICS.txs, (data) => void got.push(data.length))
      },
    })
    await fullyConnected([a, b])
    await waitFor('a to see b subscribed', () => a.topicPeers(TOPICS.txs).length === 1)
    // Under load a's first publish may precede b's mesh/subscription view settling: a few distinct tries.
    for (let attempt = 0; attempt < 5 && b.stats().gossipOversized === 0; attempt++) {
      await a.publish(TOPICS.txs, new Uint8Array(2048).fill(1 + attempt))
      await waitFor('b to drop the oversized message', () => b.stats().gossipOversized > 0, 2_000).catch(() => {})
    }
    expect(b.stats().gossipOversized).toBeGreaterThan(0)
    expect(got).toEqual([])
    for (let attempt = 0; attempt < 5 && got.length === 0; attempt++) {
      await a.publish(TOPICS.txs, new Uint8Array(100).fill(10 + attempt))
      await waitFor('b to receive the small message', () => got.length > 0, 2_000).catch(() => {})
    }
    expect(got.length).toBeGreaterThan(0)
    expect(got.every((n) => n === 100)).toBe(true)
    await waitFor('both handler failures to be counted', () => b.stats().gossipHandlerErrors === 2 * got.length)
    expect(b.peerCount).toBe(1)
    await expect(b.publish(TOPICS.txs, new Uint8Array(2048))).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' })
  })
})
