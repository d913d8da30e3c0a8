/**
 * Running `.io` tests against a node's HTTP JSON-RPC endpoint as hive's rpc-compat simulator does: each request is
 * POSTed as written; each expected response is compared with the last actual one (compare.ts), except in a
 * `speconly` test, where an actual result (not an error) is only validated against the method's OpenRPC result
 * schema. Tests run one after another on the same node, in the order given.
 */
import { compareResponses, formatComparison, type Json } from './compare.js'
import type { IoTest } from './iofile.js'
import type { ResultSchemas } from './schema.js'

/**
 * Timeout per request. hive allows 5 s; here the suite shares two cores with other test files running in parallel,
 * and the heaviest eth_simulateV1 fixture once took longer than that under load, so 40 s (the node's call limit is
 * raised to 30 s for the suite).
 */
export const REQUEST_TIMEOUT_MS = 40_000

export interface TestOutcome {
  name: string
  method: string
  passed: boolean
  /** Why it failed: the first differences, a schema violation or a transport error. */
  reason?: string
  ms: number
}

async function post(url: string, body: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  })
  return (await res.text()).trim()
}

async function check(url: string, test: IoTest, schemas: ResultSchemas): Promise<string | undefined> {
  let response: string | undefined
  let method = ''
  for (const [i, message] of test.messages.entries()) {
    const exchange = test.messages.length > 2 ? `message ${i + 1}: ` : ''
    if (message.send) {
      method = (JSON.parse(message.data) as { method?: string }).method ?? ''
      try {
        response = await post(url, message.data)
      } catch (e) {
        return `${exchange}request failed: ${(e as Error).message}`
      }
      continue
    }
    if (response === undefined) return 'invalid test: response before request'
    let actual: Json
    try {
      actual = JSON.parse(response) as Json
    } catch {
      return `${exchange}invalid JSON response: ${response.slice(0, 100)}`
    }
    response = undefined
    const hasError = typeof actual === 'object' && actual !== null && !Array.isArray(actual) && 'error' in actual
    if (test.speconly && !hasError) {
      const result = (actual as { result?: unknown }).result
      const violation = schemas.validate(method, result)
      if (violation !== undefined) return `${exchange}result does not match the ${method} schema: ${violation}`
      continue
    }
    const comparison = compareResponses(JSON.parse(message.data) as Json, actual)
    if (!comparison.equal) return `${exchange}${formatComparison(comparison)}`
  }
  if (response !== undefined) return 'invalid test: unhandled response'
  return undefined
}

export async function runIoTest(url: string, test: IoTest, schemas: ResultSchemas): Promise<TestOutcome> {
  const started = performance.now()
  const reason = await check(url, test, schemas)
  return {
    name: test.name,
    method: test.method,
    passed: reason === undefined,
    ...(reason === undefined ? {} : { reason }),
    ms: Math.round(performance.now() - started),
  }
}

export interface MethodTally {
  method: string
  passed: number
  failed: number
}

/** Passed and failed counts per method, methods in the order they first ran. */
export function tallyByMethod(outcomes: TestOutcome[]): MethodTally[] {
  const rows = new Map<string, MethodTally>()
  for (const o of outcomes) {
    const row = rows.get(o.method) ?? { method: o.method, passed: 0, failed: 0 }
    if (o.passed) row.passed++
    else row.failed++
    rows.set(o.method, row)
  }
  return [...rows.values()]
}

/** The per-method table and the total, as text. */
export function formatTable(outcomes: TestOutcome[]): string {
  const rows = tallyByMethod(outcomes)
  const width = Math.max(6, ...rows.map((r) => r.method.length))
  const line = (m: string, p: string | number, f: string | number) =>
    `${m.padEnd(width)}  ${String(p).padStart(6)}  ${String(f).padStart(6)}`
  const passed = outcomes.filter((o) => o.passed).length
  return [
    line('method', 'passed', 'failed'),
    line('-'.repeat(width), '------', '------'),
    ...rows.map((r) => line(r.method, r.passed, r.failed)),
    line('-'.repeat(width), '------', '------'),
    line(`total (${outcomes.length} tests)`, passed, outcomes.length - passed),
  ].join('\n')
}
