/** Building a sealed dev chain quickly in-process (tests and the import benchmark): no node, no timers. */
import { createFeeMarket1559Tx, type TypedTransaction } from '@ethereumjs/tx'
import { Address, createContractAddress, hexToBytes } from '@ethereumjs/util'
import { encodeDeployData, encodeFunctionData } from 'viem'
import { createCommitSeal, encodeExtraData, ISTANBUL_MIX_HASH } from '../../src/consensus/qbft/index.js'
import { createCrypto } from '../../src/crypto/index.js'
import { DEV_VALIDATOR } from '../../src/genesis/index.js'
import { attachConsensus, openChain } from '../../src/open.js'
import { compileContract } from './solc.js'

export interface BuiltChain {
  head: bigint
  hash: Uint8Array
  stateRoot: Uint8Array
  /** The ERC-20 (test/fixtures/contracts/Token.sol) deployed in block 1, when asked for. */
  token?: { address: Uint8Array; holder: Uint8Array }
}

/** ERC-20 traffic: the token is deployed in block 1 by `holderKey`, who then sends `transfersPerBlock` transfers
 * (each emitting a Transfer log) to the senders in every `everyBlocks`-th block. */
export interface Erc20Traffic {
  holderKey: Uint8Array
  everyBlocks: number
  transfersPerBlock: number
}

/**
 * Appends `blocks` blocks to the chain in `datadir` (a genesis whose validator is the dev validator), each holding
 * `transfersPerBlock` transfers from `senderKeys` in turn (funded in the genesis). Closes the database when done.
 */
export async function buildDevChain(
  datadir: string,
  genesisFile: string,
  opts: {
    blocks: number
    transfersPerBlock: number
    senderKeys: readonly Uint8Array[]
    erc20?: Erc20Traffic
    onBlock?: (n: number) => void
  },
): Promise<BuiltChain> {
  const crypto = createCrypto()
  const opened = await openChain(datadir, genesisFile, crypto)
  const { spec, chain, execution, db } = opened
  const { rules } = attachConsensus(opened, crypto)
  const validatorKey = hexToBytes(DEV_VALIDATOR.privateKey)
  const keys = opts.senderKeys
  const nonces = new Array<bigint>(keys.length).fill(0n)
  let sent = 0
  const erc20 = opts.erc20
  const holder = erc20 ? crypto.privateKeyToAddress(erc20.holderKey) : undefined
  const tokenAddress = holder ? createContractAddress(new Address(holder), 0n).bytes : undefined
  let holderNonce = 0n
  try {
    for (let b = 0; b < opts.blocks; b++) {
      const parent = chain.head
      const baseFeePerGas = parent.header.calcNextBaseFee()
      const txs: TypedTransaction[] = []
      if (erc20 && holder && tokenAddress) {
        const fees = { maxFeePerGas: baseFeePerGas * 2n + 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n }
        const token = compileContract('Token.sol', 'Token')
        if (b === 0) {
          const data = encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: [10n ** 30n] })
          const deploy = { ...fees, chainId: spec.chainId, nonce: holderNonce++, gasLimit: 2_000_000n, data }
          txs.push(createFeeMarket1559Tx(deploy, { common: spec.common }).sign(erc20.holderKey))
        } else if ((b + 1) % erc20.everyBlocks === 0) {
          for (let i = 0; i < erc20.transfersPerBlock; i++) {
            const to = crypto.privateKeyToAddress(keys[(b + i) % keys.length])
            const data = encodeFunctionData({
              abi: token.abi,
              functionName: 'transfer',
              args: [`0x${Buffer.from(to).toString('hex')}`, BigInt(b + i + 1)],
            })
            const transfer = { ...fees, chainId: spec.chainId, nonce: holderNonce++, gasLimit: 100_000n, data }
            txs.push(
              createFeeMarket1559Tx({ ...transfer, to: new Address(tokenAddress) }, { common: spec.common }).sign(
                erc20.holderKey,
              ),
            )
          }
        }
      }
      for (let i = 0; i < opts.transfersPerBlock; i++, sent++) {
        const s = sent % keys.length
        txs.push(
          createFeeMarket1559Tx(
            {
              chainId: spec.chainId,
              nonce: nonces[s]++,
              maxFeePerGas: baseFeePerGas * 2n + 10n ** 9n,
              maxPriorityFeePerGas: 10n ** 9n,
              gasLimit: 21_000n,
              to: new Address(crypto.privateKeyToAddress(keys[(s + 1) % keys.length])),
              value: 1n,
            },
            { common: spec.common },
          ).sign(keys[s]),
        )
      }
      const built = await execution.buildBlock(
        parent,
        {
          timestamp: parent.header.timestamp + 1n,
          gasLimit: parent.header.gasLimit,
          baseFeePerGas,
          coinbase: new Address(hexToBytes(DEV_VALIDATOR.address)),
          difficulty: 1n,
          mixHash: ISTANBUL_MIX_HASH,
          nonce: new Uint8Array(8),
          extraData: encodeExtraData({
            vanity: new Uint8Array(32),
            validators: await rules.validatorsAfter(parent),
            vote: undefined,
            round: 0,
            committedSeals: [],
          }),
        },
        txs,
      )
      if (built.rejected.length > 0) throw new Error(`block ${b + 1}: ${built.rejected[0].reason}`)
      const seal = createCommitSeal(built.block.header, 0, validatorKey, crypto)
      await chain.importBlock({ block: built.block, seals: { round: 0, committedSeals: [seal] } }, built)
      opts.onBlock?.(b + 1)
    }
    const head = chain.head
    const token = tokenAddress && holder ? { address: tokenAddress, holder } : undefined
    return {
      head: head.header.number,
      hash: head.hash(),
      stateRoot: head.header.stateRoot,
      ...(token ? { token } : {}),
    }
  } finally {
    await db.close()
  }
}

/** Deterministic private keys for funded test senders. */
export function senderKeys(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const key = new Uint8Array(32)
    key[0] = 0x42
    new DataView(key.buffer).setUint32(28, i + 1)
    return key
  })
}
