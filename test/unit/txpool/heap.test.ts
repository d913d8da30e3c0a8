import { describe, expect, it } from 'vitest'
import { BinaryHeap } from '../../../src/txpool/heap.js'

describe('BinaryHeap', () => {
  it('pops in order after heapify, pushes and replaceTop', () => {
    const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1009)
    const heap = new BinaryHeap<number>((a, b) => a < b, values.slice(0, 250))
    for (const value of values.slice(250)) heap.push(value)
    heap.replaceTop(2000)
    const popped: number[] = []
    for (let value = heap.pop(); value !== undefined; value = heap.pop()) popped.push(value)
    const expected = [...values].sort((a, b) => a - b)
    expected[0] = 2000
    expect(popped).toEqual(expected.sort((a, b) => a - b))
    expect(heap.size).toBe(0)
    expect(heap.peek()).toBeUndefined()
  })
})
