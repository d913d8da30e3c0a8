import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToBigInt } from '@ethereumjs/util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCrypto } from '../../../src/crypto/index.js'
import { MetaKey, Prefix, SCHEMA_VERSION } from '../../../src/db/index.js'
import { DEV_GENESIS_FILE } from '../../../src/genesis/index.js'
import { attachConsensus, openChain } from '../../../src/open.js'
import { buildDevChain, senderKeys } from '../../helpers/chain.js'
import { tempDir } from '../../helpers/node.js'

const crypto = createCrypto()

describe('schema version of a data directory', () => {
  let dir: string
  let datadir: string

  beforeEach(() => {
    dir = tempDir('polis-schema-')
    datadir = join(dir, 'data')
  })

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  const setSchema = async (version: number | undefined) => {
    const opened = await openChain(datadir, DEV_GENESIS_FILE, crypto)
    if (version === undefined) opened.db.del(Prefix.Meta, MetaKey.SchemaVersion)
    else opened.db.put(Prefix.Meta, MetaKey.SchemaVersion, Uint8Array.of(version))
    await opened.db.commit()
    await opened.db.close()
  }

  const storedSchema = async () => {
    const opened = await openChain(datadir, DEV_GENESIS_FILE, crypto)
    const value = await opened.db.get(Prefix.Meta, MetaKey.SchemaVersion)
    await opened.db.close()
    return value === undefined ? undefined : Number(bytesToBigInt(value))
  }

  it('records the current version in a new directory, and brings an old one without blocks up to date', async () => {
    expect(await storedSchema()).toBe(SCHEMA_VERSION)
    await setSchema(undefined)
    expect(await storedSchema()).toBe(SCHEMA_VERSION)
  })

  it('refuses to run on blocks written without the indexes, but still lets them be exported', async () => {
    // Empty blocks are enough: what matters is a head above genesis written without the indexes.
    await buildDevChain(datadir, DEV_GENESIS_FILE, { blocks: 2, transfersPerBlock: 0, senderKeys: senderKeys(1) })
    await setSchema(undefined)
    const opened = await openChain(datadir, DEV_GENESIS_FILE, crypto)
    try {
      expect(opened.chain.head.header.number).toBe(2n)
      expect(await opened.chain.getBlockByNumber(1n)).toBeDefined()
      expect(() => attachConsensus(opened, crypto)).toThrow(
        /holds 2 blocks written by an older Polis \(schema version 0, this one needs 1\).*polis export.*polis import/s,
      )
    } finally {
      await opened.db.close()
    }
  })

  it('refuses a directory from a newer version', async () => {
    await setSchema(SCHEMA_VERSION + 1)
    await expect(openChain(datadir, DEV_GENESIS_FILE, crypto)).rejects.toThrow(/newer Polis/)
  })
})
