/**
 * Ethereum's execution-apis rpc-compat suite (what hive runs against every client), against a real Polis node: the
 * suite's chain is imported into a temp datadir with `polis import`, `polis run` serves it as a child process, and
 * every `.io` test runs in hive's order on that one node (some tests change state: sent transactions are seen by
 * the txpool tests after them).
 *
 * Asserts that every test not in known-failures.json passes and every listed one still fails, so the list shrinks
 * as the node improves. POLIS_CONFORMANCE=report only prints the table and the failures (`npm run conformance`);
 * POLIS_CONFORMANCE=update also rewrites known-failures.json from this run. POLIS_CONFORMANCE_FILTER=<regex> runs
 * the tests whose name (e.g. `eth_getBalance/get-balance`) matches. Needs `npm run build` (dist/cli/main.js).
 */
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChildNode, removeDir, startChildNode, tempDir } from '../helpers/node.js'
import { loadIoTests } from './iofile.js'
import { formatTable, runIoTest, type TestOutcome } from './runner.js'
import { loadResultSchemas } from './schema.js'

const FIXTURES = resolve(import.meta.dirname, '../fixtures/execution-apis')
const GENESIS = join(FIXTURES, 'tests/genesis.json')
const CHAIN = join(FIXTURES, 'tests/chain.rlp')
const KNOWN_FAILURES_FILE = join(import.meta.dirname, 'known-failures.json')
const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')
const RPC_API = 'eth,net,web3,debug,txpool,testing'

const mode = process.env.POLIS_CONFORMANCE ?? 'assert'
if (!['assert', 'report', 'update'].includes(mode))
  throw new Error(`POLIS_CONFORMANCE=${mode}: not assert|report|update`)
const filter = process.env.POLIS_CONFORMANCE_FILTER ? new RegExp(process.env.POLIS_CONFORMANCE_FILTER) : undefined

interface KnownFailures {
  comment: string
  /** Test name → why it fails (one line: its first difference). */
  failures: Record<string, string>
}

const KNOWN_FAILURES_COMMENT =
  'rpc-compat tests Polis is known to fail, with the first difference of a run; rpc-compat.test.ts asserts that ' +
  'these still fail and all others pass. Remove an entry when it is fixed (or run with POLIS_CONFORMANCE=update).'

/** The first difference; where an error came instead of a result, that error (it says more than the result). */
function oneLine(reason: string): string {
  const lines = reason.split('\n')
  const error = lines.find((l) => l.startsWith('$.error: unexpected (got '))
  const line =
    lines[0].includes('$.result: missing') && error ? `error instead of a result: ${error.slice(25, -1)}` : lines[0]
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}

describe('execution-apis rpc-compat suite', () => {
  const tests = loadIoTests(join(FIXTURES, 'tests'), filter)
  const schemas = loadResultSchemas(join(FIXTURES, 'openrpc.refs.json'))
  const known = JSON.parse(readFileSync(KNOWN_FAILURES_FILE, 'utf8')) as KnownFailures
  const datadir = tempDir('polis-conformance-')
  let node: ChildNode | undefined

  beforeAll(async () => {
    try {
      await promisify(execFile)(process.execPath, [CLI, 'import', '--datadir', datadir, '--genesis', GENESIS, CHAIN], {
        timeout: 60_000,
      })
    } catch (e) {
      const { stdout, stderr, message } = e as { stdout?: string; stderr?: string; message: string }
      throw new Error(`polis import of the rpc-compat chain failed: ${stderr || stdout || message}`)
    }
    // The heaviest eth_simulateV1 fixture takes ~1 s alone but can pass the default 5 s call limit when the machine is
    // shared with other test files; the limit is not what this suite checks.
    node = await startChildNode(datadir, ['--genesis', GENESIS, '--rpc-api', RPC_API, '--rpc-evmtimeout', '30s'])
  }, 90_000)

  afterAll(async () => {
    await node?.stop()
    removeDir(datadir)
  })

  it("runs every .io test in hive's order: known failures still fail, every other test passes", async () => {
    const url = node!.url
    const outcomes: TestOutcome[] = []
    const started = performance.now()
    for (const test of tests) outcomes.push(await runIoTest(url, test, schemas))
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    const failed = outcomes.filter((o) => !o.passed)

    const lines = [`rpc-compat: ${tests.length} tests in ${seconds} s`, formatTable(outcomes)]
    if (mode !== 'assert') {
      lines.push('', 'failures:')
      for (const o of failed) lines.push(`${o.name}\n  ${o.reason!.replaceAll('\n', '\n  ')}`)
    }
    console.log(lines.join('\n'))

    if (mode === 'update') {
      const failures = Object.fromEntries(failed.map((o) => [o.name, oneLine(o.reason!)]))
      const merged = filter
        ? { ...Object.fromEntries(Object.entries(known.failures).filter(([name]) => !filter.test(name))), ...failures }
        : failures
      const sorted = Object.fromEntries(
        Object.entries(merged).sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
      )
      writeFileSync(
        KNOWN_FAILURES_FILE,
        `${JSON.stringify({ comment: KNOWN_FAILURES_COMMENT, failures: sorted }, null, 2)}\n`,
      )
    }
    if (mode !== 'assert') return

    const unexpectedFailures = failed.filter((o) => !(o.name in known.failures)).map((o) => `${o.name}: ${o.reason}`)
    const unexpectedPasses = outcomes.filter((o) => o.passed && o.name in known.failures).map((o) => o.name)
    const names = new Set(tests.map((t) => t.name))
    const stale = Object.keys(known.failures).filter((name) => !names.has(name) && !(filter && !filter.test(name)))
    expect.soft(unexpectedFailures, 'tests that fail but are not in known-failures.json').toEqual([])
    expect.soft(unexpectedPasses, 'tests that now pass: remove them from known-failures.json').toEqual([])
    expect.soft(stale, 'known-failures.json entries naming no test').toEqual([])
  }, 180_000)
})
