import { verifyMerkleProof } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt, bytesToHex, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { createPublicClient, createWalletClient, encodeAbiParameters, http, keccak256, parseEther, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCrypto } from '../../src/crypto/index.js'
import { DEV_ACCOUNTS } from '../../src/genesis/index.js'
import type { PolisNode } from '../../src/node.js'
import { devChain, removeDir, rpc, startNode, tempDir } from '../helpers/node.js'
import { compileContract } from '../helpers/solc.js'

const crypto = createCrypto()
const deployer = privateKeyToAccount(DEV_ACCOUNTS[0].privateKey)
const token = compileContract('Token.sol', 'Token')

interface RpcProof {
  address: string
  balance: string
  nonce: string
  codeHash: string
  storageHash: string
  accountProof: string[]
  storageProof: { key: string; value: string; proof: string[] }[]
}

/** Checks a proof the way a light client would: from the root hash down, with @ethereumjs/mpt's verifier. */
async function provenValue(root: string, key: Uint8Array, proof: string[]): Promise<Uint8Array | null> {
  const nodes = proof.map((p) => hexToBytes(p as `0x${string}`))
  if (nodes.length > 0) expect(bytesToHex(crypto.keccak256(nodes[0]))).toBe(root)
  return verifyMerkleProof(crypto.keccak256(key), nodes)
}

describe('state proofs and storage reads', () => {
  let dir: string
  let node: PolisNode
  let tokenAddress: `0x${string}`
  const call = async <T>(method: string, params: unknown[] = []) => {
    const res = await rpc(node.rpc.url, method, params)
    if (res.error) throw Object.assign(new Error(res.error.message), { code: res.error.code })
    return res.result as T
  }

  beforeAll(async () => {
    dir = tempDir('polis-proofs-')
    node = await startNode({ datadir: dir })
    const url = node.rpc.url
    const client = createPublicClient({ chain: devChain(url), transport: http(url), pollingInterval: 100 })
    const wallet = createWalletClient({ account: deployer, chain: devChain(url), transport: http(url) })
    const hash = await wallet.deployContract({ abi: token.abi, bytecode: token.bytecode, args: [parseEther('1000')] })
    tokenAddress = (await client.waitForTransactionReceipt({ hash, timeout: 20_000 })).contractAddress!
  })

  afterAll(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('eth_getProof: the account and two storage slots verify against the block state root', async () => {
    const block = await call<{ number: string; stateRoot: string }>('eth_getBlockByNumber', ['latest', false])
    // Slot 0: totalSupply; balanceOf[deployer] lives at keccak(deployer . 1).
    const balanceSlot = keccak256(
      encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [deployer.address, 1n]),
    )
    const proof = await call<RpcProof>('eth_getProof', [tokenAddress, ['0x0', balanceSlot], block.number])
    expect(proof.address).toBe(tokenAddress.toLowerCase())
    const account = await provenValue(block.stateRoot, hexToBytes(tokenAddress), proof.accountProof)
    expect(account).not.toBeNull()
    const [nonce, balance, storageRoot, codeHash] = RLP.decode(account as Uint8Array) as Uint8Array[]
    expect(toHex(bytesToBigInt(nonce))).toBe(proof.nonce)
    expect(toHex(bytesToBigInt(balance))).toBe(proof.balance)
    expect(bytesToHex(storageRoot)).toBe(proof.storageHash)
    expect(bytesToHex(codeHash)).toBe(proof.codeHash)
    for (const entry of proof.storageProof) {
      expect(entry.value).toBe(toHex(parseEther('1000')))
      const slot = setLengthLeft(hexToBytes(entry.key as `0x${string}`), 32)
      const stored = await provenValue(proof.storageHash, slot, entry.proof)
      expect(bytesToBigInt(RLP.decode(stored as Uint8Array) as Uint8Array)).toBe(parseEther('1000'))
    }
  })

  it('eth_getProof of an absent account proves its absence, with zero slots', async () => {
    const nobody = `0x${'ab'.repeat(20)}`
    const block = await call<{ stateRoot: string }>('eth_getBlockByNumber', ['latest', false])
    const proof = await call<RpcProof>('eth_getProof', [nobody, ['0x1'], 'latest'])
    expect(proof).toMatchObject({ balance: '0x0', nonce: '0x0', storageProof: [{ value: '0x0', proof: [] }] })
    expect(await provenValue(block.stateRoot, hexToBytes(nobody as `0x${string}`), proof.accountProof)).toBeNull()
  })

  it('eth_getStorageValues matches eth_getStorageAt; eth_blobBaseFee answers the minimum', async () => {
    const values = await call<Record<string, string[]>>('eth_getStorageValues', [
      { [tokenAddress]: ['0x0', '0x5'] },
      'latest',
    ])
    expect(values).toEqual({
      [tokenAddress.toLowerCase()]: [
        await call('eth_getStorageAt', [tokenAddress, '0x0', 'latest']),
        `0x${'0'.repeat(64)}`,
      ],
    })
    expect(await call('eth_blobBaseFee')).toBe('0x1')
    await expect(call('eth_getProof', [tokenAddress, Array(1025).fill('0x0'), 'latest'])).rejects.toMatchObject({
      code: -32602,
    })
  })
})
