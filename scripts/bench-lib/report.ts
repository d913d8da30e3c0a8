/** Figures of a run, rendered as aligned text tables. */
import type { BlockUse, LoadResult, ReceiptSummary, SignedTx } from './load.js'

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
  /** Undefined where the node is not our process (a foreign URL) or /proc is unavailable. */
  peakRssMiB: number | undefined
  totalWallMs: number
  /** Transactions sent and mined before the timed phase (not in any figure above the line). */
  warmUpTxs: number
  /** Offered load of a paced run; undefined when the workload was sent as fast as the node took it. */
  ratePerSecond: number | undefined
}

/** Figures of one kind of transaction ('all' for the whole workload). */
export interface KindFigures {
  submitted: number
  submitErrors: number
  included: number
  failed: number
  latencyP50Ms: number
  latencyP99Ms: number
}

/** The numbers a report shows, so that two runs can be set side by side. */
export interface Figures {
  /** 'all', then each kind of the workload. */
  kinds: Map<string, KindFigures>
  senders: number
  warmUpTxs: number
  totalTxs: number
  included: number
  minedLate: number
  lost: number
  missingReceipts: number
  submitPhaseS: number
  submitRate: number
  minedWindowS: number
  paced: boolean
  /** tx/s from the first block seen to the last; NaN with fewer than two blocks, and unpaced runs have none. */
  sustainedTps: number
  minedTps: number
  gasMgasPerS: number
  blocksUsed: number
  txsPerBlockMax: number
  txsPerBlockMean: number
  /** Mean block interval over the blocks from the first used to the last used, as the poller saw them. */
  blockIntervalPolledS: number
  /** The same from the blocks' timestamps. */
  blockIntervalTimestampsS: number
  timedOut: boolean
  timedWallS: number
  benchWallS: number
  peakRssMiB: number | undefined
  /** The first few distinct submission errors. */
  firstErrors: string[]
}

