import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { type Network, protocolId } from '../../../src/net/index.js'
import { fullyConnected, nodeKey, sleep, startNode, stopAll, waitFor } from './harness.js'

afterEach(stopAll)

const ECHO = protocolId('echo')
const SLOW = protocolId('slow')
const FAILING = protocolId('failing')

/** a serves echo (reversed bytes), a slow handler and a failing one; b is connected to a. */
async function pair(maxMessageSizeOfA = 1 << 20): Promise<[Network, Network]> {
  const a = await startNode({
    key: nodeKey(1),
    maxMessageSize: maxMessageSizeOfA,
    requestTimeoutMs: 500,
    setup: async (net) => {
      await net.handle(ECHO, async (request) => request.slice().reverse())
      await net.handle(SLOW, () => sleep(2_000).then(() => new Uint8Array([1])))
      await net.handle(FAILING, async () => {
        throw new Error('no such block')
      })
    },
  })
  const b = await startNode({ key: nodeKey(2), staticPeers: [a.multiaddrs[0]] })
  await fullyConnected([a, b])
  return [a, b]
}

describe('Network: request/response', () => {
  it('answers a request on a /polis/<name>/1 protocol', async () => {
    const [a, b] = await pair()
    const response = await b.request(a.peerId, ECHO, new Uint8Array([1, 2, 3]))
    expect(response).toEqual(new Uint8Array([3, 2, 1]))
    const empty = await b.request(a.peerId, ECHO, new Uint8Array())
    expect(empty).toEqual(new Uint8Array())
    const big = new Uint8Array(512 * 1024).map((_, i) => i % 251)
    const bigResponse = await b.request(a.peerId, ECHO, big)
    expect(Buffer.from(bigResponse).equals(Buffer.from(big.slice().reverse()))).toBe(true)
    for (let i = 0; i < 20; i++) {
      expect(await b.request(a.peerId, ECHO, new Uint8Array([i, 0]))).toEqual(new Uint8Array([0, i]))
    }
    expect(a.stats().requestsServed).toBe(23 + 1) // + the status request
  })

  it('times out a request that is not answered in time', async () => {
    const [a, b] = await pair()
    const started = Date.now()
    await expect(b.request(a.peerId, SLOW, new Uint8Array([0]), { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'REQUEST_TIMEOUT',
    })
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(b.stats().requestTimeouts).toBe(1)
    // The connection survives, and the next request works.
    expect(await b.request(a.peerId, ECHO, new Uint8Array([9, 8]))).toEqual(new Uint8Array([8, 9]))
  })

  it("reports the remote handler's failure as REMOTE_ERROR", async () => {
    const [a, b] = await pair()
    await expect(b.request(a.peerId, FAILING, new Uint8Array())).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      details: expect.objectContaining({ reason: 'no such block' }),
    })
    expect(a.stats().requestHandlerErrors).toBe(1)
  })

  it('refuses oversized requests on both sides without dropping the peer', async () => {
    const [a, b] = await pair(1024)
    await expect(b.request(a.peerId, ECHO, new Uint8Array(4096))).rejects.toMatchObject({ code: 'REQUEST_FAILED' })
    await waitFor('a to count the oversized frame', () => a.stats().oversizedFrames === 1)
    await expect(a.request(b.peerId, ECHO, new Uint8Array(4096))).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' })
    expect(await b.request(a.peerId, ECHO, new Uint8Array([1, 2]))).toEqual(new Uint8Array([2, 1]))
    expect(b.peerCount).toBe(1)
  })

  it('survives malformed and truncated frames and a silent requester', async () => {
    const [a, b] = await pair()
    const peerOfA = b.libp2p.getConnections()[0].remotePeer
    // A varint length prefix longer than any allowed length.
    const garbage = await b.libp2p.dialProtocol(peerOfA, ECHO)
    garbage.send(new Uint8Array(12).fill(0xff))
    await garbage.close()
    await waitFor('a to count the malformed frame', () => a.stats().malformedFrames === 1)
    // A frame announcing 100 bytes that ends after 3.
    const truncated = await b.libp2p.dialProtocol(peerOfA, ECHO)
    truncated.send(new Uint8Array([100, 1, 2, 3]))
    await truncated.close()
    await waitFor('a to count the truncated frame', () => a.stats().malformedFrames === 2)
    // A requester that opens a stream and never writes is cut off after requestTimeoutMs (500 ms on a).
    const silent = await b.libp2p.dialProtocol(peerOfA, ECHO)
    await waitFor('a to time the silent stream out', () => a.stats().requestTimeouts === 1, 3_000)
    silent.abort(new Error('test done'))
    // A well-formed frame sent by hand gets a well-formed answer: [result 0, ...payload].
    const manual = await b.libp2p.dialProtocol(peerOfA, ECHO)
    const framed = lpStream(manual)
    await framed.write(new Uint8Array([5, 6]))
    await manual.close()
    expect(Uint8Array.from((await framed.read()).subarray())).toEqual(new Uint8Array([0, 6, 5]))
    expect(a.peerCount).toBe(1)
    expect(await b.request(a.peerId, ECHO, new Uint8Array([7]))).toEqual(new Uint8Array([7]))
  })

  it('fails fast when the peer does not serve the protocol', async () => {
    const [a, b] = await pair()
    await expect(b.request(a.peerId, protocolId('unknown'), new Uint8Array())).rejects.toMatchObject({
      code: 'REQUEST_FAILED',
    })
    expect(b.stats().requestsFailed).toBe(1)
  })
})
