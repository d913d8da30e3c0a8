/**
 * Compiles Solidity test fixtures with solc-js (standard JSON), optimizer on, evmVersion prague.
 */
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import solc from 'solc'
import type { Abi } from 'viem'

/** Where relative `file` arguments are looked up. */
export const FIXTURE_CONTRACTS_DIR = fileURLToPath(new URL('../fixtures/contracts/', import.meta.url))

export interface CompiledContract {
  abi: Abi
  bytecode: `0x${string}`
}

interface SolcMessage {
  severity: 'error' | 'warning' | 'info'
  formattedMessage?: string
  message: string
}

interface SolcOutput {
  errors?: SolcMessage[]
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>
}

/** Compiled contracts of each source file (by absolute path), keyed by contract name. */
const cache = new Map<string, Map<string, CompiledContract>>()

function compileFile(path: string): Map<string, CompiledContract> {
  const sourceName = path
  const input = {
    language: 'Solidity',
    sources: { [sourceName]: { content: readFileSync(path, 'utf8') } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'prague',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  }
  // Imports are resolved relative to the importing file's directory (or taken as absolute paths).
  const findImports = (importPath: string): { contents: string } | { error: string } => {
    const target = isAbsolute(importPath) ? importPath : resolve(dirname(path), importPath)
    try {
      return { contents: readFileSync(target, 'utf8') }
    } catch (e) {
      return { error: `cannot read ${target}: ${(e as Error).message}` }
    }
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as SolcOutput
  const errors = (output.errors ?? []).filter((m) => m.severity === 'error')
  if (errors.length > 0) {
    const text = errors.map((m) => (m.formattedMessage ?? m.message).trim()).join('\n')
    throw new Error(`solc ${solc.version()} failed to compile ${path}:\n${text}`)
  }
  const contracts = new Map<string, CompiledContract>()
  for (const [name, contract] of Object.entries(output.contracts?.[sourceName] ?? {})) {
    contracts.set(name, { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` })
  }
  return contracts
}

/**
 * Compiles `file` (absolute, or relative to test/fixtures/contracts) and returns `contractName`'s ABI and creation
 * bytecode. Results are cached per file for the life of the process; throws with the compiler messages on errors.
 */
export function compileContract(file: string, contractName: string): CompiledContract {
  const path = isAbsolute(file) ? file : resolve(FIXTURE_CONTRACTS_DIR, file)
  let contracts = cache.get(path)
  if (contracts === undefined) {
    contracts = compileFile(path)
    cache.set(path, contracts)
  }
  const contract = contracts.get(contractName)
  if (contract === undefined) {
    const known = [...contracts.keys()].join(', ') || 'none'
    throw new Error(`contract ${contractName} not found in ${path} (contracts: ${known})`)
  }
  return contract
}
