// Docker HEALTHCHECK of the Polis image (no curl in slim images): healthy when the JSON-RPC endpoint answers
// eth_blockNumber. POLIS_HEALTHCHECK_URL overrides the endpoint (default http://127.0.0.1:8545).
const url = process.env.POLIS_HEALTHCHECK_URL || 'http://127.0.0.1:8545'
try {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
    signal: AbortSignal.timeout(4000),
  })
  const body = await res.json()
  if (typeof body.result !== 'string') throw new Error(`unexpected answer ${JSON.stringify(body)}`)
  console.log(`healthy: head ${Number(body.result)}`)
  process.exit(0)
} catch (e) {
  console.error(`unhealthy: ${url}: ${e.message}`)
  process.exit(1)
}
