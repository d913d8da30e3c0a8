/** Array-backed binary heap; `before(a, b)` is true when `a` must come out before `b`. */
export class BinaryHeap<T> {
  private readonly items: T[]

  constructor(
    private readonly before: (a: T, b: T) => boolean,
    items: T[] = [],
  ) {
    this.items = items
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  get size(): number {
    return this.items.length
  }

  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    this.items.push(item)
    this.siftUp(this.items.length - 1)
  }

  pop(): T | undefined {
    const items = this.items
    if (items.length === 0) return undefined
    const top = items[0]
    const last = items.pop() as T
    if (items.length > 0) {
      items[0] = last
      this.siftDown(0)
    }
    return top
  }

  /** Replaces the top item (cheaper than pop + push); the heap must not be empty. */
  replaceTop(item: T): void {
    this.items[0] = item
    this.siftDown(0)
  }

  private siftUp(index: number): void {
    const items = this.items
    const item = items[index]
    let i = index
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(item, items[parent])) break
      items[i] = items[parent]
      i = parent
    }
    items[i] = item
  }

  private siftDown(index: number): void {
    const items = this.items
    const length = items.length
    const item = items[index]
    let i = index
    for (;;) {
      const left = 2 * i + 1
      if (left >= length) break
      const right = left + 1
      const child = right < length && this.before(items[right], items[left]) ? right : left
      if (!this.before(items[child], item)) break
      items[i] = items[child]
      i = child
    }
    items[i] = item
  }
}
