import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseGasCap, parseTimeout, readConfigFile } from '../../../src/config/index.js'

describe('rpc gas cap and EVM timeout settings', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  const write = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'polis-config-'))
    dirs.push(dir)
    const file = join(dir, 'config.toml')
    writeFileSync(file, text)
    return file
  }

  it('reads a gas cap as whole gas, 0 for none', () => {
    expect(parseGasCap('50000000')).toBe(50_000_000n)
    expect(parseGasCap(0)).toBe(0n)
    expect(parseGasCap('1_000_000')).toBe(1_000_000n)
    expect(() => parseGasCap('-1')).toThrow('rpc gascap must be a whole number of gas (0 = no cap), got "-1"')
    expect(() => parseGasCap('5e6')).toThrow('rpc gascap must be a whole number')
  })

  it('reads a timeout as seconds or as a duration with a unit', () => {
    expect(parseTimeout('5')).toBe(5000)
    expect(parseTimeout(5)).toBe(5000)
    expect(parseTimeout('0.5')).toBe(500)
    expect(parseTimeout('5s')).toBe(5000)
    expect(parseTimeout('250ms')).toBe(250)
    expect(parseTimeout('1m')).toBe(60_000)
    expect(parseTimeout('0')).toBe(0)
    expect(() => parseTimeout('5h')).toThrow('rpc evmtimeout must be seconds ("5", "0.5") or a duration')
    expect(() => parseTimeout('-1')).toThrow('rpc evmtimeout must be seconds')
    expect(() => parseTimeout('0.0001')).toThrow('whole number of milliseconds')
  })

  it('takes [rpc] gascap and evmtimeout from the config file and names the file on a bad value', async () => {
    const good = write('[rpc]\ngascap = 25000000\nevmtimeout = "2s"\n')
    expect(await readConfigFile(good)).toMatchObject({ rpcGasCap: 25_000_000n, rpcEvmTimeoutMs: 2000 })
    const bad = write('[rpc]\nevmtimeout = "soon"\n')
    await expect(readConfigFile(bad)).rejects.toThrow(`config file ${bad}: rpc evmtimeout must be seconds`)
  })
})
