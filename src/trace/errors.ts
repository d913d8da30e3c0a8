/** geth's wording of EVM errors (tracers print them), from @ethereumjs's error texts. */

/** Opcodes that hand gas to a callee frame. */
export const CALL_OPS: ReadonlySet<string> = new Set(['CALL', 'CALLCODE', 'DELEGATECALL', 'STATICCALL'])

const GETH_ERRORS: Record<string, string> = {
  'out of gas': 'out of gas',
  'code store out of gas': 'contract creation code storage out of gas',
  'code size to deposit exceeds maximum code size': 'max code size exceeded',
  'invalid JUMP': 'invalid jump destination',
  'static state change': 'write protection',
  'create collision': 'contract address collision',
  'insufficient balance': 'insufficient balance for transfer',
  'invalid bytecode deployed': 'invalid code: must not begin with 0xef',
  'initcode exceeds max initcode size': 'max initcode size exceeded',
  revert: 'execution reverted',
  'stack overflow': 'stack limit reached 1024 (1023)',
}

/** geth's message for an @ethereumjs EVM error; `op` names the failing opcode where geth's message does. */
export function gethError(error: string, op?: string): string {
  if (error === 'invalid opcode') return `invalid opcode: ${op === undefined || op === 'INVALID' ? 'INVALID' : op}`
  return GETH_ERRORS[error] ?? error
}
