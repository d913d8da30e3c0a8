/**
 * Result schemas of the OpenRPC spec, for `speconly` tests: hive validates such a test's result against the method's
 * `result.schema` as JSON Schema draft 2019-09. The spec's schemas point into `#/components/schemas/...`, so the
 * whole document is registered once and each method's schema is compiled, on first use, as a reference into it.
 */
import { readFileSync } from 'node:fs'
import { Ajv2019, type ValidateFunction } from 'ajv/dist/2019.js'

interface OpenRpcDocument {
  methods: { name: string; result?: { schema?: object } }[]
  components?: object
}

export interface ResultSchemas {
  /** Method names that have a result schema. */
  readonly methods: ReadonlySet<string>
  /** undefined if `result` is valid for `method`'s result schema, else the reasons (one per line). */
  validate(method: string, result: unknown): string | undefined
}

const DOCUMENT_ID = 'openrpc.json'

export function loadResultSchemas(openrpcFile: string): ResultSchemas {
  return resultSchemas(JSON.parse(readFileSync(openrpcFile, 'utf8')) as OpenRpcDocument)
}

export function resultSchemas(doc: OpenRpcDocument): ResultSchemas {
  // strict: false — the document carries OpenRPC keys (methods, info, examples…) that are not schema keywords.
  const ajv = new Ajv2019({ strict: false, allErrors: true })
  ajv.addSchema({ ...doc, $id: DOCUMENT_ID })
  const index = new Map<string, number>()
  doc.methods.forEach((m, i) => {
    if (m.result?.schema !== undefined) index.set(m.name, i)
  })
  const compiled = new Map<string, ValidateFunction>()
  return {
    methods: new Set(index.keys()),
    validate(method, result) {
      const i = index.get(method)
      if (i === undefined) return `no result schema for method ${method}`
      let check = compiled.get(method)
      if (check === undefined) {
        check = ajv.compile({ $ref: `${DOCUMENT_ID}#/methods/${i}/result/schema` })
        compiled.set(method, check)
      }
      if (check(result)) return undefined
      return (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('\n')
    },
  }
}