export function computeFigures(input: ReportInput): Figures {
  const { txs, kinds, result, receipts } = input
  const columns = ['all', ...kinds]
  const inColumn = (column: string, i: number) => column === 'all' || txs[i].kind === column
  const indicesOf = (column: string) => txs.flatMap((_, i) => (inColumn(column, i) ? [i] : []))
  const perKind = new Map(
    columns.map((column): [string, KindFigures] => {
      const indices = indicesOf(column)
      const latencies = indices
        .flatMap((i) => {
          const inclusion = result.inclusions[i]
          return inclusion === undefined ? [] : [inclusion.observedAt - result.submittedAt[i]]
        })
        .sort((a, b) => a - b)
      const failed =
        column === 'all' ? [...receipts.failed.values()].reduce((a, b) => a + b, 0) : (receipts.failed.get(column) ?? 0)
      return [
        column,
        {
          submitted: indices.length,
          submitErrors: indices.filter((i) => result.submitErrors.has(i)).length,
          included: indices.filter((i) => result.inclusions[i] !== undefined).length,
          failed,
          latencyP50Ms: percentile(latencies, 50),
          latencyP99Ms: percentile(latencies, 99),
        },
      ]
    }),
  )

  const included = result.inclusions.filter((x) => x !== undefined).length
  const blocks = [...result.blocks.entries()].sort(([a], [b]) => a - b)
  const uses = blocks.map(([, use]) => use)
  const lastBlockAt = Math.max(...uses.map((b) => b.observedAt))
  const minedWindowMs = uses.length > 0 ? lastBlockAt - result.firstSubmitAt : Number.NaN
  // Steady-state rate: the transactions of every block after the first, over the time from the first block seen to
  // the last (it leaves out the pipeline filling up before the first block and draining after the last submission).
  const firstBlock = uses.reduce<(typeof uses)[number] | undefined>(
    (first, b) => (first === undefined || b.observedAt < first.observedAt ? b : first),
    undefined,
  )
  const steadyMs = firstBlock === undefined ? Number.NaN : lastBlockAt - firstBlock.observedAt
  const steadyTxs = included - (firstBlock?.txs ?? 0)
  const gasUsed = uses.reduce((sum, b) => sum + b.gasUsed, 0n)
  const submitMs = result.submitDoneAt - result.firstSubmitAt
  const [firstNumber, first] = blocks[0] ?? [0, undefined]
  const [lastNumber, last] = blocks[blocks.length - 1] ?? [0, undefined]
  const span = lastNumber - firstNumber
  const interval = (value: (b: BlockUse) => number) =>
    first === undefined || last === undefined || span === 0 ? Number.NaN : (value(last) - value(first)) / span
  return {
    kinds: perKind,
    senders: input.senders,
    warmUpTxs: input.warmUpTxs,
    totalTxs: txs.length,
    included,
    minedLate: receipts.minedLate,
    lost: receipts.lost,
    missingReceipts: receipts.missing,
    submitPhaseS: submitMs / 1000,
    submitRate: txs.length / (submitMs / 1000),
    minedWindowS: minedWindowMs / 1000,
    paced: input.ratePerSecond !== undefined,
    // A burst has no steady state: a few blocks drain a backlog.
    sustainedTps: input.ratePerSecond === undefined || uses.length < 2 ? Number.NaN : steadyTxs / (steadyMs / 1000),
    minedTps: included / (minedWindowMs / 1000),
    gasMgasPerS: Number(gasUsed) / 1e6 / (minedWindowMs / 1000),
    blocksUsed: uses.length,
    txsPerBlockMax: Math.max(0, ...uses.map((b) => b.txs)),
    txsPerBlockMean: included / Math.max(1, uses.length),
    blockIntervalPolledS: interval((b) => b.observedAt / 1000),
    blockIntervalTimestampsS: interval((b) => b.timestamp),
    timedOut: result.timedOut,
    timedWallS: (result.endedAt - result.firstSubmitAt) / 1000,
    benchWallS: input.totalWallMs / 1000,
    peakRssMiB: input.peakRssMiB,
    firstErrors: [...new Set(result.submitErrors.values())].slice(0, 5),
  }
}

export function renderReport(figures: Figures): string {
  const columns = [...figures.kinds.keys()]
  const perKind = (label: string, value: (k: KindFigures) => number) => [
    label,
    ...columns.map((c) => int(value(figures.kinds.get(c) as KindFigures))),
  ]
  const perKindTable = formatTable([
    ['', ...columns],
    perKind('txs submitted', (k) => k.submitted),
    perKind('submission errors', (k) => k.submitErrors),
    perKind('txs included', (k) => k.included),
    perKind('failed receipts (status 0)', (k) => k.failed),
    perKind('latency p50 (ms, submit->block)', (k) => k.latencyP50Ms),
    perKind('latency p99 (ms, submit->block)', (k) => k.latencyP99Ms),
  ])
  const f = figures
  const summaryTable = formatTable([
    ['senders', int(f.senders)],
    ['warm-up txs (before the timed phase)', int(f.warmUpTxs)],
    ['total txs', int(f.totalTxs)],
    ['txs included', `${int(f.included)} (${fixed((100 * f.included) / Math.max(1, f.totalTxs))} %)`],
    ['mined after the watcher stopped (receipt at the end)', int(f.minedLate)],
    ['lost (accepted, no receipt at the end)', int(f.lost)],
    ['submit phase (s)', fixed(f.submitPhaseS, 2)],
    ['submit rate (tx/s, incl. rejected)', int(f.submitRate)],
    ['mined window (s, first submit->last block)', fixed(f.minedWindowS, 2)],
    [
      'sustained mined throughput (tx/s, first->last block)',
      !f.paced ? 'n/a (unpaced)' : Number.isFinite(f.sustainedTps) ? int(f.sustainedTps) : 'n/a',
    ],
    ['mined throughput incl. fill and drain (tx/s)', int(f.minedTps)],
    ['gas throughput (Mgas/s)', fixed(f.gasMgasPerS)],
    ['blocks used', int(f.blocksUsed)],
    ['block interval (s, mean, as polled)', fixed(f.blockIntervalPolledS, 3)],
    ['block interval (s, mean, block timestamps)', fixed(f.blockIntervalTimestampsS, 3)],
    ['txs per block (max)', int(f.txsPerBlockMax)],
    ['txs per block (mean)', fixed(f.txsPerBlockMean)],
    ['receipts missing', int(f.missingReceipts)],
    ['timed out (limit reached)', f.timedOut ? 'yes' : 'no'],
    ['timed phase wall time (s)', fixed(f.timedWallS, 2)],
    ['bench wall time (s, incl. set-up)', fixed(f.benchWallS, 2)],
    ['node peak RSS (MiB, VmHWM)', f.peakRssMiB === undefined ? 'n/a' : fixed(f.peakRssMiB)],
  ])
  const errorLines =
    f.firstErrors.length === 0 ? [] : ['', 'first distinct submission errors:', ...f.firstErrors.map((e) => `  ${e}`)]
  return [perKindTable, '', summaryTable, ...errorLines].join('\n')
}

