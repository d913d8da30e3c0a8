import { createBlock } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createTx } from '@ethereumjs/tx'
import { Account, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { createVM, runTx } from '@ethereumjs/vm'
import { describe, expect, it } from 'vitest'
import { capGas, Deadline, deadlineOpcodes, ExecutionTimeoutError, goDuration } from '../../../src/execution/index.js'

/** Counts down from `n` in a JUMPDEST loop, then stops: 12 + 14 gas per iteration. */
function countdown(n: number): Uint8Array {
  return hexToBytes(`0x62${n.toString(16).padStart(6, '0')}5b600190038060045700`)
}

async function runLoop(code: Uint8Array, deadline: Deadline | undefined) {
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
  const vm = await createVM({ common, evmOpts: { customOpcodes: deadlineOpcodes(deadline) } })
  const to = createAddressFromString(`0x${'11'.repeat(20)}`)
  await vm.stateManager.putAccount(to, new Account())
  await vm.stateManager.putCode(to, code)
  const tx = createTx({ to, gasLimit: 30_000_000n, gasPrice: 0n }, { common, freeze: false })
  tx.getSenderAddress = () => createAddressFromString(`0x${'22'.repeat(20)}`)
  const block = createBlock({ header: { gasLimit: 30_000_000n, baseFeePerGas: 0n } }, { common })
  return runTx(vm, { tx, block, skipBalance: true, skipNonce: true, skipHardForkValidation: true })
}

describe('read-only execution limits', () => {
  it("formats timeouts as Go durations, as geth's message shows them", () => {
    expect(goDuration(5000)).toBe('5s')
    expect(goDuration(300)).toBe('300ms')
    expect(goDuration(1500)).toBe('1.5s')
    expect(goDuration(90_000)).toBe('1m30s')
    expect(goDuration(3_600_000)).toBe('1h0m0s')
    expect(new ExecutionTimeoutError(5000).message).toBe('execution aborted (timeout = 5s)')
  })

  it('caps gas at the cap unless the cap is 0', () => {
    expect(capGas(undefined, 30_000_000n, 50_000_000n)).toBe(30_000_000n)
    expect(capGas(80_000_000n, 30_000_000n, 50_000_000n)).toBe(50_000_000n)
    expect(capGas(80_000_000n, 30_000_000n, 0n)).toBe(80_000_000n)
    expect(Deadline.after(0)).toBeUndefined()
  })

  it('leaves a loop that ends in time untouched, with the same gas as without a deadline', async () => {
    const code = countdown(2_000)
    const plain = await runLoop(code, undefined)
    const watched = await runLoop(code, Deadline.after(60_000))
    expect(watched.execResult.exceptionError).toBeUndefined()
    expect(watched.totalGasSpent).toBe(plain.totalGasSpent)
  })

  it('aborts an endless loop from inside the EVM shortly after the deadline', async () => {
    const started = performance.now()
    const error = await runLoop(hexToBytes('0x5b600056'), Deadline.after(100)).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ExecutionTimeoutError)
    expect((error as Error).message).toBe('execution aborted (timeout = 100ms)')
    expect(performance.now() - started).toBeLessThan(1_000)
  })
})
