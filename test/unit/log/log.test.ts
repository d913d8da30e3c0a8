import { describe, expect, it } from 'vitest'
import { createLogger, parseModuleLevels } from '../../../src/log/index.js'

describe('per-module log levels', () => {
  it('gives a listed module its own level, above or below the root, and its children inherit it', () => {
    const log = createLogger('info', { modules: { qbft: 'debug', rpc: 'warn' } })
    const qbft = log.child({ module: 'qbft' })
    const rpc = log.child({ module: 'rpc' })
    const net = log.child({ module: 'net' })
    expect(qbft.isLevelEnabled('debug')).toBe(true)
    expect(rpc.isLevelEnabled('info')).toBe(false)
    expect(rpc.isLevelEnabled('warn')).toBe(true)
    expect(net.level).toBe('info')
    expect(qbft.child({ peer: 'x' }).isLevelEnabled('debug')).toBe(true)
  })

  it('parses module=level lists and names what is wrong', () => {
    expect(parseModuleLevels('qbft=debug, rpc=warn')).toEqual({ qbft: 'debug', rpc: 'warn' })
    expect(parseModuleLevels('')).toEqual({})
    for (const bad of ['qbft', 'qbft=loud', '=debug', 'a=b=c']) {
      expect(() => parseModuleLevels(bad)).toThrow(/module=level pairs .*got/)
    }
  })
})