/** Polis's figures beside a peer's, with the ratio Polis/peer of each. */
export function renderComparison(polis: Figures, peer: Figures, peerName: string): string {
  type Row = [label: string, value: (f: Figures) => number | undefined, format: (n: number) => string]
  const kind = (column: string, value: (k: KindFigures) => number) => (f: Figures) => {
    const k = f.kinds.get(column)
    return k === undefined ? undefined : value(k)
  }
  const columns = [...polis.kinds.keys()]
  const rows: Row[] = [
    ['mined throughput incl. fill and drain (tx/s)', (f) => f.minedTps, int],
    ...(polis.paced ? [['sustained mined throughput (tx/s)', (f: Figures) => f.sustainedTps, int] as Row] : []),
    ['submit rate (tx/s, incl. rejected)', (f) => f.submitRate, int],
    ...columns.map((c): Row => [`latency p50 (ms, ${c})`, kind(c, (k) => k.latencyP50Ms), int]),
    ...columns.map((c): Row => [`latency p99 (ms, ${c})`, kind(c, (k) => k.latencyP99Ms), int]),
    ['gas throughput (Mgas/s)', (f) => f.gasMgasPerS, fixed],
    ['txs included', (f) => f.included, int],
    ['submission errors', (f) => f.kinds.get('all')?.submitErrors, int],
    ['failed receipts (status 0)', (f) => f.kinds.get('all')?.failed, int],
    ['lost (accepted, no receipt at the end)', (f) => f.lost, int],
    ['blocks used', (f) => f.blocksUsed, int],
    ['block interval (s, mean, as polled)', (f) => f.blockIntervalPolledS, (n) => fixed(n, 3)],
    ['block interval (s, mean, block timestamps)', (f) => f.blockIntervalTimestampsS, (n) => fixed(n, 3)],
    ['txs per block (mean)', (f) => f.txsPerBlockMean, fixed],
    ['txs per block (max)', (f) => f.txsPerBlockMax, int],
    ['timed phase wall time (s)', (f) => f.timedWallS, (n) => fixed(n, 2)],
    ['node peak RSS (MiB)', (f) => f.peakRssMiB, fixed],
  ]
  const cell = (n: number | undefined, format: (n: number) => string) => (n === undefined ? 'n/a' : format(n))
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0
      ? '-'
      : (a / b).toFixed(2)
  return formatTable([
    ['', 'Polis', peerName, 'Polis/peer'],
    ...rows.map(([label, value, format]) => [
      label,
      cell(value(polis), format),
      cell(value(peer), format),
      ratio(value(polis), value(peer)),
    ]),
  ])
}
