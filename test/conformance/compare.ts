/**
 * Comparing a JSON-RPC response with an `.io` file's expected one as hive's rpc-compat does: the whole parsed
 * objects must be deeply equal (same keys, same values; `jsonrpc` and `id` included; numbers by value), except that
 * an `error.message` is ignored, at any depth, wherever both the expected and the actual value hold an error object
 * with a message (top-level JSON-RPC errors and nested ones such as eth_simulateV1's calls[].error).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

export interface Difference {
  /** JSON path of the differing value, e.g. `$.result.transactions[0].hash`. */
  path: string
  /** `changed`: both present, different; `missing`: expected but absent; `unexpected`: present but not expected. */
  kind: 'changed' | 'missing' | 'unexpected'
  expected?: Json
  actual?: Json
}

export interface Comparison {
  equal: boolean
  /** Differences in document order (expected's key order first), at most `limit`. */
  differences: Difference[]
  /** Number of differences found (may exceed differences.length). */
  count: number
  /** Whether error messages were left out of the comparison. */
  redacted: boolean
}

const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Returns copies of both values without `message` in every `error` object both of them have at the same place. */
export function redactErrorMessages(expected: Json, actual: Json): { expected: Json; actual: Json; redacted: boolean } {
  let redacted = false
  const walk = (exp: Json, act: Json): [Json, Json] => {
    if (isObject(exp) && isObject(act)) {
      const e: { [key: string]: Json } = { ...exp }
      const a: { [key: string]: Json } = { ...act }
      for (const key of Object.keys(exp)) {
        if (!(key in act)) continue
        const ev = exp[key]
        const av = act[key]
        if (key === 'error') {
          if (isObject(ev) && isObject(av) && 'message' in ev && 'message' in av) {
            const { message: _e, ...eRest } = ev
            const { message: _a, ...aRest } = av
            e[key] = eRest
            a[key] = aRest
            redacted = true
          }
        } else [e[key], a[key]] = walk(ev, av)
      }
      return [e, a]
    }
    if (Array.isArray(exp) && Array.isArray(act)) {
      const e = [...exp]
      const a = [...act]
      for (let i = 0; i < Math.min(exp.length, act.length); i++) [e[i], a[i]] = walk(exp[i], act[i])
      return [e, a]
    }
    return [exp, act]
  }
  const [e, a] = walk(expected, actual)
  return { expected: e, actual: a, redacted }
}

const kindOf = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)

const childPath = (path: string, key: string) =>
  /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`

/** Deep comparison of two parsed JSON values; the expected value is the reference for order and paths. */
export function diffJson(expected: Json, actual: Json, limit = 20): { differences: Difference[]; count: number } {
  const differences: Difference[] = []
  let count = 0
  const add = (d: Difference) => {
    count++
    if (differences.length < limit) differences.push(d)
  }
  const walk = (exp: Json, act: Json, path: string) => {
    if (kindOf(exp) !== kindOf(act)) return add({ path, kind: 'changed', expected: exp, actual: act })
    if (isObject(exp) && isObject(act)) {
      for (const key of Object.keys(exp)) {
        if (key in act) walk(exp[key], act[key], childPath(path, key))
        else add({ path: childPath(path, key), kind: 'missing', expected: exp[key] })
      }
      for (const key of Object.keys(act)) {
        if (!(key in exp)) add({ path: childPath(path, key), kind: 'unexpected', actual: act[key] })
      }
      return
    }
    if (Array.isArray(exp) && Array.isArray(act)) {
      for (let i = 0; i < Math.max(exp.length, act.length); i++) {
        if (i >= act.length) add({ path: `${path}[${i}]`, kind: 'missing', expected: exp[i] })
        else if (i >= exp.length) add({ path: `${path}[${i}]`, kind: 'unexpected', actual: act[i] })
        else walk(exp[i], act[i], `${path}[${i}]`)
      }
      return
    }
    if (exp !== act) add({ path, kind: 'changed', expected: exp, actual: act })
  }
  walk(expected, actual, '$')
  return { differences, count }
}

/** Compares an actual response with the expected one, hive's way (see the file comment). */
export function compareResponses(expected: Json, actual: Json, limit = 20): Comparison {
  const r = redactErrorMessages(expected, actual)
  const { differences, count } = diffJson(r.expected, r.actual, limit)
  return { equal: count === 0, differences, count, redacted: r.redacted }
}

function show(v: Json | undefined, max: number): string {
  const s = JSON.stringify(v)
  return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s
}

/** One line for a difference, e.g. `$.result.size: expected "0x2a0", got "0x29f"`. */
export function formatDifference(d: Difference, max = 100): string {
  if (d.kind === 'missing') return `${d.path}: missing (expected ${show(d.expected, max)})`
  if (d.kind === 'unexpected') return `${d.path}: unexpected (got ${show(d.actual, max)})`
  return `${d.path}: expected ${show(d.expected, max)}, got ${show(d.actual, max)}`
}

/** A readable report of a comparison: the first differences, one per line, and how many there were. */
export function formatComparison(c: Comparison, lines = 5, max = 100): string {
  if (c.equal) return 'equal'
  const shown = c.differences.slice(0, lines).map((d) => formatDifference(d, max))
  if (c.count > shown.length) shown.push(`… ${c.count - shown.length} more difference(s)`)
  return shown.join('\n')
}
