import { describe, expect, it } from 'vitest'
import { type HealthSource, liveness, readiness } from '../../../src/metrics/index.js'

const source = (over: Partial<HealthSource> = {}): HealthSource => ({
  networked: true,
  peerCount: () => 1,
  headNumber: () => 100n,
  highestKnownBlock: () => 100n,
  ...over,
})

describe("Besu's health checks", () => {
  it('liveness is UP while the process serves', () => {
    expect(liveness()).toEqual({ statusCode: 200, body: { status: 'UP' } })
  })

  it('a networked node needs one peer by default; a node without networking none', () => {
    expect(readiness({}, source()).statusCode).toBe(200)
    const alone = readiness({}, source({ peerCount: () => 0 }))
    expect(alone.statusCode).toBe(503)
    expect(alone.body).toMatchObject({ status: 'DOWN', peers: 0, minPeers: 1 })
    expect(readiness({}, source({ networked: false, peerCount: () => 0 })).statusCode).toBe(200)
    expect(readiness({ minPeers: '0' }, source({ peerCount: () => 0 })).statusCode).toBe(200)
    expect(readiness({ minPeers: '3' }, source({ peerCount: () => 2 })).statusCode).toBe(503)
  })

  it('is DOWN more than maxBlocksBehind (default 2) behind the best known head', () => {
    expect(readiness({}, source({ highestKnownBlock: () => 102n })).statusCode).toBe(200)
    const behind = readiness({}, source({ highestKnownBlock: () => 103n }))
    expect(behind.statusCode).toBe(503)
    expect(behind.body).toMatchObject({ status: 'DOWN', head: 100, highestKnownBlock: 103 })
    expect(readiness({ maxBlocksBehind: '10' }, source({ highestKnownBlock: () => 110n })).statusCode).toBe(200)
    // A peer behind us is no reason to be unready.
    expect(readiness({}, source({ highestKnownBlock: () => 50n })).statusCode).toBe(200)
  })

  it('answers 400 for a parameter that is not a whole number', () => {
    for (const query of [{ minPeers: 'x' }, { maxBlocksBehind: '-1' }, { minPeers: '1.5' }]) {
      expect(readiness(query, source()).statusCode).toBe(400)
    }
  })
})
