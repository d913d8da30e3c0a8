import { describe, expect, it } from 'vitest'
import { compileContract } from '../../helpers/solc.js'

describe('compileContract', () => {
  it('compiles the Token fixture', () => {
    const { abi, bytecode } = compileContract('Token.sol', 'Token')
    expect(bytecode).toMatch(/^0x(?:[0-9a-f]{2})+$/)
    const names = abi.map((item) => ('name' in item ? item.name : undefined))
    for (const name of [
      'transfer',
      'approve',
      'transferFrom',
      'balanceOf',
      'allowance',
      'totalSupply',
      'fail',
      'boom',
    ]) {
      expect(names, name).toContain(name)
    }
    expect(abi.some((item) => item.type === 'error' && item.name === 'Failure')).toBe(true)
    expect(abi.some((item) => item.type === 'event' && item.name === 'Transfer')).toBe(true)
  })

  it('caches per file', () => {
    expect(compileContract('Token.sol', 'Token')).toBe(compileContract('Token.sol', 'Token'))
  })

  it('names the contracts of the file when the requested one is missing', () => {
    expect(() => compileContract('Token.sol', 'Nope')).toThrow(/contracts: Token/)
  })
})
