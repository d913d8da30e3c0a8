/** Validation of RPC results against execution-apis' OpenRPC result schemas (for `// speconly` fixtures). */
import { Ajv, type ValidateFunction } from 'ajv'
import { readOpenRpc } from './executionApis.js'

let ajv: Ajv | undefined

/** A validator for the result of `method`, with `#/components/schemas/…` references resolved in the document. */
export function openRpcValidator(method: string): ValidateFunction {
  const doc = readOpenRpc()
  if (ajv === undefined) {
    ajv = new Ajv({ strict: false, allErrors: true })
    ajv.addSchema({ components: doc.components }, 'openrpc')
  }
  const entry = doc.methods.find((m) => m.name === method)
  if (entry === undefined) throw new Error(`${method} is not in the OpenRPC document`)
  // Resolve the document's local references against the schema registered as 'openrpc'.
  const schema = JSON.parse(JSON.stringify(entry.result.schema).replaceAll('"#/components/', '"openrpc#/components/'))
  return ajv.compile(schema)
}
