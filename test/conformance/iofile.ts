/**
 * The execution-apis `.io` test format, read as hive's rpc-compat simulator reads it: `//` comment lines (before the
 * first message; `// speconly: ...` marks a test whose result is only checked against the OpenRPC result schema),
 * `>>` request lines and `<<` expected-response lines, one JSON value each.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface IoMessage {
  /** true: a request (`>>`); false: an expected response (`<<`). */
  send: boolean
  /** The JSON text after the marker, trimmed. */
  data: string
}

export interface IoTest {
  /** Path under the tests folder without `.io`, e.g. `eth_getBalance/get-balance`. */
  name: string
  /** The first path component: the folder the test sits in (usually the method it tests). */
  method: string
  comment: string
  speconly: boolean
  messages: IoMessage[]
}

export class IoFileError extends Error {}

/** Parses one `.io` file's text; throws IoFileError on a line that is neither comment nor valid message. */
export function parseIoFile(name: string, text: string): IoTest {
  const test: IoTest = { name, method: name.split('/')[0], comment: '', speconly: false, messages: [] }
  let inHeader = true
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (line === '') continue
    if (line.startsWith('//')) {
      if (!inHeader) continue // hive ignores comments after the first message
      const comment = line.slice(2).replace(/^ /, '')
      test.comment += `${comment}\n`
      if (comment.startsWith('speconly:')) test.speconly = true
      continue
    }
    if (line.startsWith('>>') || line.startsWith('<<')) {
      inHeader = false
      const data = line.slice(2).trim()
      try {
        JSON.parse(data)
      } catch {
        throw new IoFileError(`${name}:${i + 1}: invalid JSON`)
      }
      test.messages.push({ send: line.startsWith('>>'), data })
      continue
    }
    throw new IoFileError(`${name}:${i + 1}: invalid test line ${JSON.stringify(line.slice(0, 80))}`)
  }
  return test
}

/** Byte-wise string order, as Go's sort.Strings (filepath.Walk visits a folder's entries in this order). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/**
 * Every `.io` file under `root`, in the order hive runs them: a depth-first walk visiting each folder's entries in
 * lexical order (so `eth_sendRawTransaction/*` runs before `txpool_content/*`, which sees its transactions).
 */
export function loadIoTests(root: string, filter?: RegExp): IoTest[] {
  const tests: IoTest[] = []
  const walk = (dir: string, prefix: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => byteOrder(a.name, b.name))
    for (const entry of entries) {
      const path = join(dir, entry.name)
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`
      if (entry.isDirectory()) walk(path, rel)
      else if (entry.name.endsWith('.io')) {
        const name = rel.slice(0, -'.io'.length)
        if (filter && !filter.test(name)) continue
        tests.push(parseIoFile(name, readFileSync(path, 'utf8')))
      }
    }
  }
  walk(root, '')
  return tests
}
