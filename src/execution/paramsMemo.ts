import { Common, type ParamsDict } from '@ethereumjs/common'

let installed = false

/**
 * @ethereumjs re-applies its parameter tables (a JSON deep copy plus a cache rebuild) every time a block header or
 * transaction is constructed: 40-55 % of CPU when building or importing blocks. Copies of a Common share both the
 * parameter table and its cache, so a table already merged into the cache a Common uses needs no second merge.
 * The result is identical (same blocks, same hashes); only the repeated work goes.
 */
export function installParamsMemo(common: Common, tables: ParamsDict[]): void {
  if (!installed) {
    installed = true
    patch()
  }
  // Merge the tables into the root Common once, so that every copy of it finds them applied.
  for (const table of tables) common.updateParams(table)
}

function patch(): void {
  const original = Common.prototype.updateParams
  const applied = new WeakMap<object, Set<unknown>>()
  Common.prototype.updateParams = function (this: Common, params) {
    const cache = (this as unknown as { _paramsCache: object })._paramsCache
    const done = applied.get(cache)
    if (done?.has(params)) return
    original.call(this, params)
    const after = (this as unknown as { _paramsCache: object })._paramsCache
    applied.set(after, new Set([...(done ?? []), params]))
  }
}
