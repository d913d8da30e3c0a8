/**
 * JSON serialization with a size budget: the same text as JSON.stringify (bigints as minimal hex quantities), built
 * piece by piece and abandoned as soon as it would pass `maxBytes`, so an oversized answer never becomes one huge
 * string in memory. Objects are walked member by member; each element of an array (a log, a transaction, a block, a
 * trace frame: things whose size the chain bounds) is serialized whole by JSON.stringify, which is several times
 * faster than walking it, so at most one element is built beyond the budget before the answer is abandoned.
 */

function bigintAsQuantity(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : value
}

/** JSON.stringify without a replacer is much faster; a stray bigint (a TypeError) takes the slow path. */
function stringifyElement(value: object): string {
  try {
    return JSON.stringify(value) ?? 'null'
  } catch (e) {
    if (!(e instanceof TypeError)) throw e
    return JSON.stringify(value, bigintAsQuantity) ?? 'null'
  }
}

/** Members like undefined and functions are skipped by the object walk; in an array (or at the top) they are null. */
function primitiveText(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'bigint') return `"0x${v.toString(16)}"`
  return 'null'
}

/** Thrown inside the walk when the budget is spent; never escapes this module. */
class BudgetExceeded extends Error {}

/**
 * Serializes `value` as UTF-8 JSON of at most `maxBytes` bytes; undefined when it would be larger.
 * Semantics follow JSON.stringify: `toJSON` is honoured, undefined and functions are left out of objects and
 * become null in arrays (and at the top); bigints render as `0x…` quantities.
 */
export function stringifyWithin(value: unknown, maxBytes: number): string | undefined {
  const parts: string[] = []
  let bytes = 0
  const push = (text: string): void => {
    bytes += text.length
    if (bytes > maxBytes) throw new BudgetExceeded()
    parts.push(text)
  }
  const pushString = (s: string): void => {
    // The quoted form is at least as long as the string: refuse before escaping a string that cannot fit.
    if (bytes + s.length + 2 > maxBytes) throw new BudgetExceeded()
    const quoted = JSON.stringify(s)
    // Non-ASCII characters take more than one UTF-8 byte.
    bytes += Buffer.byteLength(quoted) - quoted.length
    push(quoted)
  }
  const write = (v: unknown): void => {
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: () => unknown }).toJSON()
    }
    if (typeof v === 'string') {
      pushString(v)
      return
    }
    if (v === null || typeof v !== 'object') {
      push(primitiveText(v))
      return
    }
    if (Array.isArray(v)) {
      push('[')
      for (let i = 0; i < v.length; i++) {
        if (i > 0) push(',')
        const element = v[i]
        if (element === null || typeof element !== 'object') write(element)
        else {
          const text = stringifyElement(element)
          bytes += Buffer.byteLength(text) - text.length
          push(text)
        }
      }
      push(']')
      return
    }
    push('{')
    let first = true
    for (const key of Object.keys(v as object)) {
      const member = (v as Record<string, unknown>)[key]
      if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue
      push(first ? '' : ',')
      first = false
      pushString(key)
      push(':')
      write(member)
    }
    push('}')
  }
  try {
    write(value)
  } catch (e) {
    if (e instanceof BudgetExceeded) return undefined
    throw e
  }
  return parts.join('')
}
