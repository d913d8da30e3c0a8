/** Figures of a run, rendered as aligned text tables. */
import type { LoadResult, ReceiptSummary, SignedTx } from './load.js'

/** Nearest-rank percentile of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]
}

/** First column left-aligned, the others right-aligned, two spaces apart. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows) {
    for (const [c, cell] of row.entries()) widths[c] = Math.max(widths[c] ?? 0, cell.length)
  }
  return rows
    .map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
    .join('\n')
}

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-')
const fixed = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '-')

export interface ReportInput {
  txs: readonly SignedTx[]
  kinds: readonly string[]
  senders: number
  result: LoadResult
  receipts: ReceiptSummary
  peakRssMiB: number | undefined
  totalWallMs: number
  /** Transactions sent and mined before the timed phase (not in any figure above the line). */
  warmUpTxs: number
  /** Offered load of a paced run; undefined when the workload was sent as fast as the node took it. */
  ratePerSecond: number | undefined
}

export function renderReport(input: ReportInput): string {
  const { txs, kinds, result, receipts } = input
  const columns = ['all', ...kinds]
  const inColumn = (column: string, i: number) => column === 'all' || txs[i].kind === column
  const perKind = (label: string, value: (column: string) => string) => [label, ...columns.map(value)]
  const indicesOf = (column: string) => txs.flatMap((_, i) => (inColumn(column, i) ? [i] : []))
  const latencies = new Map(
    columns.map((column) => {
      const values = indicesOf(column).flatMap((i) => {
        const inclusion = result.inclusions[i]
        return inclusion === undefined ? [] : [inclusion.observedAt - result.submittedAt[i]]
      })
      return [column, values.sort((a, b) => a - b)]
    }),
  )
  const count = (column: string, predicate: (i: number) => boolean) => int(indicesOf(column).filter(predicate).length)
  const failed = (column: string) =>
    column === 'all' ? [...receipts.failed.values()].reduce((a, b) => a + b, 0) : (receipts.failed.get(column) ?? 0)

  const included = result.inclusions.filter((x) => x !== undefined).length
  const blocks = [...result.blocks.values()]
  const lastBlockAt = Math.max(...blocks.map((b) => b.observedAt))
  const minedWindowMs = blocks.length > 0 ? lastBlockAt - result.firstSubmitAt : Number.NaN
  // Steady-state rate: the transactions of every block after the first, over the time from the first block seen to
  // the last (it leaves out the pipeline filling up before the first block and draining after the last submission).
  const firstBlock = blocks.reduce<(typeof blocks)[number] | undefined>(
    (first, b) => (first === undefined || b.observedAt < first.observedAt ? b : first),
    undefined,
  )
  const steadyMs = firstBlock === undefined ? Number.NaN : lastBlockAt - firstBlock.observedAt
  const steadyTxs = included - (firstBlock?.txs ?? 0)
  const perBlock = blocks.map((b) => b.txs)
  const gasUsed = blocks.reduce((sum, b) => sum + b.gasUsed, 0n)
  const submitMs = result.submitDoneAt - result.firstSubmitAt

  const perKindTable = formatTable([
    ['', ...columns],
    perKind('txs submitted', (c) => count(c, () => true)),
    perKind('submission errors', (c) => count(c, (i) => result.submitErrors.has(i))),
    perKind('txs included', (c) => count(c, (i) => result.inclusions[i] !== undefined)),
    perKind('failed receipts (status 0)', (c) => int(failed(c))),
    perKind('latency p50 (ms, submit->block)', (c) => int(percentile(latencies.get(c) ?? [], 50))),
    perKind('latency p99 (ms, submit->block)', (c) => int(percentile(latencies.get(c) ?? [], 99))),
  ])
  const summaryTable = formatTable([
    ['senders', int(input.senders)],
    ['warm-up txs (before the timed phase)', int(input.warmUpTxs)],
    ['total txs', int(txs.length)],
    ['txs included', `${int(included)} (${fixed((100 * included) / Math.max(1, txs.length))} %)`],
    ['submit phase (s)', fixed(submitMs / 1000, 2)],
    ['submit rate (tx/s, incl. rejected)', int(txs.length / (submitMs / 1000))],
    ['mined window (s, first submit->last block)', fixed(minedWindowMs / 1000, 2)],
    [
      'sustained mined throughput (tx/s, first->last block)',
      // A burst has no steady state: a few blocks drain a backlog.
      input.ratePerSecond === undefined
        ? 'n/a (unpaced)'
        : blocks.length < 2
          ? 'n/a'
          : int(steadyTxs / (steadyMs / 1000)),
    ],
    ['mined throughput incl. fill and drain (tx/s)', int(included / (minedWindowMs / 1000))],
    ['gas throughput (Mgas/s)', fixed(Number(gasUsed) / 1e6 / (minedWindowMs / 1000))],
    ['blocks used', int(blocks.length)],
    ['txs per block (max)', int(Math.max(0, ...perBlock))],
    ['txs per block (mean)', fixed(included / Math.max(1, blocks.length))],
    ['receipts missing', int(receipts.missing)],
    ['timed out (limit reached)', result.timedOut ? 'yes' : 'no'],
    ['timed phase wall time (s)', fixed((result.endedAt - result.firstSubmitAt) / 1000, 2)],
    ['bench wall time (s, incl. set-up)', fixed(input.totalWallMs / 1000, 2)],
    ['node peak RSS (MiB, VmHWM)', input.peakRssMiB === undefined ? 'n/a' : fixed(input.peakRssMiB)],
  ])
  const errors = [...new Set(result.submitErrors.values())].slice(0, 5)
  const errorLines =
    errors.length === 0 ? [] : ['', 'first distinct submission errors:', ...errors.map((e) => `  ${e}`)]
  return [perKindTable, '', summaryTable, ...errorLines].join('\n')
}
