import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { mergeConfig, readConfigFile } from '../../../src/config/index.js'

describe('config file', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  const write = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'polis-config-'))
    dirs.push(dir)
    const file = join(dir, 'config.toml')
    writeFileSync(file, text)
    return { dir, file }
  }

  it('reads the metrics listener ([metrics] host and port) and refuses unknown keys there', async () => {
    const config = await readConfigFile(write('[metrics]\nhost = "0.0.0.0"\nport = 9545\n').file)
    expect(config).toMatchObject({ metricsHost: '0.0.0.0', metricsPort: 9545 })
    await expect(readConfigFile(write('[metrics]\nport = 70000\n').file)).rejects.toThrow(/metrics\.port/)
    await expect(readConfigFile(write('[metrics]\nenabled = true\n').file)).rejects.toThrow(/enabled/)
  })

  it('reads every setting and resolves paths against the file', async () => {
    const { dir, file } = write(`
datadir = "data"
genesis = "/etc/polis/genesis.json"
validator-key = "keys/validator"
log-level = "debug"
[rpc]
host = "127.0.0.1"
port = 9545
apis = ["eth", "qbft"]
cors = ["https://explorer.city.example"]
[p2p]
listen = ["/ip4/127.0.0.1/tcp/30303"]
static-peers = ["/ip4/127.0.0.1/tcp/30304/p2p/16Uiu2HAmHpQnDkZkKJHm7qA5ZQwQ8fHdYzzUPovef2PxzsZGk74S"]
bootnodes = []
[qbft]
max-round-timeout-seconds = 8
[txpool]
max-slots = 50000
order = "fifo"
journal = "pool/journal.rlp"
rejournal-seconds = 600
`)
    expect(await readConfigFile(file)).toEqual({
      datadir: join(dir, 'data'),
      genesis: '/etc/polis/genesis.json',
      validatorKey: join(dir, 'keys/validator'),
      logLevel: 'debug',
      rpcHost: '127.0.0.1',
      rpcPort: 9545,
      rpcApis: ['eth', 'qbft'],
      rpcCors: ['https://explorer.city.example'],
      p2pListen: ['/ip4/127.0.0.1/tcp/30303'],
      staticPeers: ['/ip4/127.0.0.1/tcp/30304/p2p/16Uiu2HAmHpQnDkZkKJHm7qA5ZQwQ8fHdYzzUPovef2PxzsZGk74S'],
      bootnodes: [],
      maxRoundTimeoutSeconds: 8,
      txpoolMaxSlots: 50000,
      txpoolOrder: 'fifo',
      // Kept as written: the node resolves it against the data directory.
      txpoolJournal: 'pool/journal.rlp',
      txpoolRejournalSeconds: 600,
    })
  })

  it('refuses bad [txpool] values, naming the key, the value read and what is allowed', async () => {
    await expect(readConfigFile(write('[txpool]\norder = "fastest"\n').file)).rejects.toThrow(
      'txpool.order: Invalid option: expected one of "price"|"fifo" (got "fastest")',
    )
    await expect(readConfigFile(write('[txpool]\nrejournal-seconds = 0\n').file)).rejects.toThrow(
      /txpool\.rejournal-seconds: .*>0 \(got 0\)/,
    )
    await expect(readConfigFile(write('[txpool]\nrejournal-seconds = 1e10\n').file)).rejects.toThrow(
      /txpool\.rejournal-seconds: .*2147483/,
    )
    await expect(readConfigFile(write('[txpool]\njournal = false\n').file)).rejects.toThrow(
      /txpool\.journal: .*expected string.* \(got false\)/,
    )
    // An empty journal path is allowed: it turns the journal off.
    expect(await readConfigFile(write('[txpool]\njournal = ""\n').file)).toMatchObject({ txpoolJournal: '' })
  })

  it('reads the JSON-RPC limits and the admin listener, and refuses impossible values', async () => {
    const { file } = write(`
[rpc]
max-body-bytes = 1048576
max-batch-length = 100
max-response-bytes = 10000000
max-connections = 64
batch-concurrency = 4
ws-max-concurrent = 8
ws-max-queued = 0
[rpc.admin]
host = "127.0.0.1"
port = 8550
apis = ["debug", "txpool"]
`)
    expect(await readConfigFile(file)).toMatchObject({
      rpcMaxBodyBytes: 1048576,
      rpcMaxBatchLength: 100,
      rpcMaxResponseBytes: 10_000_000,
      rpcMaxConnections: 64,
      rpcBatchConcurrency: 4,
      rpcWsMaxConcurrent: 8,
      rpcWsMaxQueued: 0,
      rpcAdminHost: '127.0.0.1',
      rpcAdminPort: 8550,
      rpcAdminApis: ['debug', 'txpool'],
    })
    await expect(readConfigFile(write('[rpc]\nmax-response-bytes = 0\n').file)).rejects.toThrow(
      /rpc\.max-response-bytes/,
    )
    await expect(readConfigFile(write('[rpc.admin]\napis = ["debug"]\n').file)).rejects.toThrow(/rpc\.admin\.port/)
    await expect(readConfigFile(write('[rpc.admin]\nport = 1\nnamespaces = []\n').file)).rejects.toThrow(/namespaces/)
  })

  it('names unknown keys, wrong types and bad TOML, with the file', async () => {
    const unknown = write('datadir = "x"\nrpc-port = 8545\n')
    await expect(readConfigFile(unknown.file)).rejects.toThrow(/config\.toml: .*rpc-port/)
    const badType = write('[rpc]\nport = "8545"\n')
    await expect(readConfigFile(badType.file)).rejects.toThrow(/rpc\.port/)
    const badToml = write('[rpc\n')
    await expect(readConfigFile(badToml.file)).rejects.toThrow(/is not valid TOML/)
    await expect(readConfigFile('/nonexistent/polis.toml')).rejects.toThrow(/cannot read config file .*ENOENT/)
  })

  it('lets flags override the file', () => {
    expect(mergeConfig({ rpcPort: 1, datadir: '/a' }, { rpcPort: 2, datadir: undefined })).toEqual({
      rpcPort: 2,
      datadir: '/a',
    })
  })
})
