import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadResultSchemas, resultSchemas } from './schema.js'

const schemas = loadResultSchemas(join(import.meta.dirname, '../fixtures/execution-apis/openrpc.refs.json'))

describe('OpenRPC result schemas', () => {
  it('validates results through references into components', () => {
    expect(schemas.methods.has('eth_getBlockByNumber')).toBe(true)
    expect(schemas.validate('eth_blockNumber', '0x36')).toBeUndefined()
    expect(schemas.validate('eth_blockNumber', '0x036')).toMatch(/must match pattern/)
    expect(schemas.validate('eth_blockNumber', 54)).toMatch(/must be string/)
    expect(schemas.validate('txpool_status', { pending: '0x6', queued: '0x0' })).toBeUndefined()
    expect(schemas.validate('txpool_status', { pending: '0x6' })).toMatch(/must have required property 'queued'/)
    expect(schemas.validate('eth_getBlockByNumber', null)).toBeUndefined()
    expect(schemas.validate('eth_getBlockByNumber', { number: '0x1' })).toMatch(/required property 'hash'/)
  })

  it('validates nested component schemas (fee history)', () => {
    const history = {
      oldestBlock: '0x1b',
      reward: [['0x1', '0x1']],
      baseFeePerGas: ['0x3b9aca00', '0x342a385a'],
      gasUsedRatio: [0.00072868],
      baseFeePerBlobGas: ['0x0', '0x0'],
      blobGasUsedRatio: [0],
    }
    expect(schemas.validate('eth_feeHistory', history)).toBeUndefined()
    expect(schemas.validate('eth_feeHistory', { ...history, gasUsedRatio: ['0x1'] })).toMatch(
      /gasUsedRatio\/0 must be number/,
    )
    expect(schemas.validate('eth_feeHistory', { ...history, reward: [[1]] })).toMatch(/reward\/0\/0 must be string/)
  })

  it('names a method without a result schema', () => {
    expect(schemas.validate('eth_noSuchMethod', '0x1')).toBe('no result schema for method eth_noSuchMethod')
  })

  it('uses draft 2019-09 keywords', () => {
    const s = resultSchemas({
      methods: [{ name: 'm', result: { schema: { $ref: '#/components/schemas/X' } } }],
      components: {
        schemas: { X: { type: 'object', properties: { a: { type: 'string' } }, unevaluatedProperties: false } },
      },
    })
    expect(s.validate('m', { a: 'x' })).toBeUndefined()
    expect(s.validate('m', { a: 'x', b: 1 })).toMatch(/must NOT have unevaluated properties/)
  })
})
